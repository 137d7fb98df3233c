"""Issue 14, items 2-5 on the dry run: several masters per follower (targets add up), unfollow
keep/close, sizing modes, joining, caps pausing with their own error type, the zero-target
warning and its confirm, the slippage guard's limit price and record.

The dry run fills every order at once at its price (65000 for BTC/USDT, its limit for a LIMIT).
"""

from decimal import Decimal

import pytest

from following import services, sync
from following.models import CopyTrade, ErrorType, FollowSettings, TradeError
from orders.models import Order
from tests.following.conftest import positions

pytestmark = pytest.mark.django_db

URL = "/api/v1/follow-config"


@pytest.fixture
def second_master_account(make_account):
    from django.contrib.auth.models import User

    owner = User.objects.create_user("max_master", password="correct horse battery staple")
    account = make_account(owner, label="second-master")
    services.master_account_open(user=owner, credential_id=account.pk)
    return account


def follow_of(user, master_account, own_account, ratio: str, **options) -> FollowSettings:
    return services.follow_settings_create(
        user=user,
        master_credential_id=master_account.pk,
        follower_credential_id=own_account.pk,
        follow_ratio=Decimal(ratio),
        **options,
    )


def test_two_masters_with_a_shared_symbol_add_up_and_each_order_names_its_follow(
    follower, master_account, second_master_account, follower_account, trade
):
    a = follow_of(follower, master_account, follower_account, "0.1")
    b = follow_of(follower, second_master_account, follower_account, "0.2")
    trade(master_account, "BUY", "1")
    trade(second_master_account, "BUY", "2")
    sync.follow_sync_cycle()
    # 1 x 0.1 + 2 x 0.2
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.5")}
    assert [o.qty for o in Order.objects.filter(follow_settings=a)] == [Decimal("0.1")]
    assert [o.qty for o in Order.objects.filter(follow_settings=b)] == [Decimal("0.4")]

    trade(second_master_account, "SELL", "1")  # B's share halves; A's stays
    sync.follow_sync_cycle()
    sync.follow_sync_cycle()  # a second cycle changes nothing
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.3")}
    assert Order.objects.filter(follow_settings=a).count() == 1
    assert sorted(o.qty for o in Order.objects.filter(follow_settings=b)) == [Decimal("0.2"), Decimal("0.4")]


def test_unfollow_keep_leaves_the_copied_position_and_the_other_master_does_not_touch_it(
    client_for, follower, master_account, second_master_account, follower_account, trade
):
    a = follow_of(follower, master_account, follower_account, "0.1")
    follow_of(follower, second_master_account, follower_account, "0.2")
    trade(master_account, "BUY", "1")
    trade(second_master_account, "BUY", "1")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.3")}

    response = client_for(follower).delete(f"{URL}/follows/{a.pk}?positions=keep")
    assert response.status_code == 200, response.json()
    assert response.json()["unfollow_mode"] == "keep" and response.json()["is_active"] is False
    trade(master_account, "SELL", "1")  # the old master's moves are no longer copied
    trade(second_master_account, "BUY", "1")
    sync.follow_sync_cycle()
    # kept 0.1 + B's 2 x 0.2
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.5")}
    a.refresh_from_db()
    assert a.kept_positions == {"BTC/USDT": "0.1"} and a.history.first().history_change_reason.startswith(
        "unfollowed by fred_follower (keep"
    )


def test_unfollow_close_sells_what_that_follow_copied_then_turns_it_off(
    client_for, follower, master_account, second_master_account, follower_account, trade
):
    follow_of(follower, master_account, follower_account, "0.1")
    b = follow_of(follower, second_master_account, follower_account, "0.2")
    trade(master_account, "BUY", "1")
    trade(second_master_account, "BUY", "1")
    sync.follow_sync_cycle()

    response = client_for(follower).delete(f"{URL}/follows/{b.pk}?positions=close")
    assert response.status_code == 200 and response.json()["unfollow_mode"] == "close"
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    sell = Order.objects.filter(follow_settings=b).latest("id")
    assert (sell.side, sell.qty) == ("SELL", Decimal("0.2"))
    sync.follow_sync_cycle()
    b.refresh_from_db()
    assert b.is_active is False and b.ended_at is not None
    assert Order.objects.filter(follow_settings=b).count() == 2


def test_unfollow_needs_the_choice_of_keep_or_close(client_for, follower, follow, follower_account):
    follow(follower, follower_account)
    response = client_for(follower).delete(f"{URL}/settings")
    assert response.status_code == 400 and "positions" in response.json()["fields"]
    assert client_for(follower).delete(f"{URL}/settings?positions=keep").status_code == 200
    assert client_for(follower).get(f"{URL}/settings").status_code == 404


