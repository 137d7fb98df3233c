"""Exchange profiles are checked when loaded: a broken one names its file and key."""

import pytest

from executor.browser.profile import BUILTIN_DIR, ProfileError, expand_env, load_profile, parse_profile, render

GOOD = (BUILTIN_DIR / "paper.yaml").read_text()


def test_the_shipped_paper_profile_loads():
    profile = load_profile("paper")
    assert profile.venue_symbol("BTC/USDT") == "BTC-USDT"
    assert sum(step.submit for step in profile.place_order) == 1


def test_a_profile_in_a_configured_folder_is_found_first(settings, tmp_path):
    (tmp_path / "paper.yaml").write_text(GOOD.replace("retries: 1", "retries: 3"))
    settings.EXCHANGE_PROFILE_DIRS = [str(tmp_path)]
    assert load_profile("paper").retries == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("submit: true", "submit: false"), "exactly one step"),
        (('- click: "#place-order"', '- tap: "#place-order"'), "unknown action 'tap'"),
        (("find_order:", "find_orders:"), "find_order"),
        (("goto: {url: trade, reuse: true}", "goto: {url: nowhere}"), "not in urls"),
    ],
)
def test_a_broken_profile_is_refused_with_the_key_at_fault(change, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile(GOOD.replace(*change), source="broken.yaml")


def test_an_unknown_profile_says_where_it_looked():
    with pytest.raises(ProfileError, match="no exchange profile named 'nope'"):
        load_profile("nope")


def test_placeholders_must_have_values():
    assert (
        render("{base_url}/trade/{symbol}", {"base_url": "http://x", "symbol": "BTC-USDT"}) == "http://x/trade/BTC-USDT"
    )
    with pytest.raises(ProfileError, match="symbol"):
        render("{base_url}/trade/{symbol}", {"base_url": "http://x"})


def test_values_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("VENUE_URL", "https://venue.example")
    assert expand_env("${VENUE_URL:-http://default}") == "https://venue.example"
    monkeypatch.delenv("VENUE_URL")
    assert expand_env("${VENUE_URL:-http://default}") == "http://default"


PRO = (BUILTIN_DIR / "pro.yaml").read_text()


def test_the_shipped_pro_profile_loads_and_is_searched_by_fields():
    profile = load_profile("pro")
    assert profile.venue_symbol("BTC/USDT") == "BTC_USDT"
    assert profile.lookup_is_certain is False and load_profile("paper").lookup_is_certain is True
    assert profile.find_order.venue_state("Partially filled") == "PARTIALLY_FILLED"
    click = next(step for step in profile.place_order if step.submit)
    assert (click.locator.kind, click.locator.value, click.locator.name) == ("role", "button", "Confirm")
    assert click.locator.within.name == "Confirm order"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("{role: status, has_text:", "{role: status, css: x, has_text:"), r"result.success: name exactly one of"),
        (("{BUY: Buy, SELL: Sell}", "{BUY: Buy, SHORT: Sell}"), r"values.side: unknown desk value\(s\) \['SHORT'\]"),
        (("time_zone: Asia/Singapore", "time_zone: Mars/Base"), r"find_order.time_zone: unknown time zone"),
        (('min_notional: "5"', 'min_notional: "-5"'), r"rules.min_notional: must be above 0"),
        (
            (
                "  - snapshot:\n      goto: history\n"
                '      rows: {css: "tbody tr", within: {role: table, name: "Order history"}}\n',
                "",
            ),
            r"needs a 'snapshot' step before the submit",
        ),
        (('value: "{qty}"', 'value: "{quantity}"'), r"place_order\[\d+\]: unknown placeholder\(s\) \['quantity'\]"),
        (("    qty: Amount\n", ""), r"find_order.columns: \['qty'\] must be mapped"),
        (("Filled: FILLED", "Filled: DONE"), r"find_order.status_map.Filled: 'DONE' is not one of"),
        (("goto: history\n      rows", "goto: nowhere\n      rows"), r"snapshot.goto: 'nowhere' is not in urls"),
        (('pattern: "Order placed · #(\\\\d+)"', 'pattern: "#(\\\\d+"'), r"result.order_id.pattern: not a regular"),
        (("{role: tab, name:", "{label: tab, name:"), r"'name' goes with 'role'"),
    ],
)
def test_a_broken_real_site_profile_is_refused_with_the_key_at_fault(change, message):
    assert change[0] in PRO, change[0]
    with pytest.raises(ProfileError, match=message) as caught:
        parse_profile(PRO.replace(*change, 1), source="site.yaml")
    assert str(caught.value).startswith("site.yaml: ")


