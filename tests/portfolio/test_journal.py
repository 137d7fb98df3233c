"""The trade journal: orders with their fills and fees, filterable, as JSON, CSV and a page."""

import csv
import html as html_lib
import io
import re
from decimal import Decimal as D

import pytest

from portfolio.journal import JOURNAL_COLUMNS


@pytest.fixture
def book(filled_order, make_signal):
    btc = filled_order("BUY", [("0.4", "60000", "2.40"), ("0.6", "60000", "3.60")])
    eth = filled_order(
        "SELL",
        [("2", "2994", "1.2")],
        symbol="ETH/USDT",
        signal=make_signal(symbol="ETH/USDT", side="SELL", strategy_name='=HYPERLINK("http://x")'),
    )
    return btc, eth


def parse(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_a_header_and_one_row_per_fill(client_for, viewer, book):
    btc, eth = book

    response = client_for(viewer).get("/api/journal.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="tradedesk-journal-')
    rows = parse(response)
    assert list(rows[0].keys()) == JOURNAL_COLUMNS
    assert len(rows) == 3  # two fills of the BTC order, one of the ETH order
    first = rows[0]
    assert (first["order_id"], first["symbol"], first["side"], first["fill_qty"], first["fill_price"]) == (
        str(btc.pk),
        "BTC/USDT",
        "BUY",
        "0.4",
        "60000",
    )
    assert (first["fill_notional"], first["fee"], first["fee_asset"], first["venue_state"]) == (
        "24000",
        "2.4",
        "USDT",
        "FILLED",
    )
    assert (first["strategy"], first["origin"], first["account"], first["suggest_price"]) == (
        "mean_reversion_v1",
        "desk",
        "dry run",
        "65000",
    )
    assert sum(D(row["fill_qty"]) for row in rows if row["order_id"] == str(btc.pk)) == D("1")


def test_text_a_spreadsheet_would_run_as_a_formula_is_quoted(client_for, viewer, book):
    rows = parse(client_for(viewer).get("/api/journal.csv?symbol=eth/usdt"))

    [row] = rows
    assert row["strategy"] == '\'=HYPERLINK("http://x")'


def test_the_journal_filters_by_symbol_side_strategy_and_day(client_for, viewer, book):
    client = client_for(viewer)

    assert len(parse(client.get("/api/journal.csv?symbol=BTC/USDT"))) == 2
    assert len(parse(client.get("/api/journal.csv?side=SELL"))) == 1
    assert len(parse(client.get("/api/journal.csv?strategy=mean_reversion_v1"))) == 2
    assert len(parse(client.get("/api/journal.csv?day_from=2026-12-02"))) == 0
    assert len(parse(client.get("/api/journal.csv?day_from=2026-12-01&day_to=2026-12-01"))) == 3
    fills = client.get("/api/fills?symbol=ETH/USDT").json()
    assert fills["count"] == 1
    assert (fills["results"][0]["qty"], fills["results"][0]["fee"], fills["results"][0]["side"]) == ("2", "1.2", "SELL")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("side=LONG", "side"),
        ("day_from=yesterday", "day_from"),
        ("account=-3", "account"),
        ("symbol=" + "A" * 40, "symbol"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(client_for, viewer, query, field):
    for path in ("/api/journal.csv", "/api/fills"):
        response = client_for(viewer).get(f"{path}?{query}")
        assert response.status_code == 400
        assert field in response.json()["fields"]


def test_the_journal_page_lists_fills_and_links_to_the_same_csv(client, viewer, book):
    client.force_login(viewer)

    page = client.get("/journal/?symbol=BTC/USDT")

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('id="fill-') == 2
    assert 'href="/journal/export.csv?symbol=BTC%2FUSDT"' in html
    export = client.get("/journal/export.csv?symbol=BTC/USDT")
    assert len(parse(export)) == 2
    assert client.get("/journal/export.csv?side=nope").status_code == 400


def test_the_orders_page_links_to_the_csv_export_of_its_filters(client, viewer, book):
    client.force_login(viewer)

    html = client.get("/orders/?symbol=ETH/USDT").content.decode()

    link = html_lib.unescape(re.search(r'href="(/journal/export\.csv[^"]*)"', html).group(1))
    assert 'id="journal-export"' in html and "symbol=ETH/USDT" in link.replace("%2F", "/")
    rows = parse(client.get(link))
    assert [row["symbol"] for row in rows] == ["ETH/USDT"]


@pytest.mark.parametrize("path", ["/api/journal.csv", "/api/fills", "/api/strategies/summary", "/api/refusals"])
def test_staff_read_the_journal_apis_and_followers_and_anonymous_callers_are_refused(
    client_for, viewer, trader, outsider, path
):
    assert client_for(viewer).get(path).status_code == 200
    assert client_for(trader).get(path).status_code == 200
    assert client_for(outsider).get(path).status_code == 403
    assert client_for(None).get(path).status_code in (401, 403)


@pytest.mark.parametrize("path", ["/journal/", "/journal/export.csv", "/strategies/", "/refusals/"])
def test_followers_get_no_journal_pages_and_anonymous_users_go_to_the_login(client, viewer, outsider, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    client.force_login(outsider)
    assert client.get(path).status_code == 403
    client.force_login(viewer)
    assert client.get(path).status_code == 200
