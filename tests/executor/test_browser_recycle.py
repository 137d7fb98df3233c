"""An idle browser whose memory keeps growing is restarted (the login stays on disk)."""

from executor.browser.profile import load_profile
from executor.browser.session import BrowserSession
from executor.connectors.base import AccountConfig


class FakeBrowser:
    def is_connected(self) -> bool:
        return True


def session_with(rss_values: list[int], monkeypatch) -> tuple[BrowserSession, list[str]]:
    session = BrowserSession(AccountConfig(label="a", venue="paper", key="1"), load_profile("paper"))
    session._browser = FakeBrowser()
    session.orders_placed = 10
    calls: list[str] = []
    values = iter(rss_values)
    monkeypatch.setattr(session, "browser_rss", lambda: next(values))
    monkeypatch.setattr(session, "close", lambda: calls.append("close"))
    monkeypatch.setattr(session, "ensure", lambda: calls.append("ensure"))
    return session, calls


def test_the_browser_is_restarted_when_its_memory_grew_past_the_limit(monkeypatch, settings):
    settings.BROWSER_RECYCLE_GROWTH = 0.5
    session, calls = session_with([100, 140, 151], monkeypatch)
    assert session.recycle_if_grown() is False  # the baseline is taken
    assert session.recycle_if_grown() is False  # +40%: kept
    assert session.recycle_if_grown() is True  # +51%: restarted
    assert calls == ["close", "ensure"]


def test_a_young_browser_is_left_alone(monkeypatch):
    session, calls = session_with([100, 999], monkeypatch)
    session.orders_placed = 3
    assert session.recycle_if_grown() is False
    assert calls == []
