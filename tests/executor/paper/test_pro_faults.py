"""The paper exchange's faults on Paper Pro: slow, lost reply after the order is stored, stale
toast, session expiry, captcha and layout change."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from executor.paper import services
from executor.paper.models import PaperFault, PaperOrder

PRO = "/paper/pro"


@pytest.fixture
def pro(alice, mark) -> Client:
    client = Client()
    assert client.post(f"{PRO}/login", {"username": alice.username, "password": alice.password}).status_code == 302
    return client


def fault(trader, kind: str, value: str = "", once: bool = False) -> None:
    services.paper_fault_set(account=trader.account, kind=kind, value=value, once=once)


def place(client: Client, **fields):
    body = {"symbol": "BTC_USDT", "side": "BUY", "type": "LIMIT", "price": "60000", "quantity": "0.01", **fields}
    return client.post(f"{PRO}/api/order/place", body, content_type="application/json")


def test_slow_delays_pages_and_endpoints_but_not_the_public_ticker(pro, alice, slept):
    fault(alice, "slow", "1500")
    assert pro.get(f"{PRO}/trade/BTC_USDT").status_code == 200
    assert place(pro).json()["success"] is True
    assert slept == [1.5, 1.5]
    Client().get(f"{PRO}/api/ticker/BTC_USDT")
    assert slept == [1.5, 1.5]


def test_a_lost_reply_comes_after_the_order_is_stored(pro, alice, slept):
    fault(alice, "lost_reply", "3", once=True)
    response = place(pro, side="SELL", type="MARKET", price="", quantity="0.1")
    assert response.status_code == 504 and response.json()["code"] == "GATEWAY_TIMEOUT"
    assert slept == [3.0]
    order = PaperOrder.objects.get(account=alice.account)
    assert order.status == "FILLED"
    history = pro.get(f"{PRO}/panel/history").content.decode()
    assert f"<td>{order.pk}</td>" in history  # findable by its fields afterwards
    assert place(pro).status_code == 200  # --once: the next answer comes


def test_a_refused_submit_under_stale_toast_shows_the_previous_orders_toast_but_still_answers_refused(pro, alice):
    first = place(pro).json()["data"]["orderId"]
    fault(alice, "stale_toast")
    fault(alice, "reject", "INSUFFICIENT_BALANCE", once=True)
    refused = place(pro)
    assert refused.status_code == 200
    assert refused.json() == {
        "success": False,
        "code": "INSUFFICIENT_BALANCE",
        "message": "Insufficient balance",
        "toast": f"Order placed · #{first}",
    }
    bad_lot = place(pro, quantity="0.00015")
    assert bad_lot.status_code == 400 and bad_lot.json()["toast"] == f"Order placed · #{first}"
    # A placed order is unaffected.
    placed = place(pro).json()
    assert placed["success"] is True and placed["toast"] == f"Order placed · #{placed['data']['orderId']}"


def test_stale_toast_with_no_earlier_order_leaves_the_refusal_as_it_is(pro, alice):
    fault(alice, "stale_toast")
    body = place(pro, quantity="5").json()
    assert body["success"] is False and "toast" not in body


def test_an_expired_session_sends_pages_to_the_login_and_endpoints_answer_401_until_logged_in_again(pro, alice):
    fault(alice, "session_expired")
    page = pro.get(f"{PRO}/trade/BTC_USDT")
    assert page.status_code == 302 and page["Location"] == f"{PRO}/login?next=%2Fpaper%2Fpro%2Ftrade%2FBTC_USDT"
    answer = pro.post(
        f"{PRO}/api/order/place", {}, content_type="application/json", HTTP_X_PAGE_PATH="/paper/pro/trade/BTC_USDT"
    )
    assert answer.status_code == 401
    assert answer.json()["login_url"] == f"{PRO}/login?next=%2Fpaper%2Fpro%2Ftrade%2FBTC_USDT"
    assert not PaperOrder.objects.exists()
    again = Client()
    assert again.post(f"{PRO}/login", {"username": alice.username, "password": alice.password}).status_code == 302
    assert place(again).json()["success"] is True
    assert not PaperFault.objects.get(kind="session_expired").is_active


def test_captcha_answers_pages_and_endpoints_with_a_challenge_and_places_nothing(pro, alice):
    fault(alice, "captcha")
    page = pro.get(f"{PRO}/trade/BTC_USDT")
    assert page.status_code == 403 and b"Security verification" in page.content
    answer = place(pro)
    assert answer.status_code == 403 and answer.json()["code"] == "CAPTCHA_REQUIRED"
    assert not PaperOrder.objects.exists()
    login = Client().post(f"{PRO}/login", {"username": alice.username, "password": alice.password})
    assert login.status_code == 403 and b"Security verification" in login.content
    assert "pro_session" not in login.cookies


def test_a_changed_layout_renames_the_tickets_fields_classes_and_ids(pro, alice):
    normal = pro.get(f"{PRO}/trade/BTC_USDT").content.decode()
    fault(alice, "layout_changed")
    changed = pro.get(f"{PRO}/trade/BTC_USDT").content.decode()
    for before, after in [
        (">Price</label>", ">Rate</label>"),
        (">Amount</label>", ">Quantity</label>"),
        (">Buy BTC</button>", ">Place buy order</button>"),
        ("css-7h2mz", "_form_0b9d"),
    ]:
        assert before in normal and before not in changed
        assert after in changed
    ids = lambda html: set(re.findall(r'id="([^"]+)"', html))  # noqa: E731
    assert ids(normal) != ids(changed)
    assert not re.search(r"\sdata-[a-z-]+=", changed)


def test_an_injected_reject_is_an_inline_refusal_with_its_code(pro, alice):
    fault(alice, "reject", "MARKET_CLOSED:Trading is paused for this pair", once=True)
    body = place(pro).json()
    assert body == {"success": False, "code": "MARKET_CLOSED", "message": "Trading is paused for this pair"}


def test_the_fault_command_knows_the_stale_toast_fault(alice):
    call_command("paper_fault", alice.username, "stale_toast", "--once")
    row = PaperFault.objects.get(account=alice.account, kind="stale_toast")
    assert row.is_active and row.once
