"""The embedded desk: one process serving HTTP and WebSockets, with a Celery worker and beat
inside it on Kombu's in-memory transport, so no external service is needed."""

import logging
import os
import threading
import time

import uvicorn
from celery.beat import EmbeddedService
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tradedesk.celery import app as celery_app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the whole desk in one process (embedded mode: no REDIS_URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=4, help="Worker threads for tasks.")

    def handle(self, *args, host: str, port: int, concurrency: int, **options) -> None:
        if not settings.EMBEDDED:
            raise CommandError(
                "REDIS_URL is set: run the web, worker and beat processes instead "
                "(make web / make worker / make beat, or docker compose up)."
            )
        # The paper exchange is served by this same process: point the profile and the API
        # connector at it unless told otherwise.
        os.environ.setdefault("PAPER_BASE_URL", f"http://{host}:{port}/paper")
        settings.PAPER_BASE_URL = os.environ["PAPER_BASE_URL"]
        config = uvicorn.Config("tradedesk.asgi:application", host=host, port=port, log_level="info", lifespan="off")
        server = uvicorn.Server(config)
        # Uvicorn skips signal handlers off the main thread; the worker below owns Ctrl-C.
        web = threading.Thread(target=server.run, name="web", daemon=True)
        web.start()
        while not server.started:
            if not web.is_alive():
                raise CommandError(f"the web server could not start on {host}:{port} (see the error above)")
            time.sleep(0.05)
        beat = EmbeddedService(celery_app, thread=True)
        beat.start()
        self.stdout.write(f"TradeDesk (embedded) on http://{host}:{port}/  (Ctrl-C stops it)")
        try:
            # One worker takes both queues; browser calls still run on the single browser thread.
            worker = celery_app.Worker(
                pool="threads",
                concurrency=concurrency,
                loglevel="INFO",
                quiet=True,
                queues=["celery", settings.BROWSER_QUEUE],
            )
            worker.start()
        finally:
            from executor.browser.host import host

            host.shutdown()
            beat.stop()
            server.should_exit = True
            web.join(timeout=10)
