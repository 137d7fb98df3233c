"""Positions reconciled with a real venue: the paper exchange's JSON API on the live test server."""

from decimal import Decimal as D

import pytest

from executor.models import ExchangeAccount
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paper_account(live_server, settings, paper_instruments, trader) -> ExchangeAccount:
    settings.PAPER_API_TIMEOUT = 3.0
    paper_price_set(symbol="BTC-USDT", price=D("66000"))
    paper_price_set(symbol="ETH-USDT", price=D("3000"))
    _, key = paper_account_create(
        username="desk-book",
        password="paper-password-1",
        balances={"USDT": D("50000"), "BTC": D("1"), "ETH": D("2")},
    )
    account = ExchangeAccount(
        owner=trader,
        label="paper desk",
        venue="paper",
        connector="api",
        base_url=f"{live_server.url}/paper",
        is_desk_default=True,
    )
    return exchange_account_save(account=account, secrets={"api_key": key})


def test_a_venue_position_the_fills_do_not_explain_is_a_drift_warning(client_for, viewer, filled_order, paper_account):
    filled_order("BUY", [("1.5", "60000", "9")], account=paper_account)  # the venue holds 1 BTC
    filled_order("BUY", [("2", "2900", "0")], symbol="ETH/USDT", account=paper_account)  # matches its 2 ETH

    body = client_for(viewer).get("/api/positions").json()

    account = next(row for row in body["accounts"] if row["account_id"] == paper_account.pk)
    assert account["venue_error"] == ""
    assert account["drift"] is True
    positions = {row["symbol"]: row for row in account["positions"]}
    btc, eth = positions["BTC/USDT"], positions["ETH/USDT"]
    assert (btc["qty"], btc["venue_qty"], btc["drift"]) == ("1.5", "1", "-0.5")
    assert (btc["last_price"], btc["unrealized_pnl"], btc["realized_pnl"]) == ("66000", "9000", "-9")
    assert (eth["qty"], eth["venue_qty"], eth["drift"]) == ("2", "2", "0")
    assert eth["unrealized_pnl"] == "200"


def test_the_page_shows_the_drift_warning_and_the_venue_balances(client, viewer, filled_order, paper_account):
    filled_order("BUY", [("1.5", "60000", "9")], account=paper_account)
    client.force_login(viewer)

    html = client.get("/positions/").content.decode()

    assert 'data-drift="BTC/USDT"' in html
    assert "the venue holds 1, the desk's fills explain 1.5" in html
    assert 'data-drift="ETH/USDT"' in html  # 2 ETH at the venue, none from the desk's fills
    assert 'data-asset="USDT"' in html and "50,000" in html


def test_balances_are_the_venues(client_for, viewer, paper_account):
    body = client_for(viewer).get(f"/api/balances?account={paper_account.pk}").json()

    [account] = body["accounts"]
    assert account["error"] == ""
    balances = {row["asset"]: row for row in account["balances"]}
    assert balances["USDT"] == {"asset": "USDT", "free": "50000", "locked": "0", "total": "50000"}
    assert balances["BTC"]["total"] == "1"
