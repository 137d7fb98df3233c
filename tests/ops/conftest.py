"""Shared by the operations tests: a local alert receiver and live heartbeats."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from ops import alerts, health
from tests.executor.test_browser_executor import browser_dirs, venue  # noqa: F401 (fixtures for the browser test)


class AlertReceiver:
    """A tiny HTTP server that apprise's json:// notifier posts to; keeps every message."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.arrivals: list[float] = []  # time.monotonic() of each message, for failure reports
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.messages.append(json.loads(body))
                receiver.arrivals.append(time.monotonic())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def titles(self) -> list[str]:
        return [message["title"] for message in self.messages]

    def sequence(self) -> list[str]:
        """Each message as "+<seconds after the first> <title>", in arrival order."""
        start = self.arrivals[0] if self.arrivals else 0.0
        return [f"+{at - start:.2f}s {m['title']}" for at, m in zip(self.arrivals, self.messages, strict=False)]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.titles()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def clean_cache():
    """Each test starts with no heartbeats and no alert claims (autouse: before the fixtures
    below record anything)."""
    cache.clear()
    alerts._local_claims.clear()
    yield
    cache.clear()
    alerts._local_claims.clear()


@pytest.fixture
def receiver(settings):
    receiver = AlertReceiver()
    settings.ALERT_URLS = [receiver.url]
    settings.DESK_ENV = "test"
    yield receiver
    receiver.close()


@pytest.fixture
def alive():
    """Beat, the worker and the browser worker have all just sent their heartbeats."""

    def beat_round() -> None:
        health.record_heartbeat(health.BEAT)
        for queue in ("celery", "browser"):
            health.record_heartbeat(health.worker_component(queue))

    beat_round()
    return beat_round


def age_heartbeats(seconds: float) -> None:
    """Make every recorded heartbeat `seconds` older, as if that long had passed."""
    for component in (health.BEAT, health.worker_component("celery"), health.worker_component("browser")):
        value = cache.get(health.heartbeat_key(component))
        if value:
            cache.set(health.heartbeat_key(component), {**value, "at": value["at"] - seconds}, timeout=None)


def age_missing_heartbeats(seconds: float) -> None:
    """Make the desk have noticed the missing heartbeats `seconds` earlier than it did."""
    for component in (health.BEAT, health.worker_component("celery"), health.worker_component("browser")):
        name = health._missing_key(component)
        since = cache.get(name)
        if since:
            cache.set(name, since - seconds, timeout=None)
