"""The ccxt connector with ccxt's own, unmodified `binance` class, over real HTTP, against the paper
exchange's Binance Spot REST dialect on the live test server (/paper/binance/api/v3/...). No mock of
ccxt or HTTP: signatures, timestamps and error codes are ccxt's and the paper exchange's."""

import time
from decimal import Decimal

import pytest

from executor.connectors import ccxt_pool
from executor.connectors.base import AccountConfig, ErrorCode, OrderTicket, ResultStatus, VenueState
from executor.connectors.ccxt_connector import CcxtConnector
from executor.paper.models import PaperBalance, PaperInstrument, PaperOrder
from executor.paper.services import paper_binance_key_create
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_instances():
    # One ccxt instance per account and process: each test builds its own (markets, clock).
    ccxt_pool.pool_clear()
    yield
    ccxt_pool.pool_clear()


@pytest.fixture
def paper(live_server, settings, paper_instruments):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    account, _ = paper_account_create(
        username="ccxt-bot", password="paper-password-1", balances={"USDT": Decimal("100000"), "BTC": Decimal("1")}
    )
    settings.CCXT_TIMEOUT = 3.0
    settings.CCXT_RETRY_DELAY = 0.05
    return account


def config_for(paper_account, live_server, **overrides) -> AccountConfig:
    _, key, secret = paper_binance_key_create(account=paper_account)
    values = {
        "label": "ccxt",
        "venue": "paper",
        "exchange_id": "binance",
        "base_url": f"{live_server.url}/paper/binance",
        "secrets": {"api_key": key, "api_secret": secret},
        **overrides,
    }
    return AccountConfig(**values)


@pytest.fixture
def connector(paper, live_server) -> CcxtConnector:
    return CcxtConnector(config_for(paper, live_server))


def ticket(client_order_id: str, **overrides) -> OrderTicket:
    values = {"symbol": "BTC/USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.1"), "price": None}
    return OrderTicket(client_order_id=client_order_id, **{**values, **overrides})


def test_a_market_buy_fills_with_its_fills_and_fee(paper, connector):
    result = connector.place_order(ticket("td-ccxt-1"))
    assert result.status == ResultStatus.SUCCESS, result
    assert (result.venue_state, result.filled_qty, result.avg_price) == (
        VenueState.FILLED,
        Decimal("0.1"),
        Decimal("65000"),
    )
    venue = PaperOrder.objects.get(account=paper, client_order_id="td-ccxt-1")
    assert result.exchange_order_id and result.client_order_id == "td-ccxt-1"
    assert sum(fill.qty for fill in result.fills) == Decimal("0.1")
    assert result.fee == venue.fee and result.fee_asset == venue.fee_asset


def test_a_market_sell_fills(paper, connector):
    result = connector.place_order(ticket("td-ccxt-2", side="SELL", qty=Decimal("0.25")))
    assert (result.status, result.venue_state, result.filled_qty) == (
        ResultStatus.SUCCESS,
        VenueState.FILLED,
        Decimal("0.25"),
    )
    assert PaperBalance.objects.get(account=paper, asset="BTC").free == Decimal("0.75")


def test_a_resting_limit_buy_is_found_by_client_order_id_listed_open_and_canceled(paper, connector):
    limit = ticket("td-ccxt-3", order_type="LIMIT", qty=Decimal("0.01"), price=Decimal("60000"))
    placed = connector.place_order(limit)
    assert (placed.status, placed.venue_state, placed.filled_qty) == (ResultStatus.SUCCESS, VenueState.OPEN, 0)

    found = connector.get_order("td-ccxt-3", ticket=limit)
    assert (found.client_order_id, found.exchange_order_id, found.venue_state) == (
        "td-ccxt-3",
        placed.exchange_order_id,
        VenueState.OPEN,
    )
    assert [(o.client_order_id, o.symbol, o.venue_state) for o in connector.open_orders()] == [
        ("td-ccxt-3", "BTC/USDT", VenueState.OPEN)
    ]

    canceled = connector.cancel_order("td-ccxt-3", ticket=limit, exchange_order_id=placed.exchange_order_id)
    assert (canceled.status, canceled.venue_state) == (ResultStatus.SUCCESS, VenueState.CANCELED)
    assert connector.open_orders("BTC/USDT") == []
    assert PaperOrder.objects.get(client_order_id="td-ccxt-3").status == "CANCELED"


def test_a_resting_limit_sell_fills_when_the_market_crosses_and_its_fills_are_read(paper, connector):
    limit = ticket("td-ccxt-4", side="SELL", order_type="LIMIT", qty=Decimal("0.2"), price=Decimal("66000"))
    assert connector.place_order(limit).venue_state == VenueState.OPEN
    paper_price_set(symbol="BTC-USDT", price=Decimal("66500"))
    found = connector.get_order("td-ccxt-4", ticket=limit)
    assert (found.venue_state, found.filled_qty, found.avg_price) == (
        VenueState.FILLED,
        Decimal("0.2"),
        Decimal("66000"),
    )
    venue = PaperOrder.objects.get(client_order_id="td-ccxt-4")
    assert [(f.qty, f.price) for f in found.fills] == [(t.qty, t.price) for t in venue.trades.order_by("id")]
    assert found.fee == venue.fee and found.fee > 0


