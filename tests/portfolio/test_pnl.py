"""The average-cost maths, against examples worked out by hand."""

from decimal import Decimal as D

from portfolio.pnl import TradeFill, position_from_fills

# Worked by hand:
#   BUY  1   @ 60,000, fee 6.00 USDT     -> qty 1,   avg 60,000
#   BUY  1   @ 62,000, fee 6.20 USDT     -> qty 2,   avg (60,000 + 62,000) / 2 = 61,000
#   SELL 0.5 @ 65,000, fee 3.25 USDT     -> qty 1.5, avg 61,000, realized 0.5 x 4,000 = 2,000
#   fees 6 + 6.2 + 3.25 = 15.45; realized after fees 2,000 - 15.45 = 1,984.55
#   last price 64,000: unrealized 1.5 x (64,000 - 61,000) = 4,500
HAND_EXAMPLE = [
    TradeFill("BUY", D("1"), D("60000"), D("6.00"), "USDT"),
    TradeFill("BUY", D("1"), D("62000"), D("6.20"), "USDT"),
    TradeFill("SELL", D("0.5"), D("65000"), D("3.25"), "USDT"),
]


def test_two_buys_and_a_partial_sell_with_quote_fees_match_the_hand_computed_figures():
    position = position_from_fills("BTC/USDT", HAND_EXAMPLE, last_price=D("64000"))

    assert position.qty == D("1.5")
    assert position.avg_entry == D("61000")
    assert position.fees == D("15.45")
    assert position.realized_pnl == D("1984.55")
    assert position.unrealized_pnl == D("4500")
    assert position.market_value == D("96000")
    assert (position.bought_qty, position.sold_qty, position.fills) == (D("2"), D("0.5"), 3)


def test_selling_everything_realizes_it_all_and_leaves_no_entry_price():
    fills = [*HAND_EXAMPLE, TradeFill("SELL", D("1.5"), D("60000"), D("9"), "USDT")]

    position = position_from_fills("BTC/USDT", fills, last_price=D("64000"))

    # 2,000 + 1.5 x (60,000 - 61,000) = 500 before fees; fees 15.45 + 9 = 24.45
    assert position.qty == 0
    assert position.avg_entry is None
    assert position.realized_pnl == D("475.55")
    assert position.unrealized_pnl == 0


def test_a_sell_larger_than_the_holding_opens_a_short_at_the_fill_price():
    fills = [TradeFill("BUY", D("1"), D("100")), TradeFill("SELL", D("3"), D("110"))]

    position = position_from_fills("ETH/USDT", fills, last_price=D("105"))

    assert position.qty == D("-2")
    assert position.avg_entry == D("110")
    assert position.realized_pnl == D("10")
    assert position.unrealized_pnl == D("10")  # -2 x (105 - 110)


def test_a_base_currency_fee_shrinks_the_holding_and_costs_its_average_entry():
    fills = [TradeFill("BUY", D("1"), D("100"), D("0.01"), "ETH")]

    position = position_from_fills("ETH/USDT", fills, last_price=D("120"))

    assert position.qty == D("0.99")
    assert position.avg_entry == D("100")
    assert position.fees == D("1")
    assert position.realized_pnl == D("-1")
    # Total P&L is what the holding is worth minus what was paid: 0.99 x 120 - 100 = 18.8.
    assert position.realized_pnl + position.unrealized_pnl == D("18.8")


def test_fees_in_another_asset_are_listed_apart_and_left_out_of_the_pnl():
    fills = [
        TradeFill("BUY", D("1"), D("100"), D("0.002"), "BNB"),
        TradeFill("BUY", D("1"), D("100"), D("0.001"), "bnb"),
    ]

    position = position_from_fills("ETH/USDT", fills, last_price=None)

    assert position.other_fees == {"BNB": D("0.003")}
    assert position.fees == 0
    assert position.realized_pnl == 0
    assert position.unrealized_pnl is None  # no last price: unknown, not zero
