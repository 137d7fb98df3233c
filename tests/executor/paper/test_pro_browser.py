"""Paper Pro in a real Chromium against the live test server: log in, place a limit order through
the JavaScript ticket by role, label and text (as a profile would), see its toast and history row,
then a refusal inline and a cancel from the open orders tab."""

import re
import shutil
from decimal import Decimal

import pytest
from playwright.sync_api import expect, sync_playwright

from desk.livedesk import launch_chromium
from executor.paper import services
from executor.paper.models import PaperOrder

from .conftest import make_trader

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(live_server, paper_instruments, monkeypatch):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the pro site's browser test (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls stay plain
    # synchronous code between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.set_default_timeout(10_000)
        page.base_url = live_server.url
        yield page
        browser.close()


def test_a_limit_order_placed_through_the_ticket_shows_its_toast_and_history_row(page):
    trader = make_trader("pro-browser", USDT="100000", BTC="1")
    page.goto(f"{page.base_url}/paper/pro/trade/BTC_USDT")
    page.get_by_label("Username").fill(trader.username)
    page.get_by_label("Password").fill(trader.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="BTC/USDT")).to_be_visible()

    page.get_by_role("tab", name="Buy").click()
    page.get_by_role("button", name="Order type").click()
    page.get_by_role("option", name="Limit").click()
    price = page.get_by_label("Price")
    price.fill("")
    price.press_sequentially("60000.5")
    expect(price).to_have_value("60,000.5")  # grouped as it is typed
    page.get_by_label("Amount").fill("0.0125")
    page.get_by_role("button", name="Buy BTC").click()

    dialog = page.get_by_role("dialog", name="Confirm order")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("60,000.5 USDT")
    with page.expect_response(lambda r: r.url.endswith("/paper/pro/api/order/place")) as answer:
        dialog.get_by_role("button", name="Confirm").click()
    assert answer.value.status == 200

    order = PaperOrder.objects.get(account=trader.account)
    assert (order.side, order.order_type, order.price, order.qty, order.status) == (
        "BUY",
        "LIMIT",
        Decimal("60000.5"),
        Decimal("0.0125"),
        "NEW",
    )
    toast = page.get_by_role("status").filter(has_text=re.compile(r"Order placed · #\d+"))
    expect(toast).to_have_text(f"Order placed · #{order.pk}")
    expect(toast).to_have_count(0, timeout=8_000)  # it vanishes

    open_orders = page.get_by_role("table", name="Open orders")
    expect(open_orders.get_by_role("row").filter(has_text="60,000.50")).to_have_count(1)
    page.get_by_role("tab", name="Order history").click()
    row = page.get_by_role("table", name="Order history").get_by_role("row").filter(has_text=str(order.pk))
    expect(row).to_contain_text("BTC/USDT")
    expect(row).to_contain_text("Limit")
    expect(row).to_contain_text("60,000.50")
    expect(row).to_contain_text("0.0125")
    expect(row).to_contain_text("Open")

    # A refusal shows inline in the ticket, with no toast.
    page.get_by_label("Amount").fill("50")
    page.get_by_role("button", name="Buy BTC").click()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("region", name="Place order").get_by_role("alert")).to_have_text("Insufficient balance")
    expect(page.get_by_role("status")).to_have_count(0)

    # Cancel from the open orders tab, on the same page.
    page.get_by_role("tab", name="Open orders (1)").click()
    open_orders.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status")).to_have_text(f"Order canceled · #{order.pk}")
    expect(page.get_by_role("tab", name="Open orders (0)")).to_be_visible()
    order.refresh_from_db()
    assert order.status == "CANCELED"
