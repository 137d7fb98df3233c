"""Heartbeats and the watchdog, driven by beat.

Beat sends `heartbeat` to the worker (queue celery) every HEARTBEAT_EVERY seconds and records
"beat alive at T" as it sends it (the `before_task_publish` hook below runs in the beat process).
The worker records "worker:celery alive at T" and, while a browser account is active, passes a
`browser_heartbeat` on to the browser worker, which records "worker:browser alive at T". So a dead
beat, worker and browser worker are told apart, and nothing is sent to a browser queue nobody
needs to serve. Heartbeat messages expire, so a worker that was down for an hour does not run a
backlog of them when it comes back.

`watchdog` (celery queue) runs the readiness checks and turns failures into alerts, resolving
them when they pass again. It cannot report its own worker or beat dying; `/readyz`, probed from
outside (load balancer, uptime monitor, Prometheus), reports those (see ops.views).
"""

import logging

from celery import current_task, shared_task
from celery.signals import before_task_publish
from django.conf import settings

from ops import alerts, health

logger = logging.getLogger(__name__)

HEARTBEAT_TASK = "ops.tasks.heartbeat"


def _record(queue: str) -> None:
    health.record_heartbeat(health.worker_component(queue), hostname=current_task.request.hostname or "")


@shared_task(name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat() -> None:
    """Beat -> the worker; passed on to the browser worker while a browser account is active."""
    _record("celery")
    if health.browser_worker_needed():
        browser_heartbeat.apply_async(queue=settings.BROWSER_QUEUE, expires=settings.HEARTBEAT_MAX_AGE)


@shared_task(name="ops.tasks.browser_heartbeat", ignore_result=True)
def browser_heartbeat() -> None:
    _record(settings.BROWSER_QUEUE)


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
