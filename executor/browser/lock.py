"""One owner per browser account: a lock held while the account's browser context is open.

Two processes logged into one account would share one storage-state file, race each other's
pages and could both submit a redelivered order. So opening an account takes
- a lock file under BROWSER_STATE_DIR/locks (flock: the kernel drops it when the process dies,
  even on kill -9), which guards one host; and
- on PostgreSQL, a session advisory lock on a connection of its own, which guards every host
  sharing the database (the server drops it when that connection ends, i.e. when the process dies).
The second opener gets AccountInUse, naming the holder, and nothing is sent.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

# The advisory lock's first key: "TDbr" as a number, so desk locks never collide with others.
ADVISORY_CLASS = 0x54446272


class AccountInUse(RuntimeError):
    """Another process (on this host or another) has this browser account open."""


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class _AdvisoryLocks:
    """One PostgreSQL connection per process, holding the advisory locks of its open accounts.

    Not Django's connection: that one is per thread and closed between tasks (CONN_MAX_AGE=0),
    which would drop the locks."""

    def __init__(self) -> None:
        self._conn = None
        self._guard = threading.Lock()

    def _connection(self):
        import psycopg

        if self._conn is None or self._conn.closed:
            db = settings.DATABASES["default"]
            self._conn = psycopg.connect(
                dbname=db["NAME"],
                user=db.get("USER") or None,
                password=db.get("PASSWORD") or None,
                host=db.get("HOST") or None,
                port=db.get("PORT") or None,
                autocommit=True,
                application_name="tradedesk-browser-locks",
            )
        return self._conn

    def acquire(self, account_id: int) -> bool:
        with self._guard:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s, %s)", (ADVISORY_CLASS, account_id))
            return bool(row.fetchone()[0])

    def release(self, account_id: int) -> None:
        with self._guard:
            if self._conn is None or self._conn.closed:
                return
            self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (ADVISORY_CLASS, account_id))


_advisory = _AdvisoryLocks()


def _uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")


class AccountLock:
    """The right to open one account's browser context, held until release() or process death."""

    def __init__(self, name: str, account_key: str) -> None:
        self.name = name  # profile-account, as in the storage-state file name
        self.account_id = int(account_key) if account_key.isdigit() else None
        self._file = None
        self._advisory = False

    @property
    def path(self) -> Path:
        return _private_dir(Path(settings.BROWSER_STATE_DIR) / "locks") / f"{self.name}.lock"

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> None:
        if self.held:
            return
        handle = open(self.path, "a+")  # noqa: SIM115 (kept open: the open file *is* the lock)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AccountInUse(f"the browser account {self.name} is already open in {holder}") from None
        if self.account_id is not None and _uses_postgres():
            try:
                self._advisory = _advisory.acquire(self.account_id)
            except Exception:
                handle.close()
                raise
            if not self._advisory:
                handle.close()
                raise AccountInUse(f"the browser account {self.name} is already open by a browser worker elsewhere")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._advisory and self.account_id is not None:
            try:
                _advisory.release(self.account_id)
            except Exception:
                logger.warning("could not release the advisory lock of %s", self.name, exc_info=True)
            self._advisory = False
        if self._file is not None:
            try:
                self._file.seek(0)
                self._file.truncate()
                fcntl.flock(self._file, fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None
