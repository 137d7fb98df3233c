"""The production serving shape, as `make web` starts it (README "Production"): one uvicorn
command whose app answers HTTP through Django's WSGI handler in a thread pool and the /ws/
sockets through Channels, on the same port; a signal posted over HTTP reaches an open socket."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys

import httpx
import pytest
import websockets

from tests.test_embedded import free_port
from tests.test_hardening_proxy import BASE_DIR, PASSWORD, _env, _manage, _wait_for_port, make_web_command


@pytest.fixture
def web(tmp_path):
    env = {**_env(tmp_path), "WEB_THREADS": "4"}
    _manage(env, "migrate", "--noinput")
    _manage(env, "create_desk_user", "vera", "--role", "viewer", "--password", PASSWORD)
    key = (
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "create_api_key", "shape"],
            env=env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            make_web_command(port, tmp_path),
            env=env,
            cwd=BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_port(process, port, log)
        yield f"127.0.0.1:{port}", key
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def session_cookie(base: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        client.post(
            "/login/",
            data={"username": "vera", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/signals/"},
            headers={"Referer": f"{base}/login/"},
        )
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def post_and_receive(address: str, key: str, cookie: str) -> tuple[httpx.Response, dict]:
    headers = {"Cookie": cookie, "Origin": f"http://{address}"}
    async with websockets.connect(f"ws://{address}/ws/signals", additional_headers=headers) as socket:
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as client:
            response = await client.post(
                "/api/signals",
                json={"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "0.5", "strategy_name": "shape"},
                headers={"X-API-KEY": key, "Idempotency-Key": "shape-1"},
            )
        while True:
            event = json.loads(await asyncio.wait_for(socket.recv(), timeout=20))
            if event["type"] == "signal_created":
                return response, event


def test_make_web_answers_http_and_websockets_on_one_port_and_events_reach_the_socket(web):
    address, key = web
    assert httpx.get(f"http://{address}/healthz", timeout=30).json() == {"status": "ok"}
    response, event = asyncio.run(post_and_receive(address, key, session_cookie(f"http://{address}")))
    assert response.status_code == 201
    assert response.headers["X-Request-ID"]
    assert event["data"] == response.json()
