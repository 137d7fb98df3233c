"""Venue rules at confirm: POST /api/orders refuses what the account's venue would refuse, naming
the field, before any order row exists. Against the paper exchange's JSON API on the live test
server (BTC-USDT: lot 0.0001, minimum 0.0001, tick 0.01); the ccxt path with minimum notional is in
tests/executor/test_ccxt_connector.py."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from executor.models import ExchangeAccount
from executor.paper.services.accounts import paper_account_create
from executor.services import exchange_account_save
from orders import venue_rules
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_rules_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def desk_account(live_server, settings, trader, paper_instruments) -> ExchangeAccount:
    _, key = paper_account_create(username="rules-bot", password="paper-password-1", balances={"USDT": Decimal("1e6")})
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
    body = {"signal_id": signal.pk, "qty": "0.5", "order_type": "LIMIT", "price": "65000", **overrides}
    return client.post("/api/orders", body, format="json")


def refused(response, field: str, code: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code and field in body["fields"], body
    assert not Order.objects.exists()
    return body


def test_a_quantity_off_the_lot_step_is_refused_naming_qty(client_for, trader, make_signal, desk_account, queued_tasks):
    body = refused(confirm(client_for(trader), make_signal(), qty="0.00015"), "qty", "qty_off_step")
    assert "0.0001" in body["fields"]["qty"][0]
    assert queued_tasks == []


def test_a_limit_price_off_the_tick_is_refused_naming_price(client_for, trader, make_signal, desk_account):
    refused(confirm(client_for(trader), make_signal(), price="65000.005"), "price", "price_off_tick")


def test_a_symbol_the_venue_does_not_list_is_refused_naming_symbol(client_for, trader, make_signal, desk_account):
    refused(confirm(client_for(trader), make_signal(symbol="DOGE/USDT")), "symbol", "symbol_not_listed")


def test_an_order_within_the_rules_is_confirmed(client_for, trader, make_signal, desk_account, queued_tasks):
    response = confirm(client_for(trader), make_signal(), qty="0.0002", price="65000.01")
    assert response.status_code == 201, response.json()
    assert Order.objects.get().qty == Decimal("0.0002")


def test_a_venue_whose_rules_were_never_read_and_cannot_be_read_refuses_with_503(
    client_for, trader, make_signal, desk_account
):
    ExchangeAccount.objects.filter(pk=desk_account.pk).update(base_url="http://127.0.0.1:9/paper")
    response = confirm(client_for(trader), make_signal())
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "venue_rules_unavailable"
    assert not Order.objects.exists()


def test_the_last_known_rules_are_used_when_the_venue_cannot_be_read(
    client_for, trader, make_signal, desk_account, settings
):
    venue_rules.instruments_refresh(account=desk_account)
    settings.VENUE_RULES_TTL = 0  # every confirm asks the venue again...
    # ...which is now unreachable (a queryset update keeps updated_at, so the cached rules stay its own).
    ExchangeAccount.objects.filter(pk=desk_account.pk).update(base_url="http://127.0.0.1:9/paper")
    refused(confirm(client_for(trader), make_signal(), qty="0.00015"), "qty", "qty_off_step")


def test_the_dry_run_has_no_venue_rules(client_for, trader, make_signal, queued_tasks):
    response = confirm(client_for(trader), make_signal(), qty="0.00015")
    assert response.status_code == 201, response.json()
