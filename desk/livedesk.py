"""A throwaway embedded desk (`manage.py rundesk`: uvicorn for HTTP and WebSockets, the Celery
worker and beat) on a fresh SQLite file, for the browser tests, the screenshots script and the
live-updates benchmark. Everything it needs is made here: the schema, a strategy API key and
one login per role.

Not used by the desk itself; it only drives it from outside, as a person and a strategy would.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from executor.browser.chromium import LAUNCH_ARGS, chromium_executable

BASE_DIR = Path(__file__).resolve().parent.parent
ROLES = ("viewer", "trader", "admin")


# The schema, migrated once per process into this folder and copied into every new desk's
# VAR_DIR after (a migrate on SQLite costs 10-20 s on a busy 2-core machine; a copy, milliseconds).
_schema_template: Path | None = None
SQLITE_NAME = "tradedesk.sqlite3"  # settings.DATABASES' default file in VAR_DIR


def migrate_sqlite(env: dict[str, str]) -> None:
    """`manage.py migrate` for the embedded SQLite database in env's VAR_DIR, or a copy of one
    migrated the same way earlier in this process. An env with DATABASE_URL is migrated for real."""
    global _schema_template
    var_dir = Path(env["VAR_DIR"])
    var_dir.mkdir(parents=True, exist_ok=True)
    if env.get("DATABASE_URL") or (var_dir / SQLITE_NAME).exists():
        _manage(env, "migrate", "--noinput")
        return
    if _schema_template is None:
        template = Path(tempfile.mkdtemp(prefix="tradedesk-schema-"))
        _manage({**env, "VAR_DIR": str(template)}, "migrate", "--noinput")
        _schema_template = template
    for path in _schema_template.glob(f"{SQLITE_NAME}*"):  # with its -wal file, if one was left
        shutil.copyfile(path, var_dir / path.name)


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=180
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveDesk:
    def __init__(self, var_dir: Path, env: dict[str, str] | None = None, web_workers: int = 0) -> None:
        """`web_workers` > 0 serves the desk as `make web` does (uvicorn with that many worker
        processes; give DATABASE_URL and REDIS_URL in `env`) instead of the embedded `rundesk`."""
        self.web_workers = web_workers
        self.var_dir = Path(var_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        self.env.update(
            {
                "VAR_DIR": str(self.var_dir),
                "DEBUG": "true",
                "EXECUTOR": "dry_run",
                "DRY_RUN_PRICES": "BTC/USDT=65000,ETH/USDT=3200",
                "LOG_LEVEL": "WARNING",
                **(env or {}),
            }
        )
        self.users: dict[str, tuple[str, str]] = {}
        self.api_key = ""
        self.process: subprocess.Popen | None = None
        self._log = None

    def manage(self, *args: str) -> str:
        return _manage(self.env, *args)

    def start(self) -> "LiveDesk":
        migrate_sqlite(self.env)
        # One call makes every login and the strategy key (each manage.py call costs a Django start).
        script = (
            "from django.core.management import call_command as c\n"
            "from rest_framework_api_key.models import APIKey\n"
            "import json, sys\n"
            "users = json.loads(sys.argv[1])\n"
            "for role, (name, password) in users.items():\n"
            "    c('create_desk_user', name, role=role, password=password, verbosity=0)\n"
            "print(APIKey.objects.create_key(name='live-desk-strategy')[1])\n"
        )
        users = {role: (f"{role}_{secrets.token_hex(3)}", secrets.token_urlsafe(12)) for role in ROLES}
        self.api_key = self.manage("shell", "-c", _argv_script(script, json.dumps(users))).strip().splitlines()[-1]
        self.users = users
        self._log = open(self.var_dir / "rundesk.log", "w")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "manage.py", "rundesk", "--port", str(self.port)]
        if self.web_workers:
            command = [
                *(sys.executable, "-m", "uvicorn", "tradedesk.asgi:application", "--host", "127.0.0.1"),
                *("--port", str(self.port), "--workers", str(self.web_workers)),
                *("--no-access-log", "--no-proxy-headers"),
            ]
        self.process = subprocess.Popen(  # noqa: S603
            command,
            env=self.env,
            cwd=BASE_DIR,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    log = (self.var_dir / "rundesk.log").read_text()[-2000:]
                    raise RuntimeError(f"rundesk exited: {log}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("rundesk did not start within 30 s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "LiveDesk":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def post_signal(self, **overrides) -> dict:
        body = {
            "symbol": "BTC/USDT",
            "side": "BUY",
            "suggest_price": "65000",
            "suggest_qty": "0.5",
            "strategy_name": "mean_reversion_v1",
            "reason": "z-score below -2",
            **overrides,
        }
        status, signal = self.call("POST", "/api/signals", body, {"X-API-KEY": self.api_key})
        if status != 201:
            raise RuntimeError(f"signal not accepted: {status} {signal}")
        return signal

    def token(self, role: str) -> str:
        return self.manage("create_user_token", self.users[role][0]).strip()

    def orders_for(self, signal_id: int, token: str) -> list[dict]:
        status, page = self.call(
            "GET", f"/api/orders?signal_id={signal_id}&limit=500", headers={"Authorization": f"Bearer {token}"}
        )
        if status != 200:
            raise RuntimeError(f"orders not readable: {status} {page}")
        return page["results"] if isinstance(page, dict) else page


def _argv_script(script: str, argument: str) -> str:
    # `manage.py shell -c` has no argv of its own: the argument travels inside the script.
    return f"import sys\nsys.argv = ['x', {argument!r}]\n" + script


def login(page, desk: LiveDesk, role: str, next_path: str = "/signals/") -> None:
    """Log in through the login page, as a person does (Playwright page)."""
    username, password = desk.users[role]
    page.goto(f"{desk.base}/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{desk.base}{next_path}*")


def launch_chromium(playwright, **options):
    """Chromium the way the browser executor launches it (same binary choice and flags)."""
    return playwright.chromium.launch(executable_path=chromium_executable(playwright), args=LAUNCH_ARGS, **options)
