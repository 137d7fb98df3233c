"""The Celery app: Redis broker in production, Kombu's in-memory transport when embedded."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging, task_postrun
from django.conf import settings
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")

app = Celery("tradedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**_) -> None:
    """Workers and beat log as the web processes do: Django's LOGGING, at LOG_LEVEL. Without
    this receiver Celery sets the root logger to its `--loglevel` (INFO in our commands), so
    LOG_LEVEL=WARNING still wrote a line per venue request and per order from every worker."""
    logging.config.dictConfig(settings.LOGGING)


@task_postrun.connect
def _database_after_task(sender=None, **_) -> None:
    """After each task, as after each web request: the task's connection goes back to the pool
    (settings: CELERY_DB_REUSE_MAX keeps Celery from closing the whole pool per task). A task
    whose connection broke (PostgreSQL restarted, the network cut) closes the pool: its idle
    connections broke with it, and the next task starts from fresh ones. A task run in the
    caller's process (`apply()`, eager) leaves the caller's connection alone, as Celery does."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # closing it would end the transaction it is in
        pooled = bool(conn.settings_dict.get("OPTIONS", {}).get("pool"))
        if pooled and conn.connection is not None and conn.errors_occurred and not conn.is_usable():
            conn.close()
            conn.close_pool()
        else:
            conn.close_if_unusable_or_obsolete()
