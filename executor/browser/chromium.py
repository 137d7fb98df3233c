"""Finding a Chromium to drive, and the flags it needs on a closed network."""

import logging
import os
import shutil
from pathlib import Path

import psutil
from django.conf import settings

# Without the networking flags Chromium hangs on blocked background calls on a closed network.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ChromiumNotFound(RuntimeError):
    pass


def chromium_executable(playwright=None) -> str | None:
    """The setting's path, else Playwright's own browser, else a system Chromium.

    Returns None to mean "Playwright's own" when it is installed; raises with a how-to otherwise.
    """
    configured = settings.PLAYWRIGHT_CHROMIUM_EXECUTABLE
    if configured:
        if not os.access(configured, os.X_OK):
            raise ChromiumNotFound(f"PLAYWRIGHT_CHROMIUM_EXECUTABLE={configured} is not an executable file")
        return configured
    if playwright is not None and Path(playwright.chromium.executable_path).exists():
        return None
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumNotFound(
        "no Chromium found: set PLAYWRIGHT_CHROMIUM_EXECUTABLE, run `playwright install chromium`, "
        "or install the system package (Debian: apt-get install chromium)"
    )


def chromium_rss(pid: int | None = None) -> int:
    """Resident memory, in bytes, of the Chromium processes under `pid` (default: this process)."""
    total = 0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                total += child.memory_info().rss
        except psutil.Error:
            continue
    return total


class BrowserProcess:
    """One Playwright and one Chromium, started on first use by the thread that uses them.

    Playwright's sync API belongs to the thread that started it: a second `sync_playwright()`
    on the same thread fails ("Sync API inside the asyncio loop"), so every account a thread
    serves shares this one, each in a browser context of its own."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None

    def browser(self):
        from playwright.sync_api import sync_playwright

        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self.stop()
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=chromium_executable(self._playwright),
            headless=settings.BROWSER_HEADLESS,
            args=LAUNCH_ARGS,
        )
        return self._browser

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def stop(self) -> None:
        for closer in (self._browser, self._playwright):
            if closer is None:
                continue
            try:
                closer.close() if closer is self._browser else closer.stop()
            except Exception:  # the browser may already be gone; stopping is best effort
                logging.getLogger(__name__).debug("stopping the browser failed", exc_info=True)
        self._playwright = self._browser = None
