"""The Celery app: Redis broker in production, Kombu's in-memory transport when embedded."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

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
