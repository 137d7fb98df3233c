"""Copy-trading orders go to followers' own accounts: they never use the desk's daily limits."""

from decimal import Decimal

import pytest

from following.follower_orders import follower_order_create
from orders import risk
from orders.services import order_create

pytestmark = pytest.mark.django_db


def test_follower_orders_do_not_count_toward_the_desks_daily_limit(
    follow, follower, follower_account, trader, make_signal, settings
):
    settings.RISK_MAX_DAILY_QTY = "10"
    settings.RISK_MAX_ORDER_QTY = "10"
    follow_settings = follow(follower, follower_account)
    follower_order_create(
        follow_settings_id=follow_settings.pk,
        user=follower,
        account=follower_account,
        symbol="BTC/USDT",
        side="BUY",
        qty=Decimal("50"),
    )
    assert risk.daily_usage("BTC/USDT").daily_qty == 0
    order = order_create(
        user=trader, signal_id=make_signal(suggest_qty="8").pk, qty=Decimal("8"), order_type="LIMIT", price=Decimal("1")
    )
    assert order.qty == 8
    assert risk.daily_usage("BTC/USDT").daily_qty == 8
