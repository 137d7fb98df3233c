"""Needs review in a real Chromium against a live embedded desk: a trader finds the order in the
review list and resolves it from its dialog, both ways; the board follows live; a viewer sees no
Resolve button."""

import json
import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from desk.livedesk import LiveDesk, _argv_script, launch_chromium, login

# An order whose answer was lost and whose lookup cannot settle it, recorded through the same
# service a connector's answer goes through (the dry run itself never needs a person).
IN_REVIEW = """
import json, sys
from decimal import Decimal
from django.utils import timezone
from executor.connectors.base import OrderResult
from orders import services
from orders.models import Order
from signals.models import Signal
signal = Signal.objects.get(pk=json.loads(sys.argv[1]))
order = Order.objects.create(signal=signal, symbol=signal.symbol, side=signal.side, order_type="MARKET",
    qty=Decimal("0.5"), venue="dry_run", placement_started_at=timezone.now())
services.order_record_result(order_id=order.pk, result=OrderResult.unknown(
    order.client_order_id, "2 matching rows in the open orders", needs_review=True))
print(order.pk)
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the desk's browser tests (apt-get install chromium; .ci/run does)")
    with LiveDesk(tmp_path_factory.mktemp("review-desk")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(desk):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def order_in_review(desk) -> int:
    signal = desk.post_signal()
    return int(desk.manage("shell", "-c", _argv_script(IN_REVIEW, json.dumps(signal["id"]))).strip().splitlines()[-1])


def order_status(desk, order_id: int) -> dict:
    token = desk.token("viewer")
    status, body = desk.call("GET", f"/api/orders/{order_id}", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return body


def test_a_trader_resolves_orders_in_review_from_the_orders_board_both_ways(page, desk):
    not_placed, placed = order_in_review(desk), order_in_review(desk)
    login(page, desk, "trader", "/orders/?status=NEEDS_REVIEW")
    expect(page.locator("#live-status")).to_have_text("live")
    row = page.locator(f"#order-{not_placed}")
    expect(row.locator(f'[data-needs-review="{not_placed}"]')).to_have_text("NEEDS REVIEW")

    row.locator('[data-action="resolve"]').click()
    dialog = page.locator("#modal-body")
    expect(dialog).to_contain_text("2 matching rows in the open orders")
    dialog.get_by_label("Not placed: the venue does not have it").check()
    dialog.locator("textarea[name=note]").fill("not in the venue's history")
    dialog.locator('[data-action="resolve"]').click()
    expect(dialog.locator(f'[data-order-status="{not_placed}"]')).to_have_text("FAILED")
    expect(dialog).to_contain_text("NOT_PLACED_REVIEWED")
    page.keyboard.press("Escape")
    expect(page.locator(f"#order-{not_placed}")).to_have_count(0)  # left the review list, live

    other = page.locator(f"#order-{placed}")
    other.locator('[data-action="resolve"]').click()
    dialog.get_by_label("Placed: the venue has this order").check()
    dialog.locator('[data-action="resolve"]').click()
    expect(dialog.locator(".error")).to_contain_text("exchange_order_id")  # the venue id is asked for
    dialog.get_by_label("Venue order id (if placed)").fill("#8423")
    dialog.locator('[data-action="resolve"]').click()
    expect(dialog.locator(f'[data-order-status="{placed}"]')).to_have_text("SUCCESS")

    assert order_status(desk, not_placed)["error_code"] == "NOT_PLACED_REVIEWED"
    body = order_status(desk, placed)
    assert (body["status"], body["exchange_order_id"], body["needs_review"]) == ("SUCCESS", "#8423", False)


def test_a_viewer_sees_the_review_list_without_a_resolve_button(page, desk):
    order_id = order_in_review(desk)
    login(page, desk, "viewer", "/orders/?status=NEEDS_REVIEW")
    expect(page.locator(f"#order-{order_id}")).to_contain_text("NEEDS REVIEW")
    expect(page.locator('[data-action="resolve"]')).to_have_count(0)
