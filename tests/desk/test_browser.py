"""The desk pages in a real Chromium against a live embedded desk (uvicorn: HTTP and WebSockets,
with the Celery worker and beat), driven as a trader, a viewer and a stranger would."""

import re

import pytest
from playwright.sync_api import expect

from desk.livedesk import LiveDesk, login

ACTION_PATHS = [
    ("POST", "/signals/{id}/accept/"),
    ("GET", "/signals/{id}/reject/"),
    ("POST", "/signals/{id}/reject/"),
    ("GET", "/signals/{id}/order/"),
    ("GET", "/signals/{id}/order/preview/?qty=1&order_type=MARKET"),
    ("POST", "/signals/{id}/order/confirm/"),
]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def trader_token(desk):
    return desk.token("trader")


def open_live(page, desk, role: str, path: str = "/signals/") -> None:
    login(page, desk, role, path)
    expect(page.locator("#live-status")).to_have_text("live")


def test_a_signal_posted_through_the_api_appears_live_without_a_reload(page, desk):
    open_live(page, desk, "trader")
    page.evaluate("window.__sameDocument = true")
    signal = desk.post_signal(symbol="ETH/USDT", side="SELL", suggest_price="3210", strategy_name="live_check")
    row = page.locator(f"#signal-{signal['id']}")
    row.wait_for(timeout=1000)
    expect(row).to_contain_text("ETH/USDT")
    expect(row).to_contain_text("live_check")
    expect(row.locator(".badge")).to_have_text("PENDING")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


def test_a_trader_confirms_an_order_and_watches_it_reach_its_final_status(page, desk, trader_token):
    open_live(page, desk, "trader")
    signal = desk.post_signal(suggest_price="64950", suggest_qty="0.5")
    row = page.locator(f"#signal-{signal['id']}")
    row.locator("[data-action=order]").click()
    form = page.locator("#order-form")
    expect(form.locator("#order-price")).to_have_value("64950")
    expect(form.locator("#order-qty")).to_have_value("0.5")
    expect(form.locator("#order-type")).to_have_value("LIMIT")
    expect(page.locator("#venue-price")).to_contain_text("65,000")
    expect(page.locator("#estimated-cost")).to_contain_text("32,475 USDT")
    expect(page.locator("#limit-usage [data-limit='Per-order qty']")).to_contain_text("0.5 / 10")
    expect(page.locator("#limit-usage [data-limit='Per-order qty']")).to_contain_text("5.0%")

    page.fill("#order-qty", "0.7")
    expect(page.locator("#limit-usage [data-limit='Per-order qty']")).to_contain_text("0.7 / 10")
    page.click("#order-confirm")
    status = page.locator("#placed-status")
    expect(status).to_have_text("SUCCESS")  # pushed over /ws/orders: SUBMITTING, then the fill
    expect(row).to_have_count(0)  # the signal is EXECUTED and leaves the queue, live
    [order] = desk.orders_for(signal["id"], trader_token)
    assert (order["qty"], order["price"], order["status"]) == ("0.7", "64950", "SUCCESS")


def test_choosing_market_clears_the_price_and_orders_at_market(page, desk, trader_token):
    open_live(page, desk, "trader")
    signal = desk.post_signal(suggest_price="64950", suggest_qty="0.2")
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    expect(page.locator("#order-price")).to_have_attribute("placeholder", "limit price")
    page.select_option("#order-type", "MARKET")
    expect(page.locator("#order-price")).to_be_disabled()
    expect(page.locator("#order-price")).to_have_value("")
    expect(page.locator("#order-price")).to_have_attribute("placeholder", "market")
    expect(page.locator("#estimated-cost")).to_contain_text("13,000 USDT")  # 0.2 at the venue's 65,000
    page.click("#order-confirm")
    expect(page.locator("#placed-status")).to_have_text("SUCCESS")
    [order] = desk.orders_for(signal["id"], trader_token)
    assert (order["order_type"], order["price"]) == ("MARKET", None)