def test_an_order_the_venue_never_had_is_none(connector):
    assert connector.get_order("td-never-sent", ticket=ticket("td-never-sent")) is None


def test_balances_and_positions_match_the_paper_account(paper, connector):
    connector.place_order(ticket("td-ccxt-5", qty=Decimal("0.5")))
    connector.place_order(ticket("td-ccxt-6", order_type="LIMIT", qty=Decimal("0.1"), price=Decimal("60000")))
    balances = {b.asset: (b.free, b.locked) for b in connector.get_balances()}
    for row in PaperBalance.objects.filter(account=paper):
        if row.free or row.locked:
            assert balances[row.asset] == (row.free, row.locked), row.asset
    assert {p.symbol: p.qty for p in connector.get_positions()} == {"BTC/USDT": Decimal("1.5")}
    assert connector.last_price("BTC/USDT") == Decimal("65000")


def test_markets_give_the_venues_steps_and_minimums(paper, connector):
    PaperInstrument.objects.filter(symbol="BTC-USDT").update(min_qty=Decimal("0.001"), min_notional=Decimal("10"))
    instruments = connector.instruments()
    btc = instruments["BTC/USDT"]
    assert (btc.lot_size, btc.min_qty, btc.tick_size, btc.min_notional, btc.base, btc.quote) == (
        Decimal("0.0001"),
        Decimal("0.001"),
        Decimal("0.01"),
        Decimal("10"),
        "BTC",
        "USDT",
    )
    eth = PaperInstrument.objects.get(symbol="ETH-USDT")
    assert (instruments["ETH/USDT"].lot_size, instruments["ETH/USDT"].tick_size) == (eth.lot_size, eth.tick_size)


def test_a_quantity_off_the_lot_step_is_refused_before_anything_is_sent(paper, connector):
    result = connector.place_order(ticket("td-ccxt-7", qty=Decimal("0.00015")))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED)
    assert "lot step" in result.error_message
    assert not PaperOrder.objects.filter(client_order_id="td-ccxt-7").exists()


def test_insufficient_balance_is_failed_insufficient_balance(paper, connector):
    result = connector.place_order(ticket("td-ccxt-8", qty=Decimal("5")))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.INSUFFICIENT_BALANCE)


def test_a_filter_failure_is_rejected_with_the_venues_reason(paper, connector):
    PaperInstrument.objects.filter(symbol="BTC-USDT").update(min_notional=Decimal("10000"))
    ccxt_pool.pool_clear()  # ccxt reads the new filter with the markets; the venue checks it anyway
    result = connector.place_order(ticket("td-ccxt-9", qty=Decimal("0.1")))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED)
    assert "NOTIONAL" in result.error_message


def test_a_repeated_client_order_id_returns_the_first_order_and_places_nothing(paper, connector):
    first = connector.place_order(ticket("td-ccxt-10"))
    again = connector.place_order(ticket("td-ccxt-10"))
    assert again.status == ResultStatus.SUCCESS and again.exchange_order_id == first.exchange_order_id
    assert PaperOrder.objects.filter(account=paper, client_order_id="td-ccxt-10").count() == 1


def test_a_lost_reply_is_unknown_and_found_by_client_order_id_with_one_venue_order(paper, connector, settings):
    settings.CCXT_TIMEOUT = 1.5
    connector.instruments()  # markets loaded before the fault, as in a running desk
    paper_fault_set(account=paper, kind="lost_reply", value="3", once=True)
    result = connector.place_order(ticket("td-ccxt-11"))
    assert result.status == ResultStatus.UNKNOWN, result
    found = connector.get_order("td-ccxt-11", ticket=ticket("td-ccxt-11"))
    assert (found.status, found.venue_state) == (ResultStatus.SUCCESS, VenueState.FILLED)
    assert PaperOrder.objects.filter(account=paper, client_order_id="td-ccxt-11").count() == 1


def test_a_429_waits_the_venues_retry_after_then_places_the_order_once(paper, connector, settings):
    settings.CCXT_RETRY_DELAY = 0.05
    connector.instruments()
    fault = paper_fault_set(account=paper, kind="rate_limited", value="1", once=True)
    started = time.monotonic()
    result = connector.place_order(ticket("td-ccxt-429"))
    assert (result.status, result.venue_state) == (ResultStatus.SUCCESS, VenueState.FILLED), result
    assert time.monotonic() - started >= 1.0  # Binance's Retry-After, not our 0.05 s back-off
    fault.refresh_from_db()
    assert (fault.fired_count, fault.is_active) == (1, False)
    assert PaperOrder.objects.filter(account=paper, client_order_id="td-ccxt-429").count() == 1


