"""Orders the exchange refuses are recorded as REJECTED with a stable code and a human reason."""

from decimal import Decimal

import pytest

from executor.paper import services
from executor.paper.models import OrderStatus, PaperBalance, RejectCode

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "code", "reason"),
    [
        ({"qty": Decimal("2")}, RejectCode.INSUFFICIENT_BALANCE, "needs 130000 USDT, 100000 is available"),
        ({"side": "SELL", "qty": Decimal("1.5")}, RejectCode.INSUFFICIENT_BALANCE, "needs 1.5 BTC, 1 is available"),
        (
            {"order_type": "LIMIT", "price": Decimal("1000"), "qty": Decimal("101")},
            RejectCode.INSUFFICIENT_BALANCE,
            "needs 101000 USDT",
        ),
        ({"qty": Decimal("0.00005")}, RejectCode.BELOW_MIN_QTY, "below the minimum 0.0001"),
        ({"qty": Decimal("0.00015")}, RejectCode.INVALID_QTY_STEP, "not a multiple of the lot size 0.0001"),
        (
            {"order_type": "LIMIT", "price": Decimal("60000.005")},
            RejectCode.INVALID_TICK,
            "not a multiple of the tick size 0.01",
        ),
        ({"symbol": "DOGE-USDT"}, RejectCode.UNKNOWN_SYMBOL, "Tradable symbols: BTC-USDT, ETH-USDT"),
    ],
)
def test_each_refusal_is_recorded_with_its_code_and_reason(mark, alice, fields, code, reason):
    values = {"symbol": "BTC-USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.1"), **fields}
    order = services.paper_order_place(account=alice.account, client_order_id="td-1", **values)
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert order.reject_code == code
    assert reason in order.reject_reason
    assert order.filled_qty == 0


def test_a_rejection_moves_no_money(mark, alice):
    services.paper_order_place(
        account=alice.account,
        client_order_id="td-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("9"),
    )
    balances = {row.asset: (row.free, row.locked) for row in PaperBalance.objects.filter(account=alice.account)}
    assert balances["USDT"] == (Decimal("100000"), Decimal("0"))
    assert balances["BTC"] == (Decimal("1"), Decimal("0"))


def test_the_eth_market_has_its_own_lot_size(mark, alice):
    order = services.paper_order_place(
        account=alice.account,
        client_order_id="td-1",
        symbol="ETH-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("0.0005"),
    )
    assert order.reject_code == RejectCode.BELOW_MIN_QTY
