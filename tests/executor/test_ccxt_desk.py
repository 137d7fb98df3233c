"""Desk orders on a ccxt account (binance, against the paper exchange's Binance dialect on the live
test server): confirm through POST /api/orders with the venue's rules, placement and its outcome,
account health and metrics. Real ccxt, real HTTP."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from executor.connectors import ccxt_pool
from executor.models import ExchangeAccount
from executor.paper.models import PaperBalance, PaperInstrument, PaperOrder
from executor.paper.services import paper_binance_key_create
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from orders import tasks
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_state():
    ccxt_pool.pool_clear()
    cache.clear()
    yield
    ccxt_pool.pool_clear()
    cache.clear()


@pytest.fixture
def paper(live_server, settings, paper_instruments):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    # Binance-like rules: a minimum above the step, and a minimum order value.
    PaperInstrument.objects.filter(symbol="BTC-USDT").update(min_qty=Decimal("0.001"), min_notional=Decimal("10"))
    account, _ = paper_account_create(
        username="desk-ccxt", password="paper-password-1", balances={"USDT": Decimal("100000"), "BTC": Decimal("1")}
    )
    settings.EXECUTOR = "exchange"
    settings.CCXT_TIMEOUT = 3.0
    settings.CCXT_RETRY_DELAY = 0.05
    return account


def ccxt_account(owner, paper, live_server, *, secret: str | None = None, label: str = "paper (binance-api)"):
    _, key, real_secret = paper_binance_key_create(account=paper)
    return exchange_account_save(
        account=ExchangeAccount(
            owner=owner,
            label=label,
            venue="paper",
            connector="ccxt",
            exchange_id="binance",
            base_url=f"{live_server.url}/paper/binance",
            is_desk_default=True,
        ),
        secrets={"api_key": key, "api_secret": secret or real_secret},
    )


@pytest.fixture
def desk_account(trader, paper, live_server) -> ExchangeAccount:
    return ccxt_account(trader, paper, live_server)


def confirm(client, signal, **overrides):
    body = {"signal_id": signal.pk, "qty": "0.01", "order_type": "MARKET", **overrides}
    return client.post("/api/orders", body, format="json")


def placed(response) -> Order:
    """The confirmed order, after its placement task ran here."""
    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    tasks.place_order(order.pk)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"qty": "0.00125"}, "qty", "qty_off_step"),
        ({"qty": "0.0005"}, "qty", "qty_below_min"),
        # 0.001 x 9000 = 9 USDT, under the venue's 10 USDT minimum order value.
        ({"qty": "0.001", "order_type": "LIMIT", "price": "9000"}, "qty", "below_min_notional"),
        ({"order_type": "LIMIT", "price": "65000.001"}, "price", "price_off_tick"),
    ],
)
def test_an_order_off_the_venues_rules_is_refused_at_confirm_naming_the_field(
    client_for, trader, make_signal, desk_account, queued_tasks, overrides, field, code
):
    response = confirm(client_for(trader), make_signal(), **overrides)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and field in response.json()["fields"]
    assert not Order.objects.exists() and queued_tasks == []


def test_a_market_under_the_min_notional_at_the_last_price_is_refused(
    client_for, trader, make_signal, desk_account, queued_tasks
):
    paper_price_set(symbol="BTC-USDT", price=Decimal("5000"))  # 0.001 x 5000 = 5 USDT
    response = confirm(client_for(trader), make_signal(), qty="0.001")
    assert response.status_code == 400 and response.json()["code"] == "below_min_notional"


def test_a_confirmed_market_order_fills_through_ccxt(client_for, trader, make_signal, desk_account, queued_tasks):
    order = placed(confirm(client_for(trader), make_signal(), qty="0.01"))
    assert (order.status, order.venue_state, order.filled_qty, order.avg_fill_price) == (
        "SUCCESS",
        "FILLED",
        Decimal("0.01"),
        Decimal("65000"),
    )
    venue = PaperOrder.objects.get(client_order_id=order.client_order_id)
    assert venue.status == "FILLED" and order.exchange_order_id
    assert order.fee == venue.fee and order.fills.count() == venue.trades.count()


def test_a_balance_spent_between_confirm_and_placement_fails_the_order_insufficient_balance(
    client_for, trader, make_signal, desk_account, paper, queued_tasks
):
    response = confirm(client_for(trader), make_signal(), qty="0.5")
    assert response.status_code == 201, response.json()
    # Spent elsewhere (another app, a person at the exchange) before the worker sends it.
    PaperBalance.objects.filter(account=paper, asset="USDT").update(free=Decimal("100"))
    order = placed(response)
    assert (order.status, order.error_code) == ("FAILED", "INSUFFICIENT_BALANCE")
    assert not PaperOrder.objects.filter(client_order_id=order.client_order_id, status="FILLED").exists()


def test_a_lost_reply_after_the_order_is_stored_ends_success_with_one_venue_order(
    client_for, trader, make_signal, desk_account, paper, queued_tasks, settings
):
    settings.CCXT_TIMEOUT = 1.5
    response = confirm(client_for(trader), make_signal(), qty="0.01")  # the markets are read here
    paper_fault_set(account=paper, kind="lost_reply", value="3", once=True)
    order = placed(response)
    assert (order.status, order.venue_state) == ("SUCCESS", "FILLED")
    history = [h.status for h in order.history.order_by("history_date")]
    assert "UNKNOWN" in history
    assert PaperOrder.objects.filter(client_order_id=order.client_order_id).count() == 1


def test_a_bad_secret_fails_auth_and_marks_the_account_as_needing_a_person(
    client_for, trader, make_signal, paper, live_server, queued_tasks
):
    account = ccxt_account(trader, paper, live_server, secret="y" * 64)
    order = placed(confirm(client_for(trader), make_signal(), qty="0.01"))
    assert (order.status, order.error_code) == ("FAILED", "AUTH_FAILED")
    account.refresh_from_db()
    assert account.health == "needs_person" and "API key" in account.health_detail
    assert account.history.filter(health="needs_person").exists()
    assert not PaperOrder.objects.filter(client_order_id=order.client_order_id).exists()
    # The desk's own account needs a person: the executor health check says so.
    health = client_for(trader).get("/api/executor/health")
    assert health.status_code == 503
    assert [(row["label"], row["health"]) for row in health.json()["accounts"]] == [
        ("paper (binance-api)", "needs_person")
    ]


def test_the_account_check_records_health_and_metrics_show_it_per_venue(desk_account, settings):
    from django.test import Client
    from prometheus_client.parser import text_string_to_metric_families

    from executor import tasks as executor_tasks

    executor_tasks.check_accounts()
    desk_account.refresh_from_db()
    assert desk_account.health == "ok" and desk_account.health_checked_at is not None
    settings.METRICS_TOKEN = "metrics-token-0123456789abcdef"
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    labels = (("account", "paper (binance-api)"), ("health", "ok"), ("venue", "ccxt:binance"))
    assert samples[("tradedesk_exchange_account_health", labels)] == 1


def test_a_clock_two_minutes_off_marks_the_account_at_the_scheduled_check(desk_account):
    from executor import tasks as executor_tasks

    # Our clock two minutes slow, as ccxt signs (its clock less options["timeDifference"]).
    ccxt_pool.pooled(desk_account.config()).exchange.options["timeDifference"] = 120_000
    executor_tasks.check_accounts()
    desk_account.refresh_from_db()
    assert desk_account.health == "needs_person"
    assert "clock" in desk_account.health_detail and "NTP" in desk_account.health_detail
    # Set right again: the next check records it working.
    ccxt_pool.pooled(desk_account.config()).exchange.options["timeDifference"] = 0
    executor_tasks.check_accounts()
    desk_account.refresh_from_db()
    assert desk_account.health == "ok"


def test_the_scheduled_refresh_keeps_rules_a_confirm_uses_while_the_venue_is_down(
    client_for, trader, make_signal, desk_account, settings, queued_tasks
):
    from orders import tasks as order_tasks

    order_tasks.refresh_instruments()
    settings.VENUE_RULES_TTL = 0  # stale at once: the confirm asks the venue, which is down...
    ExchangeAccount.objects.filter(pk=desk_account.pk).update(base_url="http://127.0.0.1:9/paper/binance")
    ccxt_pool.pool_clear()
    settings.CCXT_RETRIES = 0
    response = confirm(client_for(trader), make_signal(), qty="0.00125")
    # ...so the refreshed rules decide: off the step.
    assert response.status_code == 400 and response.json()["code"] == "qty_off_step"


def test_a_resting_limit_order_is_followed_to_filled_with_its_fills(
    client_for, trader, make_signal, desk_account, queued_tasks
):
    from orders import lifecycle

    order = placed(confirm(client_for(trader), make_signal(), qty="0.01", order_type="LIMIT", price="64000"))
    assert (order.status, order.venue_state) == ("SUCCESS", "OPEN")
    paper_price_set(symbol="BTC-USDT", price=Decimal("63900"))
    lifecycle.order_refresh(order_id=order.pk)
    order.refresh_from_db()
    venue = PaperOrder.objects.get(client_order_id=order.client_order_id)
    assert (order.venue_state, order.filled_qty, order.avg_fill_price) == ("FILLED", Decimal("0.01"), Decimal("64000"))
    assert order.fee == venue.fee > 0
    # Binance's trade ids are the venue's numbers (the paper exchange's trade rows).
    assert sorted(order.fills.values_list("trade_id", flat=True)) == sorted(
        str(pk) for pk in venue.trades.values_list("id", flat=True)
    )


def test_a_resting_limit_order_is_canceled_at_the_venue(client_for, trader, make_signal, desk_account, queued_tasks):
    from orders import lifecycle

    order = placed(confirm(client_for(trader), make_signal(), qty="0.01", order_type="LIMIT", price="60000"))
    response = client_for(trader).post(f"/api/orders/{order.pk}/cancel")
    assert response.status_code in (200, 202), response.json()
    lifecycle.order_cancel_at_venue(order_id=order.pk)
    order.refresh_from_db()
    assert order.venue_state == "CANCELED"
    assert PaperOrder.objects.get(client_order_id=order.client_order_id).status == "CANCELED"
