"""The profile's `trades:` key (checked when loaded) and fills read from history rows, no browser."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from executor.browser.fills import TradeMatcher, fills_from
from executor.browser.profile import BUILTIN_DIR, ProfileError, parse_profile
from executor.browser.rows import Row, rows_from
from executor.connectors.base import OrderTicket

PRO = (BUILTIN_DIR / "pro.yaml").read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    qty: Filled                               # this table's Filled is the fill's amount\n", ""),
            r"pro.yaml: trades.columns: \['qty'\] must be mapped",
        ),
        (
            ("    fee_asset: Fee\n", "    fee_asset: Fee\n    colour: Role\n"),
            r"trades.columns: unknown field\(s\) \['colour'\]",
        ),
        (
            ("  time_zone: Asia/Singapore\n\ncancel", "  time_zone: Mars/Base\n\ncancel"),
            r"trades.time_zone: unknown time zone",
        ),
        (("      goto: trades\n", "      goto: fills\n"), r"trades.pages\[0\].goto: 'fills' is not in urls"),
        (('    order_id: "Order no."\n    time: Time\n', ""), r"trades.columns: \['time'\] must be mapped"),
        (
            ('  time_format: "%Y-%m-%d %H:%M:%S"\n  time_zone: Asia', "  colour: red\n  time_zone: Asia"),
            r"trades: unknown key",
        ),
    ],
)
def test_a_broken_trades_key_is_refused_naming_the_file_and_key(change, message):
    old, new = change
    head, trades = PRO.split("\ntrades:\n")
    assert old in trades
    with pytest.raises(ProfileError, match=message):
        parse_profile(head + "\ntrades:\n" + trades.replace(old, new, 1), "pro.yaml")


def rows(*cells: list[str]) -> list[Row]:
    profile = parse_profile(PRO, "pro.yaml")
    headers = ["Time (UTC+8)", "Pair", "Side", "Type", "Price", "Filled", "Fee", "Total", "Role", "Order no."]
    return rows_from([{"headers": headers, "cells": list(c)} for c in cells], profile.trades, "trades")


def test_fills_without_trade_ids_get_ids_from_their_rows_stable_across_reads_and_distinct_when_identical():
    profile = parse_profile(PRO, "pro.yaml")
    same = ["2026-12-02 07:00:01", "BTC/USDT", "Buy", "Limit", "60,000.00", "0.0040", "0.24 USDT", "240", "Maker", "7"]
    older = rows(
        same, same, ["2026-12-02 07:00:00", "BTC/USDT", "Buy", "Limit", "60,000.00", "0.0020", "0.12 USDT", "", "", "7"]
    )
    fills = fills_from(older, profile.trades, profile.numbers)
    assert [(f.qty, f.price, f.fee, f.fee_asset) for f in fills] == [
        (Decimal("0.0020"), Decimal("60000.00"), Decimal("0.12"), "USDT"),
        (Decimal("0.0040"), Decimal("60000.00"), Decimal("0.24"), "USDT"),
        (Decimal("0.0040"), Decimal("60000.00"), Decimal("0.24"), "USDT"),
    ]
    assert len({f.trade_id for f in fills}) == 3  # two identical rows are two fills
    assert fills[0].time == datetime(2026, 12, 1, 23, 0, 0, tzinfo=UTC)  # read in the site's UTC+8
    newer = ["2026-12-02 07:00:05", "BTC/USDT", "Buy", "Limit", "60,000.00", "0.0040", "0.24 USDT", "", "", "7"]
    later = fills_from(rows(newer) + older, profile.trades, profile.numbers)
    # A later read with a newer row on top keeps the earlier fills' ids (counted from the oldest).
    assert [f.trade_id for f in later[:3]] == [f.trade_id for f in fills]


def test_a_history_without_order_ids_ties_fills_by_side_symbol_and_time_from_the_submit():
    head, trades = PRO.split("\ntrades:\n")
    text = head + "\ntrades:\n" + trades.replace('    order_id: "Order no."\n', "", 1)
    profile = parse_profile(text, "pro.yaml")
    assert profile.trades.by == "fields"
    submitted = datetime(2026, 12, 1, 23, 0, 0, tzinfo=UTC)
    placed = OrderTicket("td-1", "BTC/USDT", "BUY", "LIMIT", Decimal("0.01"), Decimal("60000"), submitted_at=submitted)
    matcher = TradeMatcher(profile, placed, "")
    found = rows(
        ["2026-12-02 07:00:03", "BTC/USDT", "Buy", "Limit", "60,000.00", "0.0040", "0.24 USDT", "", "", "7"],
        ["2026-12-02 07:00:03", "BTC/USDT", "Sell", "Limit", "60,000.00", "0.0040", "0.24 USDT", "", "", "8"],
        ["2026-12-02 07:00:03", "ETH/USDT", "Buy", "Limit", "3,000.00", "0.0040", "0.01 USDT", "", "", "9"],
        ["2026-12-02 06:50:00", "BTC/USDT", "Buy", "Limit", "60,000.00", "0.0040", "0.24 USDT", "", "", "6"],
    )
    assert [row.get("time") for row in found if matcher.matches(row)] == ["2026-12-02 07:00:03"]
    assert matcher.too_old(found[-1])