def test_a_429_that_lasts_is_rate_limited_after_the_bounded_retries_and_nothing_is_placed(paper, connector, settings):
    settings.CCXT_RETRY_DELAY = 0.01
    settings.CCXT_RETRIES = 2
    connector.instruments()
    fault = paper_fault_set(account=paper, kind="rate_limited", value="0")
    result = connector.place_order(ticket("td-ccxt-429b"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.RATE_LIMITED), result
    assert "nothing was placed" in result.error_message and "-1003" in result.error_message
    fault.refresh_from_db()
    assert fault.fired_count == 3  # the order sent once and retried twice, each refused before acting
    assert not PaperOrder.objects.filter(client_order_id="td-ccxt-429b").exists()


def test_a_retry_after_longer_than_an_order_waits_for_is_rate_limited_at_once(paper, connector, settings):
    settings.CCXT_RETRY_AFTER_MAX = 2.0
    connector.instruments()
    fault = paper_fault_set(account=paper, kind="rate_limited", value="30")
    started = time.monotonic()
    result = connector.place_order(ticket("td-ccxt-429c"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.RATE_LIMITED), result
    assert time.monotonic() - started < 2.0
    fault.refresh_from_db()
    assert fault.fired_count == 1
    assert not PaperOrder.objects.filter(client_order_id="td-ccxt-429c").exists()


def test_a_bad_secret_is_auth_failed(paper, live_server):
    config = config_for(paper, live_server)
    bad = CcxtConnector(AccountConfig(**{**config.__dict__, "secrets": {**config.secrets, "api_secret": "x" * 64}}))
    result = bad.place_order(ticket("td-ccxt-12"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.AUTH_FAILED)
    assert not PaperOrder.objects.filter(client_order_id="td-ccxt-12").exists()
    check = bad.check_account()
    assert (check.ok, check.code) == (False, ErrorCode.AUTH_FAILED)


def test_a_clock_two_minutes_behind_is_a_clear_clock_error(paper, connector):
    connector.instruments()
    # ccxt signs with its clock less options["timeDifference"]: our clock, two minutes slow.
    connector.exchange.options["timeDifference"] = 120_000
    result = connector.place_order(ticket("td-ccxt-13"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.CLOCK_SKEW)
    assert "clock" in result.error_message and "NTP" in result.error_message
    assert not PaperOrder.objects.filter(client_order_id="td-ccxt-13").exists()
    check = connector.check_account()
    assert (check.ok, check.code) == (False, ErrorCode.CLOCK_SKEW)
    assert 115_000 <= check.clock_skew_ms <= 125_000


def test_a_working_account_checks_ok(connector):
    check = connector.check_account()
    assert check.ok, check
    assert abs(check.clock_skew_ms) < 5000


def test_an_unreachable_venue_is_retried_a_bounded_number_of_times_then_a_network_failure(settings, caplog):
    settings.CCXT_RETRY_DELAY = 0.01
    settings.CCXT_RETRIES = 2
    config = AccountConfig(label="x", venue="paper", exchange_id="binance", base_url="http://127.0.0.1:9/paper/binance")
    result = CcxtConnector(config).place_order(ticket("td-ccxt-14"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.NETWORK)
    assert "nothing was sent" in result.error_message
    # The connection was refused (nothing left): sent again twice, then given up.
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2


def test_nothing_secret_reaches_the_logs_even_at_debug(paper, live_server, caplog):
    import logging
    import re

    caplog.set_level(logging.DEBUG)
    config = config_for(paper, live_server)
    connector = CcxtConnector(config)
    connector.place_order(ticket("td-ccxt-15"))
    connector.get_balances()
    text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (config.secrets["api_key"], config.secrets["api_secret"]):
        assert secret not in text
    assert not re.search(r"signature=[0-9a-f]{64}", text)


def test_threads_sharing_one_accounts_instance_each_place_their_own_order(paper, live_server):
    import threading

    from django.db import connection

    config = config_for(paper, live_server)
    CcxtConnector(config).instruments()
    results = {}

    def place(index: int) -> None:
        try:
            # Each thread builds its connector as the desk does; all share the account's ccxt instance.
            results[index] = CcxtConnector(config).place_order(ticket(f"td-ccxt-t{index}", qty=Decimal("0.01")))
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CcxtConnector(config).exchange is CcxtConnector(config).exchange
    assert [results[i].status for i in range(4)] == [ResultStatus.SUCCESS] * 4
    assert len({results[i].exchange_order_id for i in range(4)}) == 4
    assert PaperOrder.objects.filter(account=paper, client_order_id__startswith="td-ccxt-t").count() == 4


def test_a_symbol_the_exchange_does_not_list_is_refused_before_anything_is_sent(paper, connector):
    result = connector.place_order(ticket("td-ccxt-16", symbol="DOGE/USDT"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.SYMBOL_NOT_FOUND)
    assert not PaperOrder.objects.filter(client_order_id="td-ccxt-16").exists()
