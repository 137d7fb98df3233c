"""Balances at confirm, and the record every venue-check refusal leaves (rule and figures).

Against the paper exchange's JSON API on the live test server (BTC-USDT: lot 0.0001, minimum
0.0001, tick 0.01), as the desk's default account."""

from decimal import Decimal as D

import pytest

from executor.models import ExchangeAccount
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from orders.models import Order
from portfolio.models import ConfirmRefusal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk_account(live_server, settings, trader, paper_instruments, queued_tasks) -> ExchangeAccount:
    settings.RISK_MAX_ORDER_QTY = ""
    settings.RISK_MAX_DAILY_QTY = ""
    settings.PAPER_API_TIMEOUT = 3.0
    paper_price_set(symbol="BTC-USDT", price=D("60000"))
    _, key = paper_account_create(
        username="balance-bot", password="paper-password-1", balances={"USDT": D("30000"), "BTC": D("0.2")}
    )
    settings.EXECUTOR = "exchange"
    return exchange_account_save(
        account=ExchangeAccount(
            owner=trader,
            label="paper api",
            venue="paper",
            connector="api",
            base_url=f"{live_server.url}/paper",
            is_desk_default=True,
        ),
        secrets={"api_key": key},
    )


def confirm(client, signal, **overrides):
    body = {"signal_id": signal.pk, "qty": "0.5", "order_type": "LIMIT", "price": "60000", **overrides}
    return client.post("/api/orders", body, format="json")


def refusal_of(response, field: str, rule: str) -> ConfirmRefusal:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == rule and field in body["fields"], body
    assert not Order.objects.exists()
    refusal = ConfirmRefusal.objects.get()
    assert (refusal.category, refusal.rule, refusal.field) == ("venue", rule, field)
    return refusal


def test_a_buy_over_the_free_quote_balance_is_refused_naming_qty(client_for, trader, make_signal, desk_account):
    response = confirm(client_for(trader), make_signal(), qty="0.5", price="60000")  # 30,000 needed... and available

    assert response.status_code == 201  # exactly the balance fits

    second = confirm(client_for(trader), make_signal(), qty="0.6", price="60000")
    assert second.status_code == 400
    assert second.json()["code"] == "insufficient_balance"
    assert "36000 USDT does not fit the 30000 USDT available at paper api" in second.json()["fields"]["qty"][0]
    refusal = ConfirmRefusal.objects.get()
    assert refusal.category == "venue"
    assert refusal.figures == {"side": "BUY", "asset": "USDT", "needed": "36000", "available": "30000"}


def test_a_market_buy_is_valued_at_the_venues_last_price(client_for, trader, make_signal, desk_account):
    response = confirm(client_for(trader), make_signal(suggest_price=None), qty="0.51", order_type="MARKET", price=None)

    refusal = refusal_of(response, "qty", "insufficient_balance")
    assert refusal.figures["needed"] == "30600"  # 0.51 x the paper price 60,000


def test_a_sell_over_the_holdings_is_refused_naming_qty(client_for, trader, make_signal, desk_account):
    response = confirm(client_for(trader), make_signal(side="SELL"), qty="0.25")

    refusal = refusal_of(response, "qty", "insufficient_balance")
    assert refusal.figures == {"side": "SELL", "asset": "BTC", "needed": "0.25", "available": "0.2"}
    assert "0.25 BTC does not fit the 0.2 BTC available" in refusal.message
    assert confirm(client_for(trader), make_signal(side="SELL"), qty="0.2").status_code == 201


def test_the_dry_run_has_no_balances_to_check(settings, client_for, trader, make_signal, queued_tasks):
    settings.RISK_MAX_ORDER_QTY = ""
    settings.RISK_MAX_DAILY_QTY = ""

    assert confirm(client_for(trader), make_signal(side="SELL"), qty="1000").status_code == 201


def test_an_unlisted_symbol_leaves_a_record_of_the_venue_check(client_for, trader, make_signal, desk_account):
    refusal = refusal_of(confirm(client_for(trader), make_signal(symbol="DOGE/USDT")), "symbol", "symbol_not_listed")
    assert refusal.figures["symbol"] == "DOGE/USDT"


def test_an_off_step_quantity_leaves_a_record_with_the_lot_step(client_for, trader, make_signal, desk_account):
    refusal = refusal_of(confirm(client_for(trader), make_signal(), qty="0.00015"), "qty", "qty_off_step")
    assert refusal.figures == {"qty": "0.00015", "lot_size": "0.0001"}


def test_an_off_tick_price_leaves_a_record_with_the_tick(client_for, trader, make_signal, desk_account):
    refusal = refusal_of(
        confirm(client_for(trader), make_signal(), qty="0.1", price="60000.005"), "price", "price_off_tick"
    )
    assert refusal.figures == {"price": "60000.005", "tick_size": "0.01"}


def test_the_order_form_shows_the_balance_and_refuses_an_unaffordable_buy(client, trader, make_signal, desk_account):
    signal = make_signal(suggest_qty=D("0.6"), suggest_price=D("60000"))
    client.force_login(trader)

    preview = client.get(f"/signals/{signal.pk}/order/preview/?order_type=LIMIT&price=60000&qty=0.6")
    html = preview.content.decode()
    assert 'id="balance-fit"' in html and "30,000 USDT available" in html and "36,000 USDT needed" in html

    response = client.post(
        f"/signals/{signal.pk}/order/confirm/", {"order_type": "LIMIT", "price": "60000", "qty": "0.6", "nonce": "n1"}
    )
    assert response.status_code == 400
    assert "does not fit the 30000 USDT available" in response.content.decode()
    assert not Order.objects.exists()
