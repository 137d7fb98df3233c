"""Copy-trading statistics per follower and per master, against a fixture computed by hand.

Fred follows mia's account at 0.1 and has, on BTC/USDT (last price 130):
  1. BUY 0.2, reference 100, fills 0.1 @ 101 and 0.1 @ 103 (fee 0.01 USDT each): avg 102, +200 bps, cost +0.4
  2. BUY 0.2, reference 110, fill 0.2 @ 108 (fee 0.02 USDT): -181.82 bps, cost -0.4
     position 0.4 @ 105
  3. SELL 0.1, reference 120, fill 0.1 @ 119 (fee 0.01 USDT): +83.33 bps, cost +0.1
     realized 0.1 x (119 - 105) = 1.4, less fees 0.05 = 1.35; position 0.3 @ 105
  4. BUY 0.1 FAILED (REJECTED error), 5. BUY 0.1 still SUBMITTING; one error with no order
     (POSITIONS_UNAVAILABLE).
  unrealized 0.3 x (130 - 105) = 7.5; success rate 3 / (3 + 1) = 0.75;
  slippage mean (200 x 0.2 - 181.8181 x 0.2 + 83.3333 x 0.1) / 0.5 = 23.94 bps, worst 200, cost 0.1.
Gina follows the same master: BUY 0.1, reference 100, fill 0.1 @ 100, the master's fill recorded
at 99: unrealized 3, slippage (100 - 99) / 99 = +101.01 bps.
Master: 6 orders, 4 copied, success 0.8, realized 1.35, unrealized 10.5, fees 0.05, slippage
(11.969697 + 10.10101) / 0.6 = 36.78 bps.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from following.models import CopyTrade, TradeError
from following.stats import follower_stats, master_stats, stats_as_dict
from orders.models import Fill, Order

pytestmark = pytest.mark.django_db

URL = "/api/v1/follow-config"
D = Decimal
START = timezone.now() - timedelta(hours=1)
_clock = iter(range(1, 10**6))


def copy_order(row, side: str, qty: str, reference: str, status: str = "SUCCESS", fills=()) -> Order:
    order = Order.objects.create(
        follow_settings=row,
        symbol="BTC/USDT",
        side=side,
        order_type="MARKET",
        qty=D(qty),
        reference_price=D(reference),
        status=status,
        venue="dry_run",
        exchange_account=row.follower_credential,
        created_by=row.user,
    )
    for n, (fill_qty, price, fee) in enumerate(fills):
        Fill.objects.create(
            order=order,
            trade_id=f"{order.pk}-{n}",
            qty=D(fill_qty),
            price=D(price),
            fee=D(fee),
            fee_asset="USDT",
            time=START + timedelta(seconds=next(_clock)),
        )
    return order


@pytest.fixture
def book(
    settings, follow, follower, follower_account, other_follower, make_account, master_account, make_order, make_signal
):
    settings.DRY_RUN_PRICES = {"BTC/USDT": D("130")}
    fred = follow(follower, follower_account)
    copy_order(fred, "BUY", "0.2", "100", fills=[("0.1", "101", "0.01"), ("0.1", "103", "0.01")])
    copy_order(fred, "BUY", "0.2", "110", fills=[("0.2", "108", "0.02")])
    copy_order(fred, "SELL", "0.1", "120", fills=[("0.1", "119", "0.01")])
    failed = copy_order(fred, "BUY", "0.1", "120", status="FAILED")
    copy_order(fred, "BUY", "0.1", "120", status="SUBMITTING")
    TradeError.objects.create(
        user=follower, follow_settings=fred, trade_log=failed, error_type="REJECTED", error_message="no"
    )
    TradeError.objects.create(
        user=follower, follow_settings=fred, error_type="POSITIONS_UNAVAILABLE", error_message="venue down"
    )
    gina = follow(other_follower, make_account(other_follower))
    copied = copy_order(gina, "BUY", "0.1", "100", fills=[("0.1", "100", "0")])
    # The slippage guard recorded the master's fill price: the slippage is against it.
    CopyTrade.objects.create(order=copied, follow_settings=gina, master_price=D("99"), max_slippage=D("0.005"))
    # The master's own (desk) order is no copy trade and counts nowhere.
    own = make_order(make_signal(), status="SUCCESS", exchange_account=master_account)
    Fill.objects.create(order=own, trade_id="own-1", qty=D("1"), price=D("65000"), time=START)
    return fred, gina


def test_a_followers_statistics_match_the_hand_computed_fixture(book, follower):
    data = stats_as_dict(follower_stats(user=follower))
    assert (data["orders"], data["copied_trades"], data["failed"], data["in_flight"]) == (5, 3, 1, 1)
    assert data["success_rate"] == "0.75"
    assert data["pnl_by_quote"] == {"USDT": {"realized_pnl": "1.35", "unrealized_pnl": "7.5", "fees": "0.05"}}
    [position] = data["positions"]
    assert (position["qty"], position["avg_entry"], position["last_price"]) == ("0.3", "105", "130")
    assert data["slippage"] == {"orders": 3, "avg_bps": "23.94", "worst_bps": "200", "cost_by_quote": {"USDT": "0.1"}}
    assert data["errors_by_type"] == {"POSITIONS_UNAVAILABLE": 1, "REJECTED": 1}


def test_a_masters_statistics_add_up_its_followers(book, master_account):
    data = stats_as_dict(master_stats(credential_id=master_account.pk))
    assert (data["followers"], data["orders"], data["copied_trades"], data["failed"]) == (2, 6, 4, 1)
    assert data["success_rate"] == "0.8"
    assert data["pnl_by_quote"] == {"USDT": {"realized_pnl": "1.35", "unrealized_pnl": "10.5", "fees": "0.05"}}
    assert data["slippage"]["orders"] == 4
    assert data["slippage"]["avg_bps"] == "36.78"
    assert data["slippage"]["worst_bps"] == "200"
    assert data["errors_by_type"] == {"POSITIONS_UNAVAILABLE": 1, "REJECTED": 1}


def test_a_position_without_a_last_price_has_no_unrealized_pnl(book, follower, settings):
    settings.DRY_RUN_PRICES = {}
    data = stats_as_dict(follower_stats(user=follower))
    assert data["pnl_by_quote"]["USDT"]["unrealized_pnl"] is None
    assert data["pnl_by_quote"]["USDT"]["realized_pnl"] == "1.35"


def test_someone_with_no_copy_trades_has_empty_statistics(outsider):
    data = stats_as_dict(follower_stats(user=outsider))
    assert (data["orders"], data["success_rate"], data["pnl_by_quote"], data["positions"]) == (0, None, {}, [])


def test_the_api_gives_each_follower_their_own_statistics(book, client_for, follower, other_follower):
    mine = client_for(follower).get(f"{URL}/stats")
    assert mine.status_code == 200
    assert mine.json()["copied_trades"] == 3
    theirs = client_for(other_follower).get(f"{URL}/stats").json()
    assert (theirs["copied_trades"], theirs["pnl_by_quote"]["USDT"]["unrealized_pnl"]) == (1, "3")


def test_a_masters_statistics_are_for_its_owner_and_desk_admins_only(
    book, client_for, master, master_account, follower, desk_admin, trader
):
    url = f"{URL}/masters/{master_account.pk}/stats"
    assert client_for(master).get(url).json()["copied_trades"] == 4
    assert client_for(desk_admin).get(url).json()["copied_trades"] == 4
    for user in (follower, trader):
        answer = client_for(user).get(url)
        assert answer.status_code == 404, user
        assert "copied_trades" not in answer.json()
    assert client_for(None).get(url).status_code in (401, 403)
    assert client_for(None).get(f"{URL}/stats").status_code in (401, 403)
    assert client_for(master).get(f"{URL}/masters/{2**63}/stats").status_code == 404


def test_the_dashboard_panel_shows_the_followers_and_the_masters_figures(book, follower, master):
    from django.test import Client

    client = Client()
    client.force_login(follower)
    assert 'hx-get="/follow/stats/"' in client.get("/follow/").content.decode()
    page = client.get("/follow/stats/").content.decode()
    assert 'data-testid="copied">3<' in page
    assert 'data-testid="success-rate">75%<' in page
    assert 'data-testid="realized">1.35<' in page
    assert 'data-testid="unrealized">7.5<' in page
    assert 'data-testid="slippage">23.94<' in page
    assert 'data-error-type="REJECTED"' in page
    assert 'data-testid="stats-master"' not in page
    client.force_login(master)
    page = client.get("/follow/stats/").content.decode()
    assert 'data-testid="stats-master"' in page
    assert 'data-testid="copied">4<' in page


def test_the_dashboard_panel_needs_a_login(client):
    assert client.get("/follow/stats/").status_code == 302
