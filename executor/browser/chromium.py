"""Finding a Chromium to drive, and the flags it needs on a closed network."""

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
