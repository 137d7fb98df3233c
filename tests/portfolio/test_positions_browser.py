"""The positions page in a real Chromium against a live embedded desk: it follows the desk's
fills live, without a reload, as orders are confirmed through the API and filled (dry run)."""

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from desk.livedesk import LiveDesk, launch_chromium, login


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the desk's browser tests (apt-get install chromium; .ci/run does)")
    with LiveDesk(tmp_path_factory.mktemp("live-positions")) as running:
        yield running


@pytest.fixture(scope="module")
def page(desk):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        chromium.close()


def confirm(desk: LiveDesk, token: str, price: str, qty: str) -> None:
    signal = desk.post_signal(symbol="BTC/USDT", side="BUY", suggest_price=price, suggest_qty=qty)
    status, body = desk.call(
        "POST",
        "/api/orders",
        {"signal_id": signal["id"], "qty": qty, "order_type": "LIMIT", "price": price},
        {"Authorization": f"Bearer {token}"},
    )
    assert status == 201, body


def test_the_positions_page_follows_the_fills_live_without_a_reload(page, desk):
    token = desk.token("trader")
    login(page, desk, "viewer", "/positions/")
    expect(page.locator("html")).to_have_attribute("data-live", "up")
    page.evaluate("window.__sameDocument = true")
    dry_run = page.locator("#account-dry_run")
    expect(dry_run).to_contain_text("No positions yet")

    confirm(desk, token, "64950", "0.5")
    row = dry_run.locator('tr[data-symbol="BTC/USDT"]')
    expect(row.locator('[data-field="qty"]')).to_have_text("0.5")
    expect(row.locator('[data-field="avg_entry"]')).to_have_text("64,950")

    confirm(desk, token, "65050", "0.5")
    expect(row.locator('[data-field="qty"]')).to_have_text("1")
    expect(row.locator('[data-field="avg_entry"]')).to_have_text("65,000")
    expect(row.locator('[data-field="last_price"]')).to_have_text("65,000")  # DRY_RUN_PRICES
    expect(row.locator('[data-field="unrealized_pnl"]')).to_have_text("0")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


def test_the_live_desk_refuses_positions_to_an_anonymous_caller(desk):
    status, _ = desk.call("GET", "/api/positions")
    assert status in (401, 403)
