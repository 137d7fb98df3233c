"""Several web processes (uvicorn --workers 2, as `make web` runs them) count requests into one
total: PROMETHEUS_MULTIPROC_DIR, whichever process answers the scrape."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.test_embedded import free_port

TOKEN = "metrics-token-multiprocess-0123456789"


def get(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def scrape(base: str) -> dict:
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def web(tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path),
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "tradedesk.asgi:application", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/healthz") == 200:
                break
        except OSError:
            time.sleep(0.1)
    yield base, metrics_dir
    process.terminate()
    process.wait(timeout=20)


def test_requests_served_by_two_processes_add_up_in_one_scrape(web):
    base, metrics_dir = web
    route = (("method", "GET"), ("route", "/api/signals"), ("status", "401"))
    # Unauthenticated reads: answered 401 without touching the (unmigrated) database. Which
    # process accepts a connection is the kernel's choice (one fast process may take a whole
    # burst), so rounds of requests go on until both processes have answered some, within bounds.
    sent, statuses, writers = 0, set(), set()
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len(writers) < 2 and sent < 2000 and time.monotonic() < deadline:
            statuses |= set(pool.map(lambda _: get(f"{base}/api/signals"), range(60)))
            sent += 60
            writers = {path.name for path in Path(metrics_dir).glob("counter_*.db")}
    assert statuses == {401}
    assert len(writers) == 2, writers  # both processes answered some of them
    # Each scrape lands on either process; every one sees the same total.
    for _ in range(6):
        assert scrape(base)[("tradedesk_http_requests_total", route)] == sent


def test_the_open_sockets_of_a_web_process_that_died_stop_counting(tmp_path, monkeypatch):
    from ops import metrics

    monkeypatch.setattr(metrics, "MULTIPROC_DIR", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    for pid in (dead.pid, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{dead.pid}.db").write_bytes(b"")  # counters keep counting: totals
    metrics._forget_dead_processes()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"gauge_livesum_{os.getpid()}.db", f"counter_{dead.pid}.db"]
    )