def test_a_risk_failure_shows_its_reason_in_the_form(page, desk, trader_token):
    open_live(page, desk, "trader")
    signal = desk.post_signal(suggest_qty="50")
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    expect(page.locator("[data-testid=risk-warning]")).to_contain_text("over the per-order limit of 10")
    page.click("#order-confirm")
    expect(page.locator("#order-error")).to_contain_text("50 is over the per-order limit of 10")
    expect(page.locator("#order-qty")).to_have_value("50")
    assert desk.orders_for(signal["id"], trader_token) == []


def test_a_double_submit_creates_one_order(page, desk, trader_token):
    open_live(page, desk, "trader")
    clicked = desk.post_signal()
    page.locator(f"#signal-{clicked['id']} [data-action=order]").click()
    page.locator("#order-confirm").dblclick()
    expect(page.locator("[data-testid=order-placed]")).to_be_visible()
    assert len(desk.orders_for(clicked["id"], trader_token)) == 1

    # The same rendering of the form sent twice at once, past the page's own guard (a resent request).
    resent = desk.post_signal()
    statuses = page.evaluate(
        """async (signalId) => {
            const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const body = new URLSearchParams({order_type: "MARKET", qty: "0.5", nonce: "resent-" + signalId});
            const send = () => fetch(`/signals/${signalId}/order/confirm/`,
                {method: "POST", body, headers: {"X-CSRFToken": csrf, "HX-Request": "true"}});
            const answers = await Promise.all([send(), send()]);
            return Promise.all(answers.map(async (answer) => [answer.status, await answer.text()]));
        }""",
        resent["id"],
    )
    assert [status for status, _ in statuses] == [200, 200]
    assert sum("already sent" in text for _, text in statuses) == 1
    assert len(desk.orders_for(resent["id"], trader_token)) == 1


def test_a_viewer_sees_no_action_buttons_and_gets_403_from_every_action(page, desk):
    signal = desk.post_signal()
    open_live(page, desk, "viewer")
    row = page.locator(f"#signal-{signal['id']}")
    expect(row).to_be_visible()
    expect(page.locator("[data-action]")).to_have_count(0)
    expect(row.get_by_role("button", name="Details")).to_be_visible()
    statuses = page.evaluate(
        """async ([signalId, paths]) => {
            const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const out = [];
            for (const [method, path] of paths) {
                const body = method === "POST"
                    ? new URLSearchParams({reason: "x", order_type: "MARKET", qty: "1", nonce: "v"}) : undefined;
                const answer = await fetch(path.replace("{id}", signalId),
                    {method, body, headers: {"X-CSRFToken": csrf, "HX-Request": "true"}});
                out.push(answer.status);
            }
            return out;
        }""",
        [signal["id"], ACTION_PATHS],
    )
    assert statuses == [403] * len(ACTION_PATHS)
    expect(row.locator(".badge")).to_have_text("PENDING")


def test_an_anonymous_user_is_sent_to_login_from_every_page(page, desk):
    signal = desk.post_signal()
    for path in ("/", "/signals/", "/orders/", f"/signals/{signal['id']}/", "/orders/rows/"):
        page.goto(desk.base + path)
        assert re.search(r"/login/\?next=", page.url), path
        expect(page.locator("#login-submit")).to_be_visible()


def test_after_a_dropped_socket_the_page_resyncs_its_rows(page, desk, trader_token):
    """Events sent while the page's sockets are down are lost; the page reads its rows again."""
    links = {"down": False, "open": []}

    def route(ws):
        if links["down"]:
            ws.close()
            return
        ws.connect_to_server()
        links["open"].append(ws)

    page.route_web_socket(re.compile(r"/ws/"), route)
    earlier = desk.post_signal(strategy_name="before_the_drop")
    open_live(page, desk, "trader")
    expect(page.locator(f"#signal-{earlier['id']} .badge")).to_have_text("PENDING")

    links["down"] = True
    for ws in links["open"]:
        ws.close()
    expect(page.locator("#live-status")).to_have_text("reconnecting…")
    missed = desk.post_signal(strategy_name="while_down")
    desk.call(
        "PATCH", f"/api/signals/{earlier['id']}", {"status": "ACCEPTED"}, {"Authorization": f"Bearer {trader_token}"}
    )
    page.wait_for_timeout(300)  # the events above have been sent to nobody
    assert page.locator(f"#signal-{missed['id']}").count() == 0

    links["down"] = False
    expect(page.locator("#live-status")).to_have_text("live")
    expect(page.locator(f"#signal-{missed['id']}")).to_be_visible()
    expect(page.locator(f"#signal-{earlier['id']} .badge")).to_have_text("ACCEPTED")


