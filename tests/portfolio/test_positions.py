"""Positions, balances and P&L per exchange account: the desk's own fills by average cost,
reconciled with the venue's positions; who may see them."""

from decimal import Decimal as D

import pytest

from executor.models import ExchangeAccount
from executor.services import exchange_account_save


@pytest.fixture
def btc_at_64000(settings):
    settings.DRY_RUN_PRICES = {"BTC/USDT": D("64000")}


@pytest.fixture
def hand_example(filled_order, btc_at_64000):
    # The example in test_pnl.py, worked by hand: qty 1.5, avg 61,000, fees 15.45,
    # realized after fees 1,984.55, unrealized at 64,000: 4,500.
    filled_order("BUY", [("0.4", "60000", "2.40"), ("0.6", "60000", "3.60")])
    filled_order("BUY", [("1", "62000", "6.20")])
    filled_order("SELL", [("0.5", "65000", "3.25")])


def dry_run_account(body: dict) -> dict:
    return next(account for account in body["accounts"] if account["account_id"] is None)


def test_positions_and_pnl_match_the_hand_computed_example_with_fees(client_for, viewer, hand_example):
    response = client_for(viewer).get("/api/positions")

    assert response.status_code == 200
    body = response.json()
    assert body["cost_method"] == "average_cost"
    account = dry_run_account(body)
    assert account["label"] == "Dry run"
    [position] = account["positions"]
    assert position == {
        "symbol": "BTC/USDT",
        "base": "BTC",
        "quote": "USDT",
        "qty": "1.5",
        "avg_entry": "61000",
        "last_price": "64000",
        "market_value": "96000",
        "realized_pnl": "1984.55",
        "unrealized_pnl": "4500",
        "fees": "15.45",
        "other_fees": {},
        "fills": 4,
        "venue_qty": None,
        "venue_avg_price": None,
        "drift": None,
    }
    assert account["totals"] == {"USDT": {"realized_pnl": "1984.55", "unrealized_pnl": "4500", "fees": "15.45"}}
    assert account["drift"] is False
    assert "dry run keeps no positions" in account["venue_error"]


def test_the_positions_page_shows_the_same_figures(client, viewer, hand_example):
    client.force_login(viewer)

    page = client.get("/positions/")

    assert page.status_code == 200
    html = page.content.decode()
    for text in ("BTC/USDT", "61,000", "1,984.55", "4,500", "15.45", 'data-live-positions="/ws/orders"'):
        assert text in html
    fragment = client.get("/positions/fragment/")
    assert fragment.status_code == 200 and "1,984.55" in fragment.content.decode()


@pytest.mark.parametrize("persona", ["viewer", "trader", "desk_admin"])
def test_desk_staff_see_positions_and_balances(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))

    assert client.get("/api/positions").status_code == 200
    assert client.get("/api/balances").status_code == 200


@pytest.mark.parametrize("path", ["/api/positions", "/api/balances"])
def test_followers_and_anonymous_callers_are_refused_the_api(client_for, outsider, path):
    # `outsider` is how a follower logs in: a user with no desk role.
    assert client_for(outsider).get(path).status_code == 403
    assert client_for(None).get(path).status_code in (401, 403)


@pytest.mark.parametrize("path", ["/positions/", "/positions/fragment/"])
def test_followers_see_no_positions_page_and_anonymous_users_go_to_the_login(client, outsider, hand_example, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")

    client.force_login(outsider)
    refused = client.get(path)
    assert refused.status_code == 403
    assert "61,000" not in refused.content.decode()


def test_a_bad_account_filter_is_a_400_naming_it_and_an_unknown_one_a_404(client_for, viewer):
    client = client_for(viewer)

    bad = client.get("/api/positions?account=abc")
    assert bad.status_code == 400 and "account" in bad.json()["fields"]
    huge = client.get(f"/api/balances?account={2**64}")
    assert huge.status_code == 400 and "account" in huge.json()["fields"]
    missing = client.get("/api/positions?account=999999")
    assert missing.status_code == 404 and "account" in missing.json()["fields"]


def test_an_unreachable_venue_is_said_so_and_the_desk_fills_still_count(client_for, viewer, trader, filled_order):
    account = exchange_account_save(
        account=ExchangeAccount(
            owner=trader,
            label="down",
            venue="paper",
            connector="api",
            base_url="http://127.0.0.1:9",
            is_desk_default=True,
        ),
        secrets={"api_key": "k"},
    )
    filled_order("BUY", [("2", "100", "0")], symbol="ETH/USDT", account=account)

    response = client_for(viewer).get(f"/api/positions?account={account.pk}")

    [row] = response.json()["accounts"]
    assert "could not be read" in row["venue_error"]
    assert row["drift"] is False
    [position] = row["positions"]
    assert (position["qty"], position["avg_entry"], position["last_price"], position["unrealized_pnl"]) == (
        "2",
        "100",
        None,
        None,
    )
    balances = client_for(viewer).get(f"/api/balances?account={account.pk}").json()["accounts"][0]
    assert balances["balances"] == [] and "could not be read" in balances["error"]


def test_a_browser_accounts_venue_is_read_only_by_its_own_worker(monkeypatch, client_for, viewer, trader, filled_order):
    from portfolio import selectors, tasks

    assert tasks.read_venue.name == selectors.READ_VENUE_TASK  # queued by this name
    queued = []
    monkeypatch.setattr(
        tasks.read_venue, "apply_async", lambda args, kwargs=None, queue=None, **_: queued.append((args, queue))
    )
    monkeypatch.setattr(selectors, "connector_for", lambda account: pytest.fail("the web process drove a browser"))
    account = exchange_account_save(
        account=ExchangeAccount(
            owner=trader,
            label="web",
            venue="paper",
            connector="browser",
            browser_queue="browser-b",
            is_desk_default=True,
        )
    )
    filled_order("BUY", [("1", "100", "0")], symbol="ETH/USDT", account=account)

    body = client_for(viewer).get(f"/api/positions?account={account.pk}").json()

    [row] = body["accounts"]
    assert "asked the browser worker" in row["venue_error"]
    assert row["positions"][0]["qty"] == "1"
    assert {args[1] for args, _ in queued} == {"positions", "balances", "price:ETH/USDT"}
    assert {queue for _, queue in queued} == {"browser-b"}
    client_for(viewer).get(f"/api/positions?account={account.pk}")
    assert len(queued) == 3  # one read per account and kind at a time


def test_a_followers_own_account_is_not_shown_to_desk_staff(client_for, viewer, outsider):
    follower_account = exchange_account_save(
        account=ExchangeAccount(
            owner=outsider, label="fred's", venue="paper", connector="api", base_url="http://127.0.0.1:9"
        ),
        secrets={"api_key": "k"},
    )

    client = client_for(viewer)

    assert client.get(f"/api/balances?account={follower_account.pk}").status_code == 404
    listed = {row["account_id"] for row in client.get("/api/positions").json()["accounts"]}
    assert follower_account.pk not in listed
