"""The one thread that owns Playwright in this process.

Playwright's sync API belongs to the thread that started it, while Celery may run tasks on
any thread (the embedded desk uses a thread pool). So every browser call is handed to this
thread and waited for. The thread runs one Playwright and one Chromium; each exchange account
gets a browser context of its own in it (its own cookies and storage state), kept warm.

Only a browser worker may start a Chromium: a Celery worker that consumes no browser queue
marks this process refused at start (executor/browser/worker.py), and every call then fails
at once with BrowserNotAllowed instead of opening a second browser on someone else's account.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from executor.browser.chromium import BrowserProcess
from executor.browser.session import BrowserSession

logger = logging.getLogger(__name__)


class BrowserNotAllowed(RuntimeError):
    """This process is not a browser worker: it must not open a browser (routing error)."""


class BrowserHost:
    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._sessions: dict[str, BrowserSession] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._browsers = BrowserProcess()  # used only on the browser thread
        self._refused = ""

    def refuse(self, reason: str) -> None:
        """From now on no browser in this process (a regular Celery worker)."""
        self._refused = reason

    @property
    def refused(self) -> str:
        return self._refused

    def call(
        self,
        key: str | None,
        make: Callable[[BrowserProcess], BrowserSession],
        work: Callable[[BrowserSession], Any],
        timeout: float,
    ):
        """Run `work(session)` on the browser thread and return its result (or raise its error)."""
        if self._refused and key is not None:
            raise BrowserNotAllowed(self._refused)
        self._start()
        future: Future = Future()
        # The caller's context goes along, so the browser thread's log lines carry its order id.
        self._jobs.put((key, make, work, future, contextvars.copy_context()))
        return future.result(timeout=timeout)

    def sessions(self) -> dict[str, BrowserSession]:
        return dict(self._sessions)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="browser", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            key, make, work, future, context = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if key is None:  # a job for the host itself, not for one account's session
                    future.set_result(context.run(work, None))
                    continue
                session = self._sessions.get(key)
                if session is None:
                    session = self._sessions[key] = context.run(make, self._browsers)
                future.set_result(context.run(work, session))
            except BaseException as exc:
                future.set_exception(exc)
            if self._jobs.empty():
                self._upkeep()

    def _upkeep(self) -> None:
        for session in list(self._sessions.values()):
            try:
                session.recycle_if_grown()
            except Exception:
                logger.exception("recycling the browser of %s failed", session.account.label)

    def shutdown(self, timeout: float = 30) -> None:
        """Close every browser (worker shutdown, tests)."""
        if self._thread is None or not self._thread.is_alive():
            return

        def close_all(_: Any) -> None:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()
            self._browsers.stop()

        self.call(None, lambda _: None, close_all, timeout)  # type: ignore[arg-type]


host = BrowserHost()
