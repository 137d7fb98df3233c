"""`make run` twice on one var/ refuses the second desk, naming the running one; the demo setup
is idempotent: rerunning it never makes second accounts or revokes the key in use (issue 13)."""

import os
import re
import signal
import socket
import subprocess
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework_api_key.models import APIKey

from executor.models import ExchangeAccount
from executor.paper.models import PaperAccount
from tests.test_embedded import free_port

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path


def setup_demo(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("setup_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def credentials(var_dir: Path) -> dict[str, str]:
    lines = (var_dir / "demo-credentials.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def counts() -> tuple[int, int, int, int]:
    return (User.objects.count(), APIKey.objects.count(), PaperAccount.objects.count(), ExchangeAccount.objects.count())


@pytest.mark.django_db
def test_rerunning_the_demo_setup_prints_the_same_credentials_and_makes_nothing(var_dir):
    first, _ = setup_demo()
    saved, before = credentials(var_dir), counts()
    again, _ = setup_demo()
    assert again == first and saved["api_key"] in again
    assert credentials(var_dir) == saved and counts() == before


@pytest.mark.django_db
def test_without_its_credentials_file_the_demo_setup_keeps_the_accounts_and_the_key(var_dir):
    setup_demo()
    saved, before = credentials(var_dir), counts()
    (var_dir / "demo-credentials.txt").unlink()
    out, err = setup_demo()
    assert counts() == before
    assert APIKey.objects.is_valid(saved["api_key"])  # the running strategy's key still works
    assert "make demo-reset" in err and "Nothing was changed" in err
    assert saved["api_key"] not in out
    assert not (var_dir / "demo-credentials.txt").exists()


@pytest.mark.django_db
def test_the_reset_makes_new_credentials_and_revokes_the_old_key(var_dir):
    setup_demo()
    old = credentials(var_dir)
    out, _ = setup_demo("--reset")
    new = credentials(var_dir)
    assert new["api_key"] != old["api_key"] and new["api_key"] in out
    assert not APIKey.objects.is_valid(old["api_key"])
    assert APIKey.objects.is_valid(new["api_key"])
    assert User.objects.filter(username="admin").count() == 1


def _env(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DEBUG": "true", "VAR_DIR": str(var_dir), "LOG_LEVEL": "WARNING", "EXECUTOR": "dry_run"})
    return env


def make_run(port: int, var_dir: Path, **options) -> subprocess.Popen:
    # -o: never reinstall the venv from here (requirements.txt may be newer than the stamp).
    return subprocess.Popen(  # noqa: S603
        ["make", "-o", ".venv/.installed", "run", "HOST=127.0.0.1", f"PORT={port}"],  # noqa: S607
        env=_env(var_dir),
        cwd=BASE_DIR,
        start_new_session=True,
        **options,
    )


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"make run did not listen within 120 s: {log.read_text()[-3000:]}")


def test_a_second_make_run_on_the_same_var_refuses_and_names_the_running_desk(tmp_path):
    first_port, second_port = free_port(), free_port()
    log = tmp_path / "first.log"
    with log.open("w") as out:
        first = make_run(first_port, tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(first, first_port, log)
        saved = (tmp_path / "demo-credentials.txt").read_text()
        second = make_run(second_port, tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = second.communicate(timeout=180)
        finally:
            if second.poll() is None:
                stop(second)
        assert second.returncode != 0, output[-3000:]
        assert "another desk is already running" in output, output[-3000:]
        named = re.search(rf"pid (\d+), http://127\.0\.0\.1:{first_port}/", output)
        assert named, output[-3000:]
        assert b"rundesk" in Path(f"/proc/{named.group(1)}/cmdline").read_bytes()  # the running desk's pid
        with socket.socket() as sock:  # the second never listened
            assert sock.connect_ex(("127.0.0.1", second_port)) != 0
        assert (tmp_path / "demo-credentials.txt").read_text() == saved  # its demo step changed nothing
        assert first.poll() is None
    finally:
        stop(first)
