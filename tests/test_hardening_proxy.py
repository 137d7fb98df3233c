"""A forged X-Forwarded-For neither dodges nor lifts the login lockout, against the real server
processes: `make web` (uvicorn, as production runs it) and `rundesk` (as `make run` runs it).

Uvicorn trusts proxy headers from 127.0.0.1 unless told not to, which made every forged address
a new client for django-axes; the desk reads X-Forwarded-For itself, only with TRUSTED_PROXY_COUNT.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from desk.livedesk import migrate_sqlite
from tests.test_embedded import free_port

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "a-long-desk-password-1234"
FAILURE_LIMIT = 3


def _env(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DEBUG": "true",
            "VAR_DIR": str(var_dir),
            "AXES_FAILURE_LIMIT": str(FAILURE_LIMIT),
            "TRUSTED_PROXY_COUNT": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _manage(env: dict, *args: str) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr


def _wait_for_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not listen within 90 s: {log.read_text()[-3000:]}")


def make_web_command(port: int, var_dir: Path) -> list[str]:
    # -o: never reinstall the venv from here (requirements.txt may be newer than the stamp).
    return [
        *("make", "-o", ".venv/.installed", "web", "HOST=127.0.0.1", f"PORT={port}", "WEB_WORKERS=1"),
        f"PROMETHEUS_MULTIPROC_DIR={var_dir / 'prometheus'}",
    ]


def rundesk_command(port: int, var_dir: Path) -> list[str]:
    return [sys.executable, "manage.py", "rundesk", "--host", "127.0.0.1", "--port", str(port), "--concurrency", "1"]


@pytest.fixture(params=[make_web_command, rundesk_command], ids=["make-web", "rundesk"])
def server(request, tmp_path):
    env = _env(tmp_path)
    migrate_sqlite(env)  # once per test process, copied after
    _manage(env, "create_desk_user", "tina", "--role", "trader", "--password", PASSWORD)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            request.param(port, tmp_path),
            env=env,
            cwd=BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and its uvicorn in one group, stopped together below
        )
    try:
        _wait_for_port(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def login(base: str, password: str, forwarded_for: str) -> int:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/login/",
            data={"username": "tina", "password": password, "csrfmiddlewaretoken": token, "next": "/signals/"},
            headers={"X-Forwarded-For": forwarded_for, "Referer": f"{base}/login/"},
        )
        return response.status_code


def test_a_new_forged_forwarded_for_per_attempt_does_not_escape_the_lockout(server):
    statuses = [login(server, "wrong", f"198.51.100.{n}") for n in range(1, FAILURE_LIMIT + 3)]
    # The failures before the limit show the form again (200); the one that reaches it and every
    # one after it are answered as locked (429).
    assert statuses[: FAILURE_LIMIT - 1] == [200] * (FAILURE_LIMIT - 1), statuses
    assert set(statuses[FAILURE_LIMIT - 1 :]) == {429}, statuses


def test_a_locked_out_user_stays_locked_with_the_right_password_and_a_forged_address(server):
    assert [login(server, "wrong", "127.0.0.1") for _ in range(FAILURE_LIMIT)][-1] == 429
    assert login(server, PASSWORD, "203.0.113.99") == 429
    assert login(server, PASSWORD, "203.0.113.99, 10.0.0.1") == 429
    assert login(server, PASSWORD, "127.0.0.1") == 429


@pytest.mark.parametrize("path", ["Makefile", "Procfile", "docker-compose.yml", "Dockerfile"])
def test_every_way_to_serve_the_desk_starts_uvicorn_with_proxy_headers_off(path):
    lines = [line for line in (BASE_DIR / path).read_text().splitlines() if "tradedesk.asgi:application" in line]
    assert lines, f"no uvicorn command in {path}"
    text = (BASE_DIR / path).read_text()
    # Each command that starts uvicorn turns proxy headers off (a continuation line may carry it).
    for match in re.finditer(r"uvicorn[^\n]*tradedesk\.asgi:application(?:[^\n]*\\\n)*[^\n]*", text):
        assert "--no-proxy-headers" in match.group(0), (path, match.group(0))
