"""The local outbox: signals the desk could not be reached for, kept until a resend delivers them.

An append-only JSON Lines file. Nothing is ever rewritten: a signal is one `queued` line
(its Idempotency-Key and body), and its fate is a later line for the same key (`sent` with the
desk's signal id, `rejected`, `expired`, or `retry_failed`, which keeps it pending). A crash in
the middle of a write leaves at most one torn last line, which is skipped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger("tradedesk_client")

SETTLED = frozenset({"sent", "rejected", "expired"})


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time, across threads and processes (flock on a side file)."""
        with self._thread_lock:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                    os.close(self._lock_fd)
                    self._lock_fd = None

    def add(self, *, key: str, body: dict[str, Any], error: str) -> None:
        self._append({"event": "queued", "key": key, "body": body, "error": error})
        logger.warning("signal %s kept in the outbox %s", key, self.path)

    def mark(self, key: str, event: str, **details: Any) -> None:
        self._append({"event": event, "key": key, **details})

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps({"at": _now().isoformat(), **record}, sort_keys=True) + "\n"
        with self.locked():
            # Mode 0600: the file holds what strategies trade, not secrets, but it is nobody else's.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    record = json.loads(line)
                    record["key"], record["event"]  # noqa: B018 (validates the line)
                except (ValueError, KeyError, TypeError):
                    logger.warning("outbox %s line %d is not a record; skipped", self.path, number)
                    continue
                out.append(record)
        return out

    def pending(self) -> list[dict[str, Any]]:
        """Signals not yet settled, oldest first: {key, body, queued_at, age (seconds), attempts}."""
        entries: dict[str, dict[str, Any]] = {}
        now = _now()
        for record in self.records():
            key = record["key"]
            if record["event"] == "queued":
                if key in entries and not entries[key]["settled"]:
                    continue
                queued_at = datetime.fromisoformat(record["at"])
                entries[key] = {
                    "key": key,
                    "body": record["body"],
                    "queued_at": queued_at,
                    "age": (now - queued_at).total_seconds(),
                    "last_error": record.get("error", ""),
                    "settled": False,
                }
            elif key in entries:
                if record["event"] in SETTLED:
                    entries[key]["settled"] = True
                else:
                    entries[key]["last_error"] = record.get("detail", "")
        return [entry for entry in entries.values() if not entry["settled"]]
