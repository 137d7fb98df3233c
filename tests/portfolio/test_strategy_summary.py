"""The per-strategy summary against a fixture worked out by hand."""

from decimal import Decimal as D

import pytest

from portfolio.journal import strategy_summary


@pytest.fixture
def fixture_book(filled_order, make_signal, make_order):
    def signal(strategy: str, **fields):
        return make_signal(strategy_name=strategy, **fields)

    # alpha, S1: BUY 1 BTC suggested at 60,000; fills 0.5 @ 60,060 (+10 bps) and 0.5 @ 60,000 (0 bps),
    # 10 s and 20 s after the confirm; FILLED.
    filled_order(
        "BUY",
        [("0.5", "60060", "3"), ("0.5", "60000", "3")],
        signal=signal("alpha", suggest_price=D("60000"), suggest_qty=D("1")),
    )
    # alpha, S2: SELL 3.9 suggested at 62,000; 1 filled @ 61,938 (+10 bps: 62 below); still partly filled.
    filled_order(
        "SELL",
        [("1", "61938", "6")],
        signal=signal("alpha", side="SELL", suggest_price=D("62000"), suggest_qty=D("3.9")),
        qty=D("3.9"),
        filled_qty=D("1"),
        venue_state="PARTIALLY_FILLED",
    )
    # alpha, S3: refused by the venue (FAILED): an order, not accepted, no fills.
    make_order(signal("alpha", suggest_price=D("60000")), status="FAILED", qty=D("5"))
    # alpha, S4: a signal never ordered.
    signal("alpha")
    # alpha, S5: a MARKET signal (no suggested price: no slippage), 0.1 filled 10 s after the confirm.
    filled_order("BUY", [("0.1", "60000", "0")], signal=signal("alpha", suggest_price=None, suggest_qty=D("0.1")))
    # beta: SELL 2 ETH suggested at 3,000, filled @ 2,994 (+20 bps), fee 1.2 USDT, 10 s after.
    filled_order(
        "SELL",
        [("2", "2994", "1.2")],
        symbol="ETH/USDT",
        signal=signal("beta", symbol="ETH/USDT", side="SELL", suggest_price=D("3000"), suggest_qty=D("2")),
    )


# Worked by hand:
# alpha: signals 5; orders 4 (S1, S2, S3, S5); accepted 3 (S1, S2, S5); FILLED 2 (S1, S5).
#   ordered (accepted) 1 + 3.9 + 0.1 = 5; filled 1 + 1 + 0.1 = 2.1; fill rate 2.1 / 5 = 0.42.
#   BTC book: buy 0.5 @ 60,060 + 0.5 @ 60,000 -> avg 60,030; sell 1 @ 61,938 -> 1,908;
#   then buy 0.1 @ 60,000 (opens again). Fees 3 + 3 + 6 + 0 = 12. Realized 1,908 - 12 = 1,896.
#   Slippage (qty-weighted, S5 left out): (10 x 0.5 + 0 x 0.5 + 10 x 1) / 2 = 7.5 bps.
#   Confirm-to-fill of FILLED orders: S1 20 s, S5 10 s -> median 15 s.
# beta: 1 signal, 1 order, accepted and FILLED; fill rate 1; realized -1.2 (the fee; the
#   sell opens a position); slippage 20 bps; median 10 s.
def test_the_strategy_summary_matches_the_hand_computed_fixture(fixture_book):
    alpha, beta = strategy_summary()

    assert alpha.strategy == "alpha"
    assert (alpha.signals, alpha.orders, alpha.orders_accepted, alpha.orders_filled) == (5, 4, 3, 2)
    assert (alpha.ordered_qty, alpha.filled_qty, alpha.fill_rate) == (D("5"), D("2.1"), D("0.42"))
    assert alpha.realized_pnl == {"USDT": D("1896")}
    assert alpha.fees == {"USDT": D("12")}
    assert alpha.slippage_bps == D("7.5")
    assert alpha.median_confirm_to_fill_seconds == 15.0

    assert beta.strategy == "beta"
    assert (beta.signals, beta.orders, beta.orders_accepted, beta.orders_filled) == (1, 1, 1, 1)
    assert beta.fill_rate == 1
    assert beta.realized_pnl == {"USDT": D("-1.2")}
    assert beta.slippage_bps == D("20")
    assert beta.median_confirm_to_fill_seconds == 10.0


def test_the_api_and_the_page_show_the_summary(client_for, client, viewer, fixture_book):
    body = client_for(viewer).get("/api/strategies/summary").json()

    alpha = body["strategies"][0]
    assert alpha == {
        "strategy": "alpha",
        "signals": 5,
        "orders": 4,
        "orders_accepted": 3,
        "orders_filled": 2,
        "ordered_qty": "5",
        "filled_qty": "2.1",
        "fill_rate": "0.42",
        "realized_pnl": {"USDT": "1896"},
        "fees": {"USDT": "12"},
        "slippage_bps": "7.5",
        "median_confirm_to_fill_seconds": 15.0,
    }
    client.force_login(viewer)
    html = client.get("/strategies/").content.decode()
    assert 'data-strategy="alpha"' in html and "1,896" in html and "42&nbsp;%" in html and "15.0 s" in html


def test_a_period_with_no_signals_has_no_rows_and_a_bad_day_is_a_400(client_for, viewer, fixture_book):
    client = client_for(viewer)

    assert client.get("/api/strategies/summary?day_to=2020-01-01").json() == {"strategies": []}
    response = client.get("/api/strategies/summary?day_from=2026-13-01")
    assert response.status_code == 400 and "day_from" in response.json()["fields"]
