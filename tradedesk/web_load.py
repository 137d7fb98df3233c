"""How busy each worker process of one web server is, shared between them through a small file.

tradedesk.wsgi_pool answers `Connection: close` to a request that found every thread of its
process busy, so the client reconnects to a worker that can take it. That only helps when some
other worker has a free thread: when all are busy (more clients than the server's threads, a
sustained load), the client reconnects to a worker as busy as the first, and every reconnection
costs both sides a TCP handshake and a new connection (~8 % of the paper exchange's CPU with 32
clients on 2 x 8 threads, bench/README.md). So a worker asks this board first.

The board is a memory-mapped file in VAR_DIR, one per server: its name carries the parent
process id (the uvicorn or gunicorn supervisor that started the workers). Each worker claims a
slot (its pid and how many requests it has in flight) under a file lock, taking over the slot of
a worker that died; afterwards it writes its own slot and reads the others' without a lock (an
aligned 8-byte write is read whole). A process started on its own finds no other worker: with nobody to hand a
connection to, it never closes one. Where the file cannot be made, the board says "unknown" and
the pool closes as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import mmap
import os
import struct
import threading
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

SLOTS = 64
_SLOT = struct.Struct("qq")  # pid, requests in flight
SIZE = SLOTS * _SLOT.size


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def board_path() -> Path:
    """The board of this process's server: one file per parent process, in VAR_DIR (the desk's
    own directory, not a shared temporary one another user could plant a file in)."""
    base = Path(settings.VAR_DIR) / "web-load"
    base.mkdir(parents=True, exist_ok=True)
    return base / f"tradedesk-web-{os.getppid()}.load"


class LoadBoard:
    """This worker's slot on its server's board, and what the other workers have in flight."""

    def __init__(self, path: Path, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                self.slot = self._claim()
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _claim(self) -> int:
        free = None
        for index in range(SLOTS):
            pid, _ = _SLOT.unpack_from(self._map, index * _SLOT.size)
            if pid == self.pid:
                free = index
                break
            if free is None and (pid == 0 or not _alive(pid)):
                free = index
        if free is None:
            raise RuntimeError("the web load board is full")
        _SLOT.pack_into(self._map, free * _SLOT.size, self.pid, 0)
        return free

    def set_in_flight(self, count: int) -> None:
        struct.pack_into("q", self._map, self.slot * _SLOT.size + 8, count)

    def other_has_room(self, threads: int) -> bool:
        """True when another live worker of this server has fewer than `threads` requests in flight."""
        for index in range(SLOTS):
            if index == self.slot:
                continue
            pid, in_flight = _SLOT.unpack_from(self._map, index * _SLOT.size)
            if pid and in_flight < threads and _alive(pid):
                return True
        return False

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            _SLOT.pack_into(self._map, self.slot * _SLOT.size, 0, 0)
            self._map.close()


_board: LoadBoard | None = None
_board_pid = 0
_board_lock = threading.Lock()


def _remove_stale(base: Path) -> None:
    """Boards of servers that are gone (their supervisor's pid is dead)."""
    for path in base.glob("tradedesk-web-*.load"):
        with contextlib.suppress(ValueError, OSError):
            if not _alive(int(path.name.removeprefix("tradedesk-web-").removesuffix(".load"))):
                path.unlink()


def board() -> LoadBoard | None:
    """This process's slot (claimed on first use; a forked child claims its own), or None when
    no board can be kept here."""
    global _board, _board_pid
    with _board_lock:
        if _board_pid != os.getpid():
            _board_pid = os.getpid()
            try:
                path = board_path()
                _remove_stale(path.parent)
                _board = LoadBoard(path)
            except (OSError, RuntimeError, ValueError) as exc:
                logger.warning("web load board unavailable (%s): a busy worker closes connections as before", exc)
                _board = None
        return _board
