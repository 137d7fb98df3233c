"""Which Chromium the browser executor drives: the setting, Playwright's own, the system's."""

import pytest

from executor.browser import chromium
from executor.browser.chromium import ChromiumNotFound, chromium_executable


class FakePlaywright:
    def __init__(self, path: str) -> None:
        self.chromium = type("Chromium", (), {"executable_path": path})()


def test_the_setting_wins(settings, tmp_path):
    binary = tmp_path / "my-chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    settings.PLAYWRIGHT_CHROMIUM_EXECUTABLE = str(binary)
    assert chromium_executable(FakePlaywright("/nope")) == str(binary)


def test_a_setting_that_is_not_executable_is_a_clear_error(settings, tmp_path):
    settings.PLAYWRIGHT_CHROMIUM_EXECUTABLE = str(tmp_path / "missing")
    with pytest.raises(ChromiumNotFound, match="PLAYWRIGHT_CHROMIUM_EXECUTABLE"):
        chromium_executable(None)


def test_playwrights_own_browser_comes_next(settings, tmp_path):
    settings.PLAYWRIGHT_CHROMIUM_EXECUTABLE = ""
    own = tmp_path / "chrome"
    own.write_text("")
    assert chromium_executable(FakePlaywright(str(own))) is None  # None: let Playwright use its own


def test_then_the_system_chromium(settings, monkeypatch):
    settings.PLAYWRIGHT_CHROMIUM_EXECUTABLE = ""
    monkeypatch.setattr(chromium.shutil, "which", lambda name: "/usr/bin/chromium" if name == "chromium" else None)
    assert chromium_executable(FakePlaywright("/nope")) == "/usr/bin/chromium"


def test_without_any_chromium_the_error_says_how_to_install_one(settings, monkeypatch):
    settings.PLAYWRIGHT_CHROMIUM_EXECUTABLE = ""
    monkeypatch.setattr(chromium.shutil, "which", lambda name: None)
    with pytest.raises(ChromiumNotFound, match="apt-get install chromium"):
        chromium_executable(FakePlaywright("/nope"))
