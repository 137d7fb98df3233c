"""Which Celery workers may open browsers: only those that consume a browser queue.

A browser queue is BROWSER_QUEUE ("browser") or a name starting with it and a dash
("browser-eu", "browser-2"): the value of an exchange account's browser_queue. Any other
worker (the regular `celery` one) refuses every browser call, so a task routed there by mistake
fails fast instead of starting a Chromium on an account that a browser worker already owns.
"""

from __future__ import annotations

import logging

from celery import signals
from django.conf import settings

from executor.browser.host import host

logger = logging.getLogger(__name__)


def is_browser_queue(name: str) -> bool:
    return name == settings.BROWSER_QUEUE or name.startswith(f"{settings.BROWSER_QUEUE}-")


@signals.worker_init.connect
def refuse_browsers_outside_browser_workers(sender=None, **kwargs) -> None:
    try:
        queues = sorted(sender.app.amqp.queues.consume_from)
    except AttributeError:  # not a WorkController (nothing to decide)
        return
    if any(is_browser_queue(name) for name in queues):
        logger.info("browser worker: serves the browser accounts of queue(s) %s", ", ".join(queues))
        return
    host.refuse(f"this Celery worker consumes {', '.join(queues)}, no browser queue: it never opens a browser")