def test_a_page_whose_sockets_could_not_connect_at_first_catches_up_when_they_do(page, desk):
    """The page was rendered, but its sockets only came up later: what happened in between is read."""
    links = {"down": True}

    def route(ws):
        if links["down"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/"), route)
    login(page, desk, "trader", "/signals/")
    expect(page.locator("#live-status")).to_have_text("reconnecting…")
    missed = desk.post_signal(strategy_name="before_the_first_connect")
    page.wait_for_timeout(300)
    assert page.locator(f"#signal-{missed['id']}").count() == 0

    links["down"] = False
    expect(page.locator("#live-status")).to_have_text("live")
    expect(page.locator(f"#signal-{missed['id']}")).to_be_visible()


def test_logging_out_in_one_tab_sends_the_other_tab_to_login_at_its_next_ping(browser, desk):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        first = context.new_page()
        open_live(first, desk, "trader")
        second = context.new_page()
        second.goto(desk.base + "/orders/")
        expect(second.locator("#live-status")).to_have_text("live")
        first.click("text=Log out")
        first.wait_for_url("**/login/")
        second.evaluate("window.deskLive.sockets.forEach((socket) => socket.ping())")
        second.wait_for_url(re.compile(r"/login/\?next=%2Forders%2F$"), timeout=5000)
    finally:
        context.close()


def test_the_pages_fit_a_phone_screen(browser, desk):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        signal = desk.post_signal()
        open_live(page, desk, "trader")
        for path in ("/signals/", "/orders/"):
            page.goto(desk.base + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        page.goto(desk.base + "/signals/")
        page.locator(f"#signal-{signal['id']} [data-action=order]").click()
        confirm = page.locator("#order-confirm")
        expect(confirm).to_be_visible()
        box = confirm.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    finally:
        context.close()


@pytest.fixture(scope="module")
def hasty_desk(tmp_path_factory):
    """A desk whose signals expire after 3 s, checked by beat every second."""
    with LiveDesk(
        tmp_path_factory.mktemp("hasty-desk"), env={"SIGNAL_MAX_AGE": "3", "SIGNAL_EXPIRY_EVERY": "1"}
    ) as running:
        yield running


def test_a_signal_that_expires_while_its_form_is_open_cannot_be_confirmed(page, hasty_desk):
    open_live(page, hasty_desk, "trader")
    signal = hasty_desk.post_signal()
    row = page.locator(f"#signal-{signal['id']}")
    row.locator("[data-action=order]").click()
    expect(page.locator("#order-confirm")).to_be_enabled()
    expect(page.locator("#order-confirm")).to_be_disabled(timeout=6000)  # the countdown ran out
    expect(row).to_have_count(0, timeout=6000)  # beat canceled it; the row left the queue live
    status = page.evaluate(
        """async (signalId) => {
            const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const body = new URLSearchParams({order_type: "MARKET", qty: "0.5", nonce: "late"});
            const answer = await fetch(`/signals/${signalId}/order/confirm/`,
                {method: "POST", body, headers: {"X-CSRFToken": csrf, "HX-Request": "true"}});
            return [answer.status, await answer.text()];
        }""",
        signal["id"],
    )
    assert status[0] == 409 and "CANCELED" in status[1]
    assert hasty_desk.orders_for(signal["id"], hasty_desk.token("trader")) == []
