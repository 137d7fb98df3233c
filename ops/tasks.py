"""Heartbeats and the watchdog, driven by beat.

Beat sends `heartbeat` to every queue (celery and browser) every HEARTBEAT_EVERY seconds. The
worker that runs it records "worker:<queue> alive at T"; beat records "beat alive at T" as it
sends the message (the `before_task_publish` hook below runs in the beat process), so a dead beat
and a dead worker are told apart. Heartbeat messages expire, so a worker that was down for an
hour does not run a backlog of them when it comes back.

`watchdog` (celery queue) runs the readiness checks and turns failures into alerts, resolving
them when they pass again. It cannot report its own worker or beat dying; `/readyz`, probed from
outside (load balancer, uptime monitor, Prometheus), reports those (see ops.views).
"""

import logging

from celery import shared_task
from celery.signals import before_task_publish

from ops import alerts, health

logger = logging.getLogger(__name__)

HEARTBEAT_TASK = "ops.tasks.heartbeat"


@shared_task(name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat(queue: str) -> None:
    from celery import current_task

    health.record_heartbeat(health.worker_component(queue), hostname=current_task.request.hostname or "")


@before_task_publish.connect
def _beat_sent_a_heartbeat(sender: str | None = None, **kwargs) -> None:
    # Only beat sends heartbeats; this runs in the process that publishes them.
    if sender != HEARTBEAT_TASK:
        return
    try:
        health.record_heartbeat(health.BEAT)
    except Exception:  # the cache (Redis) is down: readiness reports that; publishing goes on
        logger.warning("could not record beat's heartbeat", exc_info=True)


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def watchdog() -> None:
    """Beat: run the readiness checks; alert on failures, resolve the ones that recovered."""
    report = health.readiness()
    alerts.alert_readiness(checks=report["checks"])
