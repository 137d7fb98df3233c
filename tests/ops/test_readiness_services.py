"""/readyz against real servers going away and coming back: a throwaway redis-server that is
stopped and started again, PostgreSQL behind a TCP proxy that is cut and restored (the machine's
shared PostgreSQL and Redis are never stopped), and a browser session that needs a person. The
desk runs as in production: uvicorn, a Celery worker and beat, each its own process, all of them
reaching PostgreSQL through the proxy."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection

from executor.health import venue_session_record
from executor.models import ExchangeAccount
from tests.ops.conftest import AlertReceiver
from tests.test_embedded import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TOKEN = "ops-readyz-token-0123456789"


class RedisServer:
    """A redis-server of our own, on its own port, with nothing kept on disk."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is needed for this test (apt-get install redis-server)")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _connectable(self.port), "redis-server to listen")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class TcpProxy:
    """127.0.0.1:<port> forwarded to PostgreSQL; `cut` closes the port and every open connection,
    as a stopped server would; `restore` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept()
            except OSError:
                pass
            listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                if self.listener is not listener:
                    # Cut while this connection was being made: a cut leaves no connection open.
                    client.close()
                    server.close()
                    return
                self.sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown() first: a close() alone leaves the socket open while the other pipe
            # thread still waits in recv() on it, and PostgreSQL would never see the end.
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            with self.lock:
                self.sockets.difference_update((source, sink))


def _connectable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def database_url(port: int | None = None) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@127.0.0.1:{port or db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def desk(tmp_path, trader, settings):
    """Web (uvicorn), worker and beat processes on a throwaway Redis, reaching PostgreSQL
    through the proxy."""
    redis_server = RedisServer()
    redis_server.start()
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    proxy.restore()
    receiver = AlertReceiver()
    # This process records browser session states (as the browser worker would): same receiver.
    settings.ALERT_URLS, settings.DESK_ENV = [receiver.url], "services-test"
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "true",
        # Every process reaches PostgreSQL through the proxy: an outage is the same for all of them
        # (a worker that still saw the database would resolve the web's incident while it lasts).
        "DATABASE_URL": database_url(proxy.port),
        "REDIS_URL": redis_server.url,
        "VAR_DIR": str(tmp_path),
        "HEARTBEAT_EVERY": "1",
        "HEARTBEAT_MAX_AGE": "6",
        "WATCHDOG_EVERY": "2",
        "READYZ_TIMEOUT": "2",
        "DB_POOL_TIMEOUT": "3",
        "METRICS_TOKEN": TOKEN,
        "ALERT_URLS": receiver.url,
        "ALERT_DEDUP_SECONDS": "600",
        "DESK_ENV": "services-test",
        "LOG_LEVEL": "WARNING",
    }
    commands = {
        "web": [sys.executable, "-m", "uvicorn", "tradedesk.asgi:application", "--port", str(port)],
        "worker": [sys.executable, "-m", "celery", "-A", "tradedesk", "worker", "-Q", "celery,browser", "-P", "solo"],
        "beat": [sys.executable, "-m", "celery", "-A", "tradedesk", "beat", "-s", str(tmp_path / "beat-schedule")],
    }
    processes = {}
    for name, command in commands.items():
        processes[name] = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"{name}.log", "w"),  # noqa: SIM115 (closed with the process)
        )
    wait_until(lambda: _connectable(port), "the web server to listen")
    account = ExchangeAccount.objects.create(owner=trader, label="paper-browser", venue="paper", connector="browser")
    yield {"port": port, "redis": redis_server, "proxy": proxy, "receiver": receiver, "account": account}
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    proxy.cut()
    redis_server.stop()
    receiver.close()


def readyz(port: int) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def failing(port: int) -> set[str]:
    status, body = readyz(port)
    names = {name for name, check in body["checks"].items() if not check["ok"]}
    assert (status == 200) == (not names), body
    return names


def alerted(port: int, receiver, prefix: str) -> bool:
    """Probe /readyz (whose background report is one way an outage gets reported), then look
    for an alert whose title starts with `prefix`."""
    readyz(port)
    return any(title.removeprefix("[TradeDesk services-test] ").startswith(prefix) for title in receiver.titles())


def test_readyz_follows_redis_postgresql_and_the_browser_session_down_and_back(desk):
    port, receiver = desk["port"], desk["receiver"]
    wait_until(lambda: not failing(port), "the desk to be ready (heartbeats from the worker and beat)")

    desk["redis"].stop()
    redis_checks = {"broker", "cache", "channel_layer"}
    down = wait_until(lambda: (lambda f: f if f >= redis_checks else None)(failing(port)), "the Redis outage to show")
    assert "database" not in down
    # A probe reports what it sees in the background, one report at a time per process: the
    # outage is reported while it lasts (not necessarily by the first probe that saw it).
    wait_until(lambda: alerted(port, receiver, "broker failing"), "the Redis outage's alert", timeout=30)
    desk["redis"].start()  # empty: the heartbeats must come again from the worker and beat
    wait_until(lambda: not failing(port), "the desk to be ready again after Redis returned", timeout=90)

    desk["proxy"].cut()
    status, body = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(readyz(port)), "the database outage")
    assert not body["checks"]["database"]["ok"]
    down = {name for name, check in body["checks"].items() if not check["ok"]}
    assert down <= {"database", "browser", "browser_worker"}  # the checks that read the database
    wait_until(lambda: alerted(port, receiver, "database failing"), "the database outage's alert", timeout=30)
    desk["proxy"].restore()
    wait_until(lambda: not failing(port), "the desk to be ready again after PostgreSQL returned")

    account = desk["account"]
    venue_session_record(account_id=account.pk, state="needs_login", detail="logged out by the venue")
    assert wait_until(lambda: failing(port) == {"browser"}, "the logged-out session to show")
    status, body = readyz(port)
    assert body["checks"]["browser"]["detail"] == "paper-browser: needs_login (logged out by the venue)"
    venue_session_record(account_id=account.pk, state="logged_in", detail="logged in")
    wait_until(lambda: not failing(port), "the desk to be ready once logged in again")

    # Every incident was reported once, by whichever process saw it first. While Redis itself
    # was down each process could only deduplicate in its own memory: at most once per process.
    receiver.wait_for(6)
    time.sleep(1)
    counts = Counter(title.removeprefix("[TradeDesk services-test] ") for title in receiver.titles())
    during_redis_outage = ("broker", "cache", "channel_layer", "worker", "beat", "browser_worker")
    # The heartbeats pass from beat through the worker (which reads the database to know whether
    # a browser account is active) to the browser worker: the database outage stops them too,
    # a second incident of their own, reported once.
    heartbeats = ("worker", "beat", "browser_worker")
    for title, n in counts.items():
        subject = title.removeprefix("Resolved: ").split(" ")[0]
        allowed = (2 if subject in during_redis_outage else 1) + (1 if subject in heartbeats else 0)
        assert n <= allowed, (counts, receiver.sequence())  # the sequence: to tell a flap from a repeat
    assert any(title.startswith("broker failing") for title in counts), counts
    assert any(title.startswith("database failing") for title in counts), counts
    assert "Exchange account paper-browser needs a login" in counts
    assert "Resolved: broker is healthy again" in counts
    assert "Resolved: database is healthy again" in counts
    assert "Resolved: Exchange account paper-browser is logged in again" in counts
