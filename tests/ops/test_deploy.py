"""Production settings pass Django's deployment checklist, and the process files agree."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-real-production-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "desk.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://desk.example.com",
    "DATABASE_URL": "postgres://tradedesk:secret@db.internal:5432/tradedesk",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "CREDENTIALS_KEYS": "q0pM6yqS7n8dJ7x1lH5r1bq0Kk2x3c4v5b6n7m8a9s0=",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "SECRET", "DATABASE", "REDIS"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        env={**keep, **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_redirects_to_https_except_the_probes_and_sends_hsts():
    code = (
        "from django.test import Client;"
        "c = Client(HTTP_HOST='desk.example.com');"
        "print(c.get('/login/').status_code, c.get('/healthz').status_code, c.get('/readyz').status_code,"
        " c.get('/metrics').status_code);"
        "r = c.get('/metrics', secure=True); print(r.headers.get('Strict-Transport-Security'))"
    )
    result = manage("shell", "-c", code, **PRODUCTION, READYZ_TIMEOUT="0.5")
    lines = result.stdout.strip().splitlines()
    assert lines[-2].split()[:2] == ["301", "200"], result.stderr
    # /readyz answers (503 here: the example servers do not exist) and /metrics asks for a token.
    assert lines[-2].split()[2:] == ["503", "401"]
    assert lines[-1] == "max-age=31536000; includeSubDomains; preload"


def test_every_process_is_started_the_same_way_in_the_procfile_makefile_and_compose():
    procfile = (BASE_DIR / "Procfile").read_text()
    makefile = re.sub(r"\\\n\s*", "", (BASE_DIR / "Makefile").read_text())  # join continued lines
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    for fragment in (
        "tradedesk.asgi:application",
        "worker --loglevel INFO --concurrency 2 --queues celery",
        "--queues browser --pool solo --concurrency 1 --prefetch-multiplier 1",
        "beat --loglevel INFO",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        assert fragment in procfile, fragment
        assert fragment in makefile, fragment
    for service in ("web", "worker", "browser-worker", "beat", "postgres", "redis"):
        block = re.search(rf"^  {service}:\n((?:    .*\n|\n)*)", compose, re.M)
        assert block, service
    for fragment in ('"healthz"', "healthcheck", "restart: unless-stopped", "PROMETHEUS_MULTIPROC_DIR"):
        assert fragment in compose, fragment


def test_a_rotated_secret_key_keeps_sessions_while_the_old_one_is_a_fallback(settings, viewer):
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert client.get("/readyz").wsgi_request.user == viewer
    settings.SECRET_KEY_FALLBACKS = []
    assert not client.get("/readyz").wsgi_request.user.is_authenticated


def _normalized(command: str) -> str:
    """One process command as the three files write it, minus what legitimately differs: the
    virtualenv prefix, and the values of --host, --port and --workers (variables or literals)."""
    command = re.sub(r"(\.venv|\$\(VENV\))/bin/", "", command)
    command = re.sub(r"--(host|port|workers) \S+", r"--\1 X", command)
    return " ".join(command.split())


def test_compose_runs_exactly_the_procfile_and_makefile_commands():
    import yaml

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    procfile = dict(
        line.split(": ", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if line and line[0] != "#"
    )
    makefile = re.sub(r"\\\n\s*", "", (BASE_DIR / "Makefile").read_text())
    make_targets = dict(re.findall(r"^([a-z-]+):.*\n((?:\t.*\n)+)", makefile, re.M))
    for service, proc, target in (
        ("worker", "worker", "worker"),
        ("browser-worker", "browser", "browser-worker"),
        ("beat", "beat", "beat"),
        ("watch", "watch", "follow-watch"),
        ("web", "web", "web"),
    ):
        command = compose[service]["command"]
        # compose's web runs `sh -c "... && exec uvicorn ..."`; the others are argument lists.
        wanted = command[-1].split("exec ", 1)[1] if command[0] == "sh" else " ".join(command)
        wanted = _normalized(wanted.replace("$$", "$"))
        assert _normalized(procfile[proc].split("exec ", 1)[-1]) == wanted, service
        make_lines = [_normalized(line) for line in make_targets[target].splitlines()]
        assert any(line.endswith(wanted) for line in make_lines), (service, make_lines)
    # Every desk container runs the same image with the same settings source.
    for service in ("migrate", "web", "worker", "browser-worker", "beat", "watch"):
        assert compose[service]["image"] == "tradedesk:latest", service
        assert compose[service]["restart"] in ("unless-stopped", "no"), service
        assert compose[service]["environment"]["REDIS_URL"] == "redis://redis:6379/0", service
    assert compose["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
