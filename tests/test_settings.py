"""Settings come from the environment; production refuses to start without a real secret."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tradedesk import settings as desk_settings


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_refuses_a_placeholder_secret_key():
    result = run_check(DEBUG="false", SECRET_KEY="change-me-to-50-random-characters")
    assert result.returncode != 0
    assert "placeholder" in result.stderr


def test_production_starts_with_a_real_key():
    assert run_check(DEBUG="false", SECRET_KEY="k" * 16 + "0123456789abcdefghijklmnop").returncode == 0


def test_an_unknown_executor_is_reported_at_startup():
    result = run_check(DEBUG="true", EXECUTOR="nope")
    assert result.returncode != 0
    assert "executor.E001" in result.stderr


def test_redis_url_switches_broker_and_channel_layer():
    code = (
        "from django.conf import settings as s;"
        "print(s.CELERY_BROKER_URL, s.CHANNEL_LAYERS['default']['BACKEND'], s.EMBEDDED)"
    )
    clean = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}

    def shell(**env: str) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell", "-c", code],
            env={**clean, "DEBUG": "true", **env},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout.strip().splitlines()[-1]

    assert shell() == "memory:// channels.layers.InMemoryChannelLayer True"
    assert shell(REDIS_URL="redis://127.0.0.1:6379/3") == (
        "redis://127.0.0.1:6379/3 channels_redis.core.RedisChannelLayer False"
    )


def test_env_example_lists_every_variable_the_settings_read():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_0-9]+)"', (root / "tradedesk/settings.py").read_text()))
    example = (root / ".env.example").read_text()
    assert len(names) > 40
    missing = sorted(name for name in names if not re.search(rf"^#?\s*{name}=", example, re.M))
    assert not missing, f".env.example does not list {missing}"


def test_processes_starting_together_share_one_dev_secret_key(monkeypatch, tmp_path):
    """A worker and beat started at once on a fresh VAR_DIR: the one that comes second finds the
    key already made after its own check said there was none (the CI failure of 2026-12-02:
    FileExistsError at import of the settings), and takes that key."""
    monkeypatch.setattr(desk_settings, "VAR_DIR", tmp_path)
    first = desk_settings._dev_secret_key()
    monkeypatch.setattr(Path, "exists", lambda self: False)  # its check ran before the other's write
    assert desk_settings._dev_secret_key() == first
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dev-secret-key"]  # no draft left
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600
