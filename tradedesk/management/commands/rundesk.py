"""The embedded desk: one process serving HTTP and WebSockets, with a Celery worker and beat
inside it on Kombu's in-memory transport, so no external service is needed."""

import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import uvicorn
from celery.beat import EmbeddedService
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from executor.browser.host import host as browser_host
from tradedesk.celery import app as celery_app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the whole desk in one process (embedded mode: no REDIS_URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=4, help="Worker threads for tasks.")
        parser.add_argument(
            "--strategy",
            action="store_true",
            help="Also run the example strategy (examples/strategy.py) with the demo strategy key, so "
            "signals arrive on their own (STRATEGY_* variables tune it; API_KEY overrides the key).",
        )

    def handle(self, *args, host: str, port: int, concurrency: int, strategy: bool = False, **options) -> None:
        if not settings.EMBEDDED:
            raise CommandError(
                "REDIS_URL is set: run the web, worker and beat processes instead "
                "(make web / make worker / make beat, or docker compose up)."
            )
        # One desk per VAR_DIR: a second one would run a second worker, beat and browser on the
        # same SQLite file and browser logins. Held (flock) until this process ends, however it ends.
        self._lock = _hold_desk_lock(settings.VAR_DIR, host, port)
        # The paper exchange is served by this same process: point the profile and the API
        # connector at it unless told otherwise.
        os.environ.setdefault("PAPER_BASE_URL", f"http://{host}:{port}/paper")
        settings.PAPER_BASE_URL = os.environ["PAPER_BASE_URL"]
        # proxy_headers off: uvicorn would take the client's address from X-Forwarded-For on any
        # request from 127.0.0.1, and a forged one would dodge the login lockout (the desk reads that
        # header itself, only with TRUSTED_PROXY_COUNT set: desk/client_ip.py).
        config = uvicorn.Config(
            "tradedesk.asgi:application",
            host=host,
            port=port,
            log_level="info",
            lifespan="off",
            proxy_headers=False,
            # On stop, open sockets (live pages) get this long to close before they are cut.
            timeout_graceful_shutdown=3,
        )
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
        strategy_process = _start_strategy(host, port) if strategy else None
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
            if strategy_process is not None:
                _stop_strategy(strategy_process)
            browser_host.shutdown()
            beat.stop()
            server.should_exit = True
            web.join(timeout=10)


def _hold_desk_lock(var_dir: Path, host: str, port: int) -> TextIO:
    """VAR_DIR/rundesk.lock, locked for this process's life; names the desk already holding it."""
    handle = open(var_dir / "rundesk.lock", "a+")  # noqa: SIM115 (open while the desk runs)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "a process that has not written its address yet"
        handle.close()
        raise CommandError(
            f"another desk is already running on {var_dir}: {holder}. Stop it first (Ctrl-C in its "
            "terminal), or give this one its own VAR_DIR."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, http://{host}:{port}/\n")
    handle.flush()
    return handle


def _start_strategy(host: str, port: int) -> subprocess.Popen:
    """The example strategy as a separate process, as a real strategy would run: over HTTP."""
    credentials = settings.VAR_DIR / "demo-credentials.txt"
    api_key = os.environ.get("API_KEY", "")
    if not api_key and credentials.exists():
        saved = dict(line.split("=", 1) for line in credentials.read_text().splitlines() if "=" in line)
        api_key = saved.get("api_key", "")
    if not api_key:
        raise CommandError("--strategy needs a strategy key: run `manage.py setup_demo` first, or set API_KEY")
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a listen address)
    env = {
        **os.environ,
        "API_BASE_URL": f"http://{reachable}:{port}",
        "API_KEY": api_key,
        "PAPER_BASE_URL": f"http://{reachable}:{port}/paper",
        "STRATEGY_PARENT_PID": str(os.getpid()),  # it stops if this process dies without stopping it
        "TRADEDESK_OUTBOX": os.environ.get("TRADEDESK_OUTBOX", str(settings.VAR_DIR / "strategy-outbox.jsonl")),
    }
    process = subprocess.Popen([sys.executable, "-m", "examples.strategy"], env=env, cwd=settings.BASE_DIR)  # noqa: S603
    logger.info("example strategy started (pid %s)", process.pid)
    return process


def _stop_strategy(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