def test_the_seed_settings_endpoint_still_refuses_a_second_follow_and_the_collection_takes_it(
    client_for, follower, follow, follower_account, second_master_account
):
    follow(follower, follower_account)
    body = {
        "master_credential_id": second_master_account.pk,
        "follower_credential_id": follower_account.pk,
        "follow_ratio": "0.2",
    }
    client = client_for(follower)
    assert client.post(f"{URL}/settings", body, format="json").json()["code"] == "settings_exist"
    created = client.post(f"{URL}/follows", {**body, "sizing_mode": "ratio", "max_slippage": "0.003"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["max_slippage"] == "0.003"
    assert [row["follow_ratio"] for row in client.get(f"{URL}/follows").json()] == ["0.1", "0.2"]
    # With two follows the seed's one-follow PUT says where to go instead of guessing.
    refused = client.put(f"{URL}/settings", {"follow_ratio": "0.3"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "several_follows"
    assert client.post(f"{URL}/follows", body, format="json").json()["code"] == "already_following"


def test_another_users_follow_is_not_found(client_for, follower, other_follower, follow, follower_account):
    row = follow(follower, follower_account)
    client = client_for(other_follower)
    assert client.get(f"{URL}/follows/{row.pk}").status_code == 404
    assert client.patch(f"{URL}/follows/{row.pk}", {"follow_ratio": "1"}, format="json").status_code == 404
    assert client.delete(f"{URL}/follows/{row.pk}?positions=close").status_code == 404
    assert FollowSettings.objects.get(pk=row.pk).ended_at is None


def test_an_error_pauses_only_its_own_follow(follower, master_account, second_master_account, follower_account, trade):
    a = follow_of(follower, master_account, follower_account, "0.1")
    b = follow_of(follower, second_master_account, follower_account, "0.1")
    services.trade_error_record(settings_id=a.pk, error_type="INSUFFICIENT_BALANCE", message="no money")
    trade(master_account, "BUY", "1")
    trade(second_master_account, "BUY", "1")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    assert not Order.objects.filter(follow_settings=a).exists() and Order.objects.filter(follow_settings=b).exists()
    error = TradeError.objects.get(follow_settings=a)
    _, resumed = services.trade_error_resolve(user=follower, error_id=error.pk)
    assert resumed
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.2")}


def test_fixed_notional_orders_the_same_amount_per_master_trade(follower, master_account, follower_account, trade):
    follow_of(follower, master_account, follower_account, "1", sizing_mode="fixed_notional", fixed_notional=6500)
    trade(master_account, "BUY", "3")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}  # 6500 / 65000
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.2")}
    trade(master_account, "SELL", "2")  # half the master's position: half the copy
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    trade(master_account, "SELL", "2")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {}


def test_fixed_notional_needs_its_amount(follower, master_account, follower_account):
    with pytest.raises(Exception, match="fixed_notional"):
        follow_of(follower, master_account, follower_account, "1", sizing_mode="fixed_notional")


def test_joining_with_changes_only_copies_nothing_of_the_masters_position_before(
    follower, master_account, follower_account, trade
):
    trade(master_account, "BUY", "2")
    row = follow_of(follower, master_account, follower_account, "0.1", join_mode="changes")
    assert row.join_baseline == {"BTC/USDT": "2"}
    sync.follow_sync_cycle()
    assert positions(follower_account) == {} and not Order.objects.exists()
    trade(master_account, "BUY", "1")  # a trade after joining: copied
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    trade(master_account, "SELL", "1.5")  # into the old position: the copy stays
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0")} or positions(follower_account) == {}
    row.refresh_from_db()
    assert row.join_baseline == {"BTC/USDT": "1.5"}


def test_joining_now_copies_the_masters_position_at_once(follower, master_account, follower_account, trade, follow):
    trade(master_account, "BUY", "2")
    follow(follower, follower_account, "0.1")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.2")}


def _pauses_with(row: FollowSettings, error_type: str) -> TradeError:
    row.refresh_from_db()
    assert row.is_active is False and row.paused_by_error is True
    error = TradeError.objects.get(follow_settings=row, is_resolved=False)
    assert error.error_type == error_type, error.error_message
    return error


def test_a_follower_order_over_the_notional_cap_pauses_with_its_own_error_then_resolves(
    follower, master_account, follower_account, trade, follow
):
    row = follow(follower, follower_account, "0.1", max_order_notional=Decimal("5000"))
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    error = _pauses_with(row, ErrorType.CAP_ORDER_NOTIONAL)
    assert "max per order 5000" in error.error_message and "nothing was ordered" in error.error_message
    assert not Order.objects.exists()
    services.follow_settings_update(user=follower, max_order_notional=Decimal("7000"))
    services.trade_error_resolve(user=follower, error_id=error.pk)
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}


def test_the_position_cap_pauses_with_its_own_error(follower, master_account, follower_account, trade, follow):
    row = follow(follower, follower_account, "0.1", max_position_notional=Decimal("10000"))
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    trade(master_account, "BUY", "1")  # 0.2 x 65000 = 13000 > 10000
    sync.follow_sync_cycle()
    _pauses_with(row, ErrorType.CAP_POSITION_NOTIONAL)
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}


def test_the_trades_per_day_cap_pauses_with_its_own_error(follower, master_account, follower_account, trade, follow):
    row = follow(follower, follower_account, "0.1", max_trades_per_day=1)
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    error = _pauses_with(row, ErrorType.CAP_TRADES_PER_DAY)
    assert "1 trades today" in error.error_message
    assert Order.objects.count() == 1


def test_a_symbol_outside_the_allow_list_pauses_with_its_own_error(
    follower, master_account, follower_account, trade, follow
):
    row = follow(follower, follower_account, "0.1", allowed_symbols=["eth/usdt"])
    assert row.allowed_symbols == ["ETH/USDT"]
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    error = _pauses_with(row, ErrorType.CAP_SYMBOL_NOT_ALLOWED)
    assert "BTC/USDT is not in your allowed symbols (ETH/USDT)" in error.error_message


def test_a_target_that_rounds_to_zero_is_shown_with_its_unrounded_target(
    client_for, follower, master_account, follower_account, trade, follow
):
    follow(follower, follower_account, "0.00001")
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    data = client_for(follower).get(f"{URL}/status").json()
    line = data["positions"][0]
    assert (line["target_unrounded"], line["expected_qty"], line["rounds_to_zero"]) == ("0.00001", "0", True)
    assert line["last_action"] == "rounds_to_zero"
    assert not Order.objects.exists()


def test_a_ratio_change_that_would_round_a_held_target_to_zero_must_be_confirmed(
    client_for, follower, master_account, follower_account, trade, follow
):
    follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    client = client_for(follower)
    refused = client.put(f"{URL}/settings", {"follow_ratio": "0.00001"}, format="json")
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "confirm_required" and "follow_ratio" in refused.json()["fields"]
    assert "0.00001 -> 0" in refused.json()["message"]
    assert FollowSettings.objects.get().follow_ratio == Decimal("0.1")
    confirmed = client.put(f"{URL}/settings", {"follow_ratio": "0.00001", "confirm": True}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["follow_ratio"] == "0.00001"


def test_a_symbol_the_master_never_traded_is_not_drift(client_for, follower, follower_account, trade, follow):
    follow(follower, follower_account, "0.1")
    trade(follower_account, "BUY", "1", symbol="ETH/USDT")
    sync.follow_sync_cycle()
    data = client_for(follower).get(f"{URL}/status").json()
    assert [line["symbol"] for line in data["positions"]] == []
    assert data["not_copied"] == [{"symbol": "ETH/USDT", "own_qty": "1"}]


def test_follower_orders_are_limits_within_the_max_slippage_and_their_slippage_is_recorded(
    follower, master_account, follower_account, trade, follow
):
    row = follow(follower, follower_account, "0.1", max_slippage=Decimal("0.004"))
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    order = Order.objects.get()
    # The master's price 65000 (the venue's last price) + 0.4%; the dry run fills at the limit.
    assert (order.order_type, order.price) == ("LIMIT", Decimal("65260"))
    copy = CopyTrade.objects.get(order=order)
    assert (copy.follow_settings_id, copy.master_price, copy.limit_price) == (
        row.pk,
        Decimal("65000"),
        Decimal("65260"),
    )
    assert copy.slippage == Decimal("0.004")
    trade(master_account, "SELL", "1")
    sync.follow_sync_cycle()
    sell = Order.objects.latest("id")
    assert (sell.side, sell.order_type, sell.price) == ("SELL", "LIMIT", Decimal("64740"))
    assert CopyTrade.objects.get(order=sell).slippage == Decimal("0.004")


def test_the_default_max_slippage_is_half_a_percent(follower, follower_account, follow):
    assert follow(follower, follower_account).max_slippage == Decimal("0.005")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_slippage", "0.5"),
        ("max_loss", "1.5"),
        ("max_order_notional", "-1"),
        ("sizing_mode", "martingale"),
        ("join_mode", "yesterday"),
        ("max_trades_per_day", "0"),
        ("allowed_symbols", "BTC/USDT"),
    ],
)
def test_bad_follow_options_are_a_400_naming_the_field(
    client_for, follower, master_account, follower_account, field, value
):
    body = {
        "master_credential_id": master_account.pk,
        "follower_credential_id": follower_account.pk,
        "follow_ratio": "0.1",
        field: value,
    }
    response = client_for(follower).post(f"{URL}/follows", body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert not FollowSettings.objects.exists()
