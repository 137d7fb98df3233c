"""Serve the paper exchange alone on its own port, under uvicorn, with the standalone settings."""

import os
import sys

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

STANDALONE = "executor.paper.standalone"


class Command(BaseCommand):
    help = "Run the paper exchange alone (http://HOST:PORT/paper/), e.g. manage.py runpaper --port 8100."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, host: str, port: int, workers: int, **options) -> None:
        if settings.SETTINGS_MODULE != STANDALONE:
            # Settings are loaded once per process: start again under the standalone module.
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": STANDALONE}
            os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606
        self.stdout.write(f"Paper exchange on http://{host}:{port}/paper/  (Ctrl-C stops it)")
        # proxy_headers off, as for the desk: uvicorn would otherwise take the client's address
        # from X-Forwarded-For on any request from 127.0.0.1.
        uvicorn.run(
            "executor.paper.asgi:application",
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            lifespan="off",
            proxy_headers=False,
        )