def test_numbers_are_read_and_typed_in_the_venues_format():
    from decimal import Decimal

    from executor.browser.profile import Numbers

    us, eu = Numbers(), Numbers(decimal=",", thousands=".", group_input=True)
    assert us.parse("$50.25") == Decimal("50.25") and us.parse("1,234.5") == Decimal("1234.5")
    assert us.parse("—") is None and us.parse("") is None and us.parse("0.0125 BTC") == Decimal("0.0125")
    assert eu.parse("66.000,50 €") == Decimal("66000.50")
    assert us.format(Decimal("60000.50")) == "60000.5" and us.format(Decimal("1E+1")) == "10"
    assert eu.format(Decimal("66000.5")) == "66.000,5"


def test_a_venue_without_a_quote_currency_and_its_rules(tmp_path):
    text = PRO.replace('symbol_format: "{base}_{quote}"', 'symbol_format: "{base}"').replace(
        "symbols: [BTC/USDT, ETH/USDT]", "symbols: [AAPL, BTC/USDT]"
    )
    text = text.replace("    ETH/USDT: {qty_step", "    AAPL: {qty_step: 1, min_qty: 1}\n    XETH/USDT: {qty_step")
    with pytest.raises(ProfileError, match=r"rules.per_symbol.XETH/USDT: not in rules.symbols"):
        parse_profile(text, source="stocks.yaml")
    profile = parse_profile(text.replace('    XETH/USDT: {qty_step: "0.001", min_qty: "0.001"}\n', ""))
    assert profile.venue_symbol("AAPL") == "AAPL"
    aapl = profile.instruments()["AAPL"]
    assert (aapl.lot_size, aapl.min_qty, aapl.base, aapl.quote) == (1, 1, "AAPL", "")
    assert str(profile.instruments()["BTC/USDT"].tick_size) == "0.01"


def test_rows_are_matched_by_the_orders_own_fields_in_the_venues_spellings():
    from datetime import UTC, datetime
    from decimal import Decimal

    from executor.browser.rows import Matcher, rows_from
    from executor.connectors.base import OrderTicket

    profile = load_profile("pro")
    headers = ["Order no.", "Time (UTC+8)", "Pair", "Type", "Side", "Price", "Avg. price", "Amount", "Filled", "Status"]
    raw = [
        {
            "headers": headers,
            "cells": [
                "9",
                "2026-12-02 06:00:05",
                "BTC/USDT",
                "Limit",
                "Buy",
                "60,000.00",
                "—",
                "0.0100",
                "0.0000",
                "Open",
            ],
        },
        {
            "headers": headers,
            "cells": [
                "8",
                "2026-12-02 06:00:01",
                "BTC/USDT",
                "Limit",
                "Sell",
                "60,000.00",
                "—",
                "0.0100",
                "0.0000",
                "Open",
            ],
        },
        {
            "headers": headers,
            "cells": [
                "7",
                "2026-12-02 05:50:00",
                "BTC/USDT",
                "Limit",
                "Buy",
                "60,000.00",
                "—",
                "0.0100",
                "0.0000",
                "Open",
            ],
        },
        {"headers": headers, "cells": ["No orders yet."]},
    ]
    rows = rows_from(raw, profile.find_order, "history")
    assert [row.get("order_id") for row in rows] == ["9", "8", "7"]
    ticket = OrderTicket("td-1", "BTC/USDT", "BUY", "LIMIT", Decimal("0.01"), Decimal("60000"))
    # 06:00:05 in UTC+8 is 22:00:05 UTC; the order was sent at 22:00:00 UTC (2 minutes of slack).
    matcher = Matcher(profile, ticket, datetime(2026, 12, 1, 22, 0, 0, tzinfo=UTC))
    assert [row.get("order_id") for row in rows if matcher.matches(row)] == ["9"]
    assert matcher.too_old(rows[2]) and not matcher.too_old(rows[0])


def test_the_system_check_names_a_broken_profile_in_a_configured_folder(settings, tmp_path):
    from executor.checks import exchange_profiles_load

    assert exchange_profiles_load(None) == []
    (tmp_path / "site.yaml").write_text(PRO.replace("time_zone: Asia/Singapore", "time_zone: Mars/Base"))
    settings.EXCHANGE_PROFILE_DIRS = [str(tmp_path)]
    [error] = exchange_profiles_load(None)
    assert error.id == "executor.E002" and "site.yaml: find_order.time_zone" in error.msg
