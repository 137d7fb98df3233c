"""The embedded default, as `make run` starts it: one `rundesk` process on SQLite with the
in-memory broker and channel layer, driven over real HTTP and WebSockets."""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from websockets.sync.client import connect as ws_connect

from desk.livedesk import migrate_sqlite

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class Desk:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def login(self, username: str, password: str) -> str:
        page = self.opener.open(self.base + "/admin/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}
        ).encode()
        request = urllib.request.Request(self.base + "/admin/login/", data=form, method="POST")  # noqa: S310
        request.add_header("Referer", self.base + "/admin/login/")
        self.opener.open(request, timeout=10)
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)


@pytest.fixture(scope="module")
def embedded_desk(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("embedded")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"VAR_DIR": str(tmp_path), "DEBUG": "true"})
    migrate_sqlite(env)  # once per test process, copied after
    demo = manage(env, "setup_demo")
    creds = dict(line.split("=", 1) for line in (tmp_path / "demo-credentials.txt").read_text().splitlines())
    assert creds["password"] in demo and creds["api_key"] in demo
    port = free_port()
    log = open(tmp_path / "rundesk.log", "w")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "rundesk", "--port", str(port)],
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    desk = Desk(port)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, "rundesk exited"
            assert time.monotonic() < deadline, "rundesk did not start"
            time.sleep(0.1)
    yield desk, creds, env
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_the_embedded_desk_runs_the_whole_flow_with_no_external_service(embedded_desk):
    desk, creds, env = embedded_desk
    cookie = desk.login(creds["username"], creds["password"])
    origin = {"Origin": desk.base, "Cookie": cookie}
    ws_base = desk.base.replace("http", "ws")
    with (
        ws_connect(f"{ws_base}/ws/signals", additional_headers=origin, open_timeout=10) as signals_socket,
        ws_connect(f"{ws_base}/ws/orders", additional_headers=origin, open_timeout=10) as orders_socket,
    ):
        status, signal = desk.call(
            "POST",
            "/api/signals",
            {
                "symbol": "BTC/USDT",
                "side": "BUY",
                "suggest_price": "65000",
                "suggest_qty": "0.1",
                "strategy_name": "e2e",
            },
            {"X-API-KEY": creds["api_key"]},
        )
        assert status == 201, signal
        event = json.loads(signals_socket.recv(timeout=10))
        assert (event["type"], event["data"]["id"]) == ("signal_created", signal["id"])

        token = manage(env, "create_user_token", creds["username"]).strip()
        status, order = desk.call(
            "POST",
            "/api/orders",
            {"signal_id": signal["id"], "qty": "0.1", "order_type": "LIMIT", "price": "65000"},
            {"Authorization": f"Bearer {token}"},
        )
        assert status == 201, order
        seen = []
        while not seen or seen[-1] not in ("SUCCESS", "FAILED"):
            # The first order starts the browser and logs in to the paper exchange.
            event = json.loads(orders_socket.recv(timeout=60))
            assert event["type"] == "order_updated" and event["data"]["id"] == order["id"]
            seen.append(event["data"]["status"])
        assert seen == ["SUBMITTING", "SUCCESS"]
        event = json.loads(signals_socket.recv(timeout=10))
        assert (event["type"], event["data"]["status"]) == ("signal_updated", "EXECUTED")

    status, stored = desk.call("GET", f"/api/orders/{order['id']}", headers={"Authorization": f"Bearer {token}"})
    # The embedded default places it on the paper exchange through the browser executor.
    assert stored["status"] == "SUCCESS" and stored["exchange_order_id"].startswith("P-")
    assert stored["venue"] == "browser"


def test_the_embedded_desk_refuses_anonymous_sockets(embedded_desk):
    desk, _, _ = embedded_desk
    with pytest.raises(Exception, match="403"):
        ws_connect(desk.base.replace("http", "ws") + "/ws/signals", additional_headers={"Origin": desk.base})
