"""Fault injection: each kind's effect as a browser or API client would see it, and --once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from executor.paper import selectors, services
from executor.paper.models import FaultKind, OrderStatus, PaperOrder

from .conftest import order_body, place_on_page, web_login

pytestmark = pytest.mark.django_db


def fault(trader, kind: str, value: str = "", once: bool = False) -> None:
    services.paper_fault_set(account=trader.account, kind=kind, value=value, once=once)


def test_slow_delays_pages_and_api_calls_by_the_milliseconds_asked(alice, alice_web, alice_api, slept):
    fault(alice, FaultKind.SLOW, "250")
    assert alice_web.get("/paper/orders").status_code == 200
    assert alice_api.get("/paper/api/balances").status_code == 200
    assert slept == [0.25, 0.25]
    assert selectors.fault_get(account=alice.account, kind=FaultKind.SLOW).fired_count == 2


def test_a_once_fault_fires_once_and_turns_itself_off(alice, alice_web, slept):
    fault(alice, FaultKind.SLOW, "100", once=True)
    alice_web.get("/paper/orders")
    alice_web.get("/paper/orders")
    assert slept == [0.1]
    assert selectors.fault_get(account=alice.account, kind=FaultKind.SLOW) is None


def test_session_expired_sends_the_next_page_load_to_the_login_page_until_the_next_login(alice, alice_web):
    fault(alice, FaultKind.SESSION_EXPIRED)
    response = alice_web.get("/paper/trade/BTC-USDT")
    assert response.status_code == 302 and response["Location"].startswith("/paper/login")
    assert b'data-testid="login-page"' in alice_web.get(response["Location"]).content

    # The first login used this 30 seconds' code; a code is good once, so the next one.
    assert web_login(alice_web, alice, code=alice.next_totp()).status_code == 302
    assert alice_web.get("/paper/trade/BTC-USDT").status_code == 200
    assert selectors.fault_get(account=alice.account, kind=FaultKind.SESSION_EXPIRED) is None


def test_session_expired_places_no_order_from_a_stale_page(alice, alice_web, mark):
    fault(alice, FaultKind.SESSION_EXPIRED)
    response = place_on_page(alice_web, client_order_id="td-stale")
    assert response.status_code == 302 and response["Location"] == "/paper/login"
    assert not PaperOrder.objects.exists()


def test_captcha_replaces_every_page_with_a_challenge_until_turned_off(alice, alice_web, alice_api, mark):
    fault(alice, FaultKind.CAPTCHA)
    for path in ("/paper/trade/BTC-USDT", "/paper/orders", "/paper/account"):
        page = alice_web.get(path)
        assert page.status_code == 403 and b'data-testid="captcha"' in page.content, path
        assert b'id="order-form"' not in page.content
    assert place_on_page(alice_web).status_code == 403
    assert not PaperOrder.objects.exists()
    assert alice_api.get("/paper/api/balances").status_code == 200

    services.paper_fault_clear(account=alice.account, kind=FaultKind.CAPTCHA)
    assert b'id="order-form"' in alice_web.get("/paper/trade/BTC-USDT").content


def test_captcha_also_stops_a_login_after_the_password(alice):
    fault(alice, FaultKind.CAPTCHA)
    client = Client()
    client.post("/paper/login", {"username": "alice", "password": alice.password})
    assert b'data-testid="captcha"' in client.get("/paper/login/2fa").content


def test_reject_refuses_the_next_orders_with_the_code_asked(alice, alice_api, mark):
    fault(alice, FaultKind.REJECT, "INSUFFICIENT_BALANCE")
    for client_order_id in ("td-1", "td-2"):
        response = alice_api.post("/paper/api/orders", order_body(client_order_id), format="json")
        assert response.status_code == 422
        assert response.json()["error"] == {
            "code": "INSUFFICIENT_BALANCE",
            "message": "Insufficient balance for this order.",
        }
    assert set(PaperOrder.objects.values_list("status", flat=True)) == {OrderStatus.REJECTED}


def test_reject_once_with_a_reason_refuses_only_the_next_order(alice, alice_web, mark):
    fault(alice, FaultKind.REJECT, "RISK_LIMIT:Account is under review.", once=True)
    first = alice_web.get(place_on_page(alice_web, client_order_id="td-1")["Location"]).content.decode()
    assert 'data-code="RISK_LIMIT"' in first and "Account is under review." in first
    place_on_page(alice_web, client_order_id="td-2")
    assert PaperOrder.objects.get(client_order_id="td-2").status == OrderStatus.FILLED


def test_layout_changed_renames_the_trade_forms_elements(alice, alice_web):
    fault(alice, FaultKind.LAYOUT_CHANGED)
    html = alice_web.get("/paper/trade/BTC-USDT").content.decode()
    for missing in ('id="place-order"', 'id="order-qty"', 'id="order-price"'):
        assert missing not in html
    assert 'id="submit-order-v2"' in html and 'data-layout="v2"' in html
    services.paper_fault_clear(account=alice.account, kind=FaultKind.LAYOUT_CHANGED)
    assert 'id="place-order"' in alice_web.get("/paper/trade/BTC-USDT").content.decode()


def test_lost_reply_fills_the_api_order_but_the_answer_is_a_timeout(alice, alice_api, mark, slept):
    fault(alice, FaultKind.LOST_REPLY, "3")
    response = alice_api.post("/paper/api/orders", order_body("td-lost"), format="json")
    assert slept == [3.0]
    assert response.status_code == 504 and response.json()["error"]["code"] == "GATEWAY_TIMEOUT"
    assert PaperOrder.objects.get(client_order_id="td-lost").status == OrderStatus.FILLED
    assert alice_api.get("/paper/api/orders/by-client-id/td-lost").json()["status"] == "FILLED"


def test_lost_reply_fills_the_web_order_but_the_page_is_a_timeout(alice, alice_web, mark, slept):
    fault(alice, FaultKind.LOST_REPLY, "0.5", once=True)
    response = place_on_page(alice_web, client_order_id="td-lost")
    assert slept == [0.5]
    assert response.status_code == 504
    assert b'data-testid="gateway-timeout"' in response.content and b"order-success" not in response.content
    assert PaperOrder.objects.get(client_order_id="td-lost").status == OrderStatus.FILLED
    orders = alice_web.get("/paper/orders?client_order_id=td-lost").content.decode()
    assert 'data-client-order-id="td-lost" data-status="FILLED"' in orders


def test_the_fault_command_switches_faults_on_and_off(alice):
    out = StringIO()
    call_command("paper_fault", "alice", "slow", "--value", "1500", "--once", stdout=out)
    active = selectors.faults_active(account=alice.account)
    assert active[FaultKind.SLOW].value == "1500" and active[FaultKind.SLOW].once
    call_command("paper_fault", "alice", "slow", "--off", stdout=out)
    assert selectors.faults_active(account=alice.account) == {}
    assert "slow on for alice value=1500 (once)" in out.getvalue()


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("slow", "soon"),
        ("slow", "-1"),
        ("lost_reply", "NaN"),
        ("reject", "lowercase code"),
        ("rate_limited", "1.5"),
        ("rate_limited", "3601"),
    ],
)
def test_the_fault_command_refuses_values_that_make_no_sense(alice, kind, value):
    with pytest.raises(CommandError):
        call_command("paper_fault", "alice", kind, "--value", value, stdout=StringIO())
    assert selectors.faults_active(account=alice.account) == {}


def test_the_fault_command_needs_an_existing_account(db):
    with pytest.raises(CommandError, match="no paper account"):
        call_command("paper_fault", "nobody", "captcha", stdout=StringIO())


def test_faults_are_set_in_the_admin_through_the_service(alice, alice_web, desk_admin):
    admin = Client()
    admin.force_login(desk_admin)
    response = admin.post(
        "/admin/paper/paperfault/add/",
        {"account": alice.account.pk, "kind": "session_expired", "value": "", "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert selectors.fault_get(account=alice.account, kind=FaultKind.SESSION_EXPIRED) is not None
    assert alice_web.get("/paper/orders").status_code == 302


def test_lost_reply_to_the_scripts_confirm_is_the_timeout_page_not_a_notice(alice, alice_web, mark, slept):
    fault(alice, FaultKind.LOST_REPLY, "0.5", once=True)
    form = {"side": "BUY", "order_type": "MARKET", "qty": "0.1", "client_order_id": "td-lost-js", "confirmed": "1"}
    response = alice_web.post("/paper/trade/BTC-USDT", form, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 504 and "X-Paper-Fragment" not in response
    assert b'data-testid="gateway-timeout"' in response.content and b"order-success" not in response.content
    assert PaperOrder.objects.get(client_order_id="td-lost-js").status == OrderStatus.FILLED
