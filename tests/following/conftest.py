"""Copy-trading personas and builders.

Personas: `master` (a desk user whose exchange account is open for following), `follower`
(a desk user with an account of their own), `other_follower`, plus the shared `outsider`.
Two venues: the dry run (unit tests, no HTTP) and the paper exchange on the live test server.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from executor.connectors import dry_run
from executor.connectors.base import OrderTicket
from executor.models import ExchangeAccount
from executor.selectors import connector_for
from executor.services import exchange_account_save
from following import services, tasks
from following import venue as follow_venue
from following.models import FollowSettings


@pytest.fixture(autouse=True)
def clean_engine_state(settings):
    # The dry run keeps positions per account id in the process, and ids can be reused after a
    # rollback; the engine caches instruments per venue. Start every test from nothing.
    dry_run._positions.clear()
    dry_run._ledger.clear()
    follow_venue.instruments_cache_clear()
    settings.FOLLOW_SYNC_THREADS = 0
    settings.FOLLOW_MAX_ORDER_QTY = ""
    settings.DRY_RUN_PRICES = {"BTC/USDT": Decimal("65000")}
    from django.core.cache import cache

    cache.clear()
    yield
    dry_run._positions.clear()
    dry_run._ledger.clear()


def _user(username: str) -> User:
    return User.objects.create_user(username=username, password="correct horse battery staple")


@pytest.fixture
def master(db) -> User:
    return _user("mia_master")


@pytest.fixture
def follower(db) -> User:
    return _user("fred_follower")


@pytest.fixture
def other_follower(db) -> User:
    return _user("gina_follower")


@pytest.fixture
def make_account(db) -> Callable[..., ExchangeAccount]:
    def make(owner: User, label: str = "", connector: str = "dry_run", secrets=None, **fields) -> ExchangeAccount:
        label = label or f"{owner.username}-acct"
        account = ExchangeAccount(owner=owner, label=label, venue="paper", connector=connector, **fields)
        return exchange_account_save(account=account, secrets=secrets)

    return make


@pytest.fixture
def master_account(master, make_account) -> ExchangeAccount:
    account = make_account(master)
    services.master_account_open(user=master, credential_id=account.pk)
    return account


@pytest.fixture
def follower_account(follower, make_account) -> ExchangeAccount:
    return make_account(follower)


@pytest.fixture
def follow(master_account) -> Callable[..., FollowSettings]:
    def make(user: User, account: ExchangeAccount, ratio: str = "0.1", **fields) -> FollowSettings:
        return services.follow_settings_create(
            user=user,
            master_credential_id=master_account.pk,
            follower_credential_id=account.pk,
            follow_ratio=Decimal(ratio),
            **fields,
        )

    return make


@pytest.fixture
def trade() -> Callable[..., None]:
    """An account trades at its venue by itself (the master opening a position, say)."""
    counter = iter(range(1, 10**6))

    def place(account: ExchangeAccount, side: str, qty: str, symbol: str = "BTC/USDT") -> None:
        connector = connector_for(account)
        ticket = OrderTicket(
            client_order_id=f"own-{account.pk}-{next(counter)}",
            symbol=symbol,
            side=side,
            order_type="MARKET",
            qty=Decimal(qty),
            reference_price=Decimal("65000"),
        )
        result = connector.place_order(ticket)
        assert result.status == "SUCCESS", result

    return place


def positions(account: ExchangeAccount) -> dict[str, Decimal]:
    return {p.symbol: p.qty for p in follow_venue.read_positions(account)}


@pytest.fixture
def queued_master_syncs(monkeypatch) -> list[tuple]:
    """The args of each sync_master task queued (instead of sending it to a broker)."""
    found: list[tuple] = []
    monkeypatch.setattr(tasks.sync_master, "apply_async", lambda args, kwargs=None, queue=None: found.append(args))
    return found
