"""Personas and builders shared by every test.

Personas: `trader` (may accept, reject and order), `viewer` (reads only), `desk_admin`,
`outsider` (logged in but no desk role), and `strategy` (a strategy's API key).
"""

import importlib
import os
import socket
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from executor.paper.binance.wire import weights as binance_weights
from orders.models import Order
from signals import services as signal_services
from signals.models import Signal
from tradedesk import events, roles


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """SQLite tests run on a database file in the process's throwaway VAR_DIR, as the embedded
    desk does (WAL, BEGIN IMMEDIATE, a busy timeout), not on Django's default in-memory database.
    That one is a shared cache in which a thread's BEGIN IMMEDIATE fails at once with "database
    table is locked" whenever another connection (another thread's) is writing: a live server's
    request, a late follower's thread, a readiness probe. On a file, writers wait their turn."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = os.path.join(os.environ["VAR_DIR"], "test.sqlite3")


@pytest.fixture(autouse=True)
def fresh_request_weight() -> None:
    # The paper exchange's Binance dialect counts request weight per address and minute, in the
    # process: every test starts a new minute, whatever the tests before it sent.
    binance_weights.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # The personas' passwords need no real hashing cost in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_TEST_CREDENTIALS_KEY = None


@pytest.fixture(autouse=True)
def dry_run_by_default(settings) -> None:
    # Unit tests place through the dry run; the browser and paper tests choose their venue.
    settings.EXECUTOR = "dry_run"


@pytest.fixture(autouse=True)
def credentials_key(settings):
    # Tests run with DEBUG off, where a real key is required: one random key per test run.
    global _TEST_CREDENTIALS_KEY
    from cryptography.fernet import Fernet

    from executor import crypto

    _TEST_CREDENTIALS_KEY = _TEST_CREDENTIALS_KEY or Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [_TEST_CREDENTIALS_KEY]
    crypto.reset_keys()
    yield
    crypto.reset_keys()


def _make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])  # flushed by transactional tests
    return user


@pytest.fixture
def trader(db) -> User:
    return _make_user("tina_trader", roles.TRADER)


@pytest.fixture
def viewer(db) -> User:
    return _make_user("victor_viewer", roles.VIEWER)


@pytest.fixture
def desk_admin(db) -> User:
    user = _make_user("ada_admin", roles.ADMIN)
    user.is_staff = user.is_superuser = True  # as create_desk_user --role admin makes them
    user.save()
    return user


@pytest.fixture
def outsider(db) -> User:
    return _make_user("oscar_outsider", None)


class Strategy:
    """A strategy program holding one API key."""

    def __init__(self, name: str) -> None:
        self.api_key, self.key = APIKey.objects.create_key(name=name)
        self.client = APIClient()
        self.client.credentials(HTTP_X_API_KEY=self.key)

    def post_signal(self, idempotency_key: str | None = None, **overrides):
        body = {
            "symbol": "BTC/USDT",
            "side": "BUY",
            "suggest_price": "65000",
            "suggest_qty": "0.5",
            "strategy_name": "mean_reversion_v1",
            "reason": "z-score below -2",
            **overrides,
        }
        headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
        return self.client.post("/api/signals", body, format="json", **headers)


@pytest.fixture
def strategy(db) -> Strategy:
    return Strategy("mean_reversion_v1")


@pytest.fixture
def other_strategy(db) -> Strategy:
    return Strategy("breakout_v2")


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def make_signal(db) -> Callable[..., Signal]:
    def make(status: str = "PENDING", **fields) -> Signal:
        values = {
            "api_key": None,
            "symbol": "BTC/USDT",
            "side": "BUY",
            "suggest_price": Decimal("65000"),
            "suggest_qty": Decimal("0.5"),
            "strategy_name": "mean_reversion_v1",
            **fields,
        }
        signal, _ = signal_services.signal_create(**values)
        if status != signal.status:
            Signal.objects.filter(pk=signal.pk).update(status=status)
            signal.refresh_from_db()
        return signal

    return make


@pytest.fixture
def make_order(db, trader) -> Callable[..., Order]:
    """An order row as the confirm service would write it, bypassing the risk checks."""

    def make(signal: Signal, status: str = "SUBMITTING", **fields) -> Order:
        values = {
            "symbol": signal.symbol,
            "side": signal.side,
            "order_type": "LIMIT",
            "price": Decimal("65000"),
            "qty": Decimal("1"),
            "reference_price": Decimal("65000"),
            "venue": "dry_run",
            "created_by": trader,
            "status": status,
            **fields,
        }
        return Order.objects.create(signal=signal, **values)

    return make


def _make_migration_rows() -> None:
    """The rows the migrations make: the role groups and the paper exchange's instruments."""
    from executor.paper.models import PaperInstrument

    if Group.objects.filter(name__in=roles.ALL_ROLES).count() < len(roles.ALL_ROLES):
        for name in roles.ALL_ROLES:
            Group.objects.get_or_create(name=name)
    seed = importlib.import_module("executor.paper.migrations.0002_seed_instruments").INSTRUMENTS
    if PaperInstrument.objects.filter(symbol__in=[fields["symbol"] for fields in seed]).count() < len(seed):
        min_notional = importlib.import_module("executor.paper.migrations.0003_fills_fees_partial_fills").MIN_NOTIONAL
        for fields in seed:
            PaperInstrument.objects.get_or_create(
                symbol=fields["symbol"], defaults={**fields, "min_notional": min_notional[fields["symbol"]]}
            )


_DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(autouse=True)
def migration_rows(request) -> None:
    """A transactional test ends with a flush, which deletes the rows the migrations made; with
    the SQLite pass spread over processes (pytest-xdist) any test may come after one. So every
    test that uses the database finds them, as on a freshly migrated database."""
    if not (request.node.get_closest_marker("django_db") or _DATABASE_FIXTURES & set(request.fixturenames)):
        return
    request.getfixturevalue("_django_db_helper")
    _make_migration_rows()


@pytest.fixture
def paper_instruments(db) -> None:
    """The paper exchange's instruments (also made for every database test by migration_rows)."""
    _make_migration_rows()


@pytest.fixture
def sent_events(monkeypatch) -> list[tuple[str, str, dict]]:
    """Every live event published (after commit), as (group, type, data)."""
    sent: list[tuple[str, str, dict]] = []
    original = events.publish

    def record(group: str, event_type: str, data: dict) -> None:
        sent.append((group, event_type, data))
        original(group, event_type, data)

    monkeypatch.setattr(events, "publish", record)
    return sent


@pytest.fixture
def queued_tasks(monkeypatch) -> list[int]:
    """Order ids whose placement task was queued (instead of sending them to a broker)."""
    from orders import services, tasks

    queued: list[int] = []
    assert tasks.place_order.name == f"{services.TASKS}.place_order"  # queued by this name
    monkeypatch.setattr(tasks.place_order, "apply_async", lambda args, kwargs=None, **options: queued.append(args[0]))
    return queued


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def real_services() -> None:
    """PostgreSQL and Redis must be the configured backends; with CI=true a missing one fails."""
    database = settings.DATABASES["default"]
    problems = []
    if database["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL does not point at PostgreSQL")
    elif not _reachable(f"postgres://{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}", 5432):
        problems.append("PostgreSQL is not reachable")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    elif not _reachable(settings.REDIS_URL, 6379):
        problems.append("Redis is not reachable")
    if problems:
        message = "; ".join(problems) + " (run these through `make services-test`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.get_closest_marker("services"):
            item.fixturenames.insert(0, "real_services")
