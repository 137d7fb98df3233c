"""Issue 14 items 3-5 on the paper exchange (live test server; cycles run directly): sizing by
equity, the max-loss cap from the equity's high-water mark, and the slippage guard's limit
orders filling, resting and leaving a remainder for the next cycle."""

# ruff: noqa: F811 (the paper fixture, imported, is every test's argument)

from decimal import ROUND_DOWN, Decimal

import pytest

from executor.paper.services.prices import paper_liquidity_set, paper_price_set
from following import services, sync, venue
from following.models import CopyTrade, ErrorType, TradeError
from orders.models import Order
from tests.following.conftest import positions
from tests.following.test_paper_followers import paper  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _follow(user, master_account, own, ratio: str, **options):
    services.master_account_open(user=master_account.owner, credential_id=master_account.pk)
    return services.follow_settings_create(
        user=user, master_credential_id=master_account.pk, follower_credential_id=own.pk,
        follow_ratio=Decimal(ratio), **options,
    )  # fmt: skip


def test_equity_sizing_copies_in_proportion_to_the_two_accounts_equity(paper, master, follower, trade):
    _, master_account = paper(master, "master", "1000000")
    _, own = paper(follower, "follower", "100000")
    _follow(follower, master_account, own, "1", sizing_mode="equity")
    trade(master_account, "BUY", "2")
    master_equity, follower_equity = venue.equity(master_account), venue.equity(own)
    assert master_equity and follower_equity  # read from the venue: cash + positions at the mark
    sync.follow_sync_cycle()
    # 2 x 1 x follower equity / master equity, down to the paper lot (0.0001): about 0.2
    expected = (2 * follower_equity / master_equity).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    assert Decimal("0.19") < expected <= Decimal("0.2")
    assert positions(own) == {"BTC/USDT": expected}


def test_a_drawdown_past_max_loss_pauses_with_its_own_error_and_resolving_starts_a_new_high_water_mark(
    paper,
    master,
    follower,
    trade,
    settings,
):
    settings.FOLLOW_RECHECK_SECONDS = 0  # every cycle evaluates (and checks the equity)
    _, master_account = paper(master, "master", "1000000")
    _, own = paper(follower, "follower", "100000")
    row = _follow(follower, master_account, own, "0.5", max_loss=Decimal("0.05"))
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    assert positions(own) == {"BTC/USDT": Decimal("0.5")}  # 32,500 of 100,000 in BTC
    row.refresh_from_db()
    high = row.equity_high_water
    assert Decimal("99000") < high <= Decimal("100000")

    paper_price_set(symbol="BTC-USDT", price=Decimal("52000"))  # -20%: equity -6,500, over 5%
    sync.follow_sync_cycle()
    row.refresh_from_db()
    error = TradeError.objects.get(follow_settings=row, is_resolved=False)
    assert error.error_type == ErrorType.CAP_MAX_LOSS and row.is_active is False
    assert "high-water mark" in error.error_message and error.error_details["high_water"] == format(
        high.normalize(), "f"
    )

    _, resumed = services.trade_error_resolve(user=follower, error_id=error.pk)
    assert resumed
    trade(master_account, "BUY", "1")  # following again, from the equity now
    sync.follow_sync_cycle()
    row.refresh_from_db()
    assert positions(own) == {"BTC/USDT": Decimal("1")} and row.is_active
    assert row.equity_high_water < high


def test_a_limit_that_fills_in_part_leaves_the_remainder_to_the_next_cycles(paper, master, follower, trade):
    _, master_account = paper(master, "master", "1000000")
    _, own = paper(follower, "follower", "100000")
    row = _follow(follower, master_account, own, "0.1")
    trade(master_account, "BUY", "1")
    paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.04"))
    sync.follow_sync_cycle()
    first = Order.objects.get(follow_settings=row)
    assert (first.order_type, first.price, first.qty) == ("LIMIT", Decimal("65325"), Decimal("0.1"))
    assert first.venue_state == "PARTIALLY_FILLED" and first.filled_qty == Decimal("0.04")

    sync.follow_sync_cycle()  # the resting limit is canceled; nothing new while it may still fill
    first.refresh_from_db()
    assert first.venue_state == "CANCELED" and Order.objects.filter(follow_settings=row).count() == 1
    paper_liquidity_set(symbol="BTC-USDT", liquidity=None)
    sync.follow_sync_cycle()
    second = Order.objects.filter(follow_settings=row).latest("id")
    assert (second.qty, second.venue_state) == (first.qty - first.filled_qty, "FILLED")
    assert positions(own) == {"BTC/USDT": Decimal("0.1")}
    # Each fill at the mark 65000, the master's price: no slippage, recorded for both.
    assert [c.slippage for c in CopyTrade.objects.order_by("id")] == [Decimal("0"), Decimal("0")]


def test_a_price_past_the_max_slippage_orders_nothing_that_fills_until_it_comes_back(
    paper,
    master,
    follower,
    make_account,
    trade,
):
    # The master on the dry run (its price 65000), the follower on the paper exchange at 66000.
    master_account = make_account(master)
    _, own = paper(follower, "follower", "100000")
    row = _follow(follower, master_account, own, "0.1")
    trade(master_account, "BUY", "1")
    paper_price_set(symbol="BTC-USDT", price=Decimal("66000"))
    sync.follow_sync_cycle()
    order = Order.objects.get(follow_settings=row)
    assert (order.price, order.venue_state, order.filled_qty or 0) == (Decimal("65325"), "OPEN", 0)
    assert positions(own) == {}
    sync.follow_sync_cycle()  # still out of reach: canceled, the difference stays for later
    order.refresh_from_db()
    assert order.venue_state == "CANCELED"
    paper_price_set(symbol="BTC-USDT", price=Decimal("65100"))
    sync.follow_sync_cycle()
    assert positions(own) == {"BTC/USDT": Decimal("0.1")}
    filled = Order.objects.filter(follow_settings=row).latest("id")
    expected = ((Decimal("65100") - 65000) / 65000).quantize(Decimal("1E-10"))  # paid 0.15% over the master
    assert CopyTrade.objects.get(order=filled).slippage == expected
