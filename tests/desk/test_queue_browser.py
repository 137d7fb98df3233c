"""The queue at speed in a real Chromium against a live embedded desk: several signals accepted or
rejected at once (and refused for a viewer), the net of opposite signals, the keyboard from a new
signal to a confirmed order, and the page's rough edges (a stale refusal, the emptied queue)."""

import uuid

import pytest
from playwright.sync_api import expect

from desk.livedesk import login


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def admin_token(desk):
    return desk.token("admin")


def strategy_name() -> str:
    return f"s_{uuid.uuid4().hex[:8]}"


def open_queue(page, desk, role: str, query: str = "") -> None:
    login(page, desk, role, "/signals/" + (f"?{query}" if query else ""))
    expect(page.locator("#live-status")).to_have_text("live")


def signal_status(desk, token: str, signal_id: int) -> dict:
    status, body = desk.call("GET", f"/api/signals/{signal_id}", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return body


def test_a_trader_accepts_five_signals_at_once(page, desk, admin_token):
    name = strategy_name()
    signals = [desk.post_signal(strategy_name=name, suggest_qty=f"0.{i + 1}") for i in range(5)]
    open_queue(page, desk, "trader", f"strategy={name}")
    for signal in signals:
        page.locator(f"#signal-{signal['id']} .pick-row").check()
    expect(page.locator("#bulk-count")).to_have_text("5 selected")
    page.click("#bulk-accept")
    expect(page.locator("[data-testid=bulk-result]")).to_contain_text("5 signals accepted")
    for signal in signals:
        expect(page.locator(f"#signal-{signal['id']} .badge").first).to_have_text("ACCEPTED")
    expect(page.locator("#bulk-count")).to_have_text("None selected")
    for signal in signals:
        body = signal_status(desk, admin_token, signal["id"])
        assert (body["status"], body["decided_by"]) == ("ACCEPTED", desk.users["trader"][0])


def test_a_trader_rejects_five_signals_with_one_reason_and_a_decided_one_is_reported(page, desk, admin_token):
    name = strategy_name()
    signals = [desk.post_signal(strategy_name=name) for _ in range(5)]
    open_queue(page, desk, "trader", f"strategy={name}")
    page.locator("#pick-all").check()
    expect(page.locator("#bulk-count")).to_have_text("5 selected")
    # One of them is rejected elsewhere meanwhile: the others still go through, it is reported.
    status, _ = desk.call(
        "PATCH",
        f"/api/signals/{signals[0]['id']}",
        {"status": "REJECTED", "note": "elsewhere"},
        {"Authorization": f"Bearer {admin_token}"},
    )
    assert status == 200
    expect(page.locator(f"#signal-{signals[0]['id']}")).to_have_count(0)  # left the queue live
    page.click("#bulk-reject")
    expect(page.locator("#bulk-reject-form")).to_be_visible()
    expect(page.locator("#bulk-reject-submit")).to_have_text("Reject 4")  # the one that left is not sent
    page.click("#bulk-reject-submit")  # no reason: the form does not go (and the server would refuse it)
    assert page.locator("#bulk-reason").evaluate("(area) => area.validity.valueMissing") is True
    page.fill("#bulk-reason", "news blackout")
    page.click("#bulk-reject-submit")
    expect(page.locator("[data-testid=bulk-result]")).to_contain_text("4 signals rejected")
    expect(page.locator("#signal-rows tr.empty")).to_contain_text("No pending or accepted signals")
    for signal in signals[1:]:
        body = signal_status(desk, admin_token, signal["id"])
        assert (body["status"], body["decision_note"]) == ("REJECTED", "news blackout")


def test_a_viewer_has_no_bulk_bar_and_the_bulk_action_is_refused(page, desk, admin_token):
    signals = [desk.post_signal(strategy_name=strategy_name()) for _ in range(5)]
    open_queue(page, desk, "viewer")
    expect(page.locator(f"#signal-{signals[0]['id']}")).to_be_visible()
    expect(page.locator("#bulk-bar")).to_have_count(0)
    expect(page.locator(".pick-row")).to_have_count(0)
    status = page.evaluate(
        """async (ids) => {
            const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const body = new URLSearchParams({action: "accept", ids: ids.join(",")});
            const answer = await fetch("/signals/bulk/",
                {method: "POST", body, headers: {"X-CSRFToken": csrf, "HX-Request": "true"}});
            return answer.status;
        }""",
        [signal["id"] for signal in signals],
    )
    assert status == 403
    assert {signal_status(desk, admin_token, s["id"])["status"] for s in signals} == {"PENDING"}


def test_opposite_signals_show_their_net_per_symbol_live(page, desk):
    name = strategy_name()
    open_queue(page, desk, "viewer", f"strategy={name}")
    expect(page.locator("[data-testid=net-view]")).to_have_count(0)
    desk.post_signal(strategy_name=name, side="BUY", suggest_qty="1.5")
    desk.post_signal(strategy_name=name, side="SELL", suggest_qty="0.4")
    desk.post_signal(strategy_name=name, side="buy", suggest_qty="0.1")
    net = page.locator("[data-testid='net-BTC/USDT']")
    expect(net).to_have_text("BUY 1.2")
    expect(page.locator("[data-testid=net-view]")).to_contain_text("2 × · 1.6")


def test_the_keyboard_takes_a_new_signal_to_a_confirmed_order(page, desk, admin_token):
    name = strategy_name()
    open_queue(page, desk, "trader", f"strategy={name}")
    signal = desk.post_signal(strategy_name=name, suggest_price="64990", suggest_qty="0.3")
    row = page.locator(f"#signal-{signal['id']}")
    expect(row).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts")).to_contain_text("Accept the signal")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.keyboard.press("j")
    expect(page.locator("#signal-rows tr.current")).to_have_attribute("id", f"signal-{signal['id']}")
    page.keyboard.press("a")
    expect(row.locator(".badge").first).to_have_text("ACCEPTED")
    page.keyboard.press("o")
    expect(page.locator("#order-qty")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("0.2")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#placed-status")).to_have_text("SUCCESS")
    [order] = desk.orders_for(signal["id"], admin_token)
    assert (order["qty"], order["price"], order["status"]) == ("0.2", "64990", "SUCCESS")


def test_changing_the_qty_after_a_refused_confirm_clears_the_stale_refusal(page, desk, admin_token):
    name = strategy_name()
    signal = desk.post_signal(strategy_name=name, suggest_qty="11")
    open_queue(page, desk, "trader", f"strategy={name}")
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    page.click("#order-confirm")
    expect(page.locator("#order-error")).to_contain_text("11 is over the per-order limit")
    page.fill("#order-qty", "0.1")
    expect(page.locator("#order-error")).to_have_count(0)
    expect(page.locator("[data-testid=risk-warning]")).to_have_count(0)  # the preview agrees
    page.click("#order-confirm")
    expect(page.locator("#placed-status")).to_have_text("SUCCESS")
    assert [o["qty"] for o in desk.orders_for(signal["id"], admin_token)] == ["0.1"]


def test_when_the_last_row_leaves_live_the_empty_queue_says_so(page, desk, admin_token):
    name = strategy_name()
    signal = desk.post_signal(strategy_name=name)
    open_queue(page, desk, "viewer", f"strategy={name}")
    expect(page.locator(f"#signal-{signal['id']}")).to_be_visible()
    status, _ = desk.call(
        "PATCH",
        f"/api/signals/{signal['id']}",
        {"status": "REJECTED", "note": "gone"},
        {"Authorization": f"Bearer {admin_token}"},
    )
    assert status == 200
    expect(page.locator(f"#signal-{signal['id']}")).to_have_count(0)
    expect(page.locator("#signal-rows tr.empty")).to_have_text(
        "No pending or accepted signals. New ones appear here as they arrive."
    )
