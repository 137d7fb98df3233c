"""In-page notifications in a real Chromium against a live embedded desk: a toast and the unread
count for a new signal, a toast for a failed order (never "filled"), and sound and desktop
notifications left off until the trader turns them on."""

import pytest
from playwright.sync_api import expect

from desk.livedesk import login


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def open_live(page, desk, role: str, path: str = "/signals/") -> None:
    login(page, desk, role, path)
    expect(page.locator("#live-status")).to_have_text("live")


def test_a_new_signal_raises_a_toast_and_the_unread_count(page, desk):
    open_live(page, desk, "viewer", "/orders/")  # any desk page, not only the queue
    expect(page.locator("#unread-count")).to_be_hidden()
    signal = desk.post_signal(
        symbol="ETH/USDT", side="SELL", suggest_price="3210", suggest_qty="2", strategy_name="toast_check"
    )
    toast = page.locator(".toast", has_text=f"New signal #{signal['id']}")
    expect(toast).to_contain_text("SELL 2 ETH/USDT at 3,210 · toast_check")
    expect(page.locator("#unread-count")).to_have_text("1")
    expect(page).to_have_title("(1) Orders · TradeDesk")
    page.click("#notify-bell")  # looking at the notifications reads them
    expect(page.locator("#unread-count")).to_be_hidden()
    # Sound and desktop notifications are offered, never on by themselves.
    expect(page.locator("#notify-sound")).not_to_be_checked()
    expect(page.locator("#notify-desktop")).not_to_be_checked()
    assert page.evaluate("Notification.permission") == "default"  # nothing was asked of the browser


def test_a_failed_order_raises_an_error_toast_and_is_never_called_filled(page, desk):
    open_live(page, desk, "trader")
    # The dry run has no price for SOL/USDT: a market order there fails (NO_PRICE) at the venue.
    signal = desk.post_signal(symbol="SOL/USDT", suggest_price=None, suggest_qty="3")
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    expect(page.locator("[data-testid=price-chart] .chart-note")).to_contain_text("no price history from dry run")
    page.click("#order-confirm")
    expect(page.locator("#placed-status")).to_have_text("FAILED")
    toast = page.locator(".toast-error", has_text="failed")
    expect(toast).to_contain_text("BUY 3 SOL/USDT: NO_PRICE")
    expect(page.locator(".toast", has_text="filled")).to_have_count(0)
    toast.locator("button").click()  # errors stay until dismissed, and can be with the form open
    expect(toast).to_have_count(0)


def test_an_order_that_fills_says_filled(page, desk):
    open_live(page, desk, "trader")
    signal = desk.post_signal(suggest_price="64900", suggest_qty="0.1")
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    page.click("#order-confirm")
    expect(page.locator("#placed-status")).to_have_text("SUCCESS")
    expect(page.locator(".toast-success")).to_contain_text("BUY 0.1 BTC/USDT at 64,900")
