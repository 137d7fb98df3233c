"""Paper exchange personas and helpers.

Personas: `alice` (USDT 100000 and BTC 1, logged in through `alice_web` or `alice_api`) and
`bob` (another account, USDT 1000). Trading is free unless a test asks for `fees` (maker 0.1%,
taker 0.2%), so the older tests' amounts stay round. Nothing here ever sleeps: `slept` records the delays the
slow and lost_reply faults ask for instead.
"""

from dataclasses import dataclass
from decimal import Decimal

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from executor.paper import guards, services
from executor.paper.models import PaperAccount

PASSWORD = "paper-password-123"


@dataclass
class Trader:
    account: PaperAccount
    password: str
    api_key: str

    @property
    def username(self) -> str:
        return self.account.username

    def totp(self) -> str:
        return pyotp.TOTP(self.account.totp_secret).now()

    def next_totp(self) -> str:
        """The next 30 seconds' code (accepted for clock drift): a second login in one window needs it."""
        return pyotp.TOTP(self.account.totp_secret).at(timezone.now(), counter_offset=1)

    def wrong_totp(self) -> str:
        totp = pyotp.TOTP(self.account.totp_secret)
        now = timezone.now()
        valid = {totp.at(now, counter_offset=offset) for offset in (-2, -1, 0, 1, 2)}
        return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def make_trader(username: str, **balances: str) -> Trader:
    account, key = services.paper_account_create(
        username=username, password=PASSWORD, balances={asset: Decimal(amount) for asset, amount in balances.items()}
    )
    return Trader(account, PASSWORD, key)


@pytest.fixture
def alice(db) -> Trader:
    return make_trader("alice", USDT="100000", BTC="1")


@pytest.fixture
def bob(db) -> Trader:
    return make_trader("bob", USDT="1000")


def web_login(client: Client, trader: Trader, code: str | None = None):
    """Both login steps; returns the answer to the TOTP step."""
    client.post("/paper/login", {"username": trader.username, "password": trader.password})
    return client.post("/paper/login/2fa", {"code": code or trader.totp()})


@pytest.fixture
def alice_web(alice) -> Client:
    client = Client()
    response = web_login(client, alice)
    assert response.status_code == 302, response.content[:500]
    return client


def api_client(key: str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_PAPER_KEY=key)
    return client


@pytest.fixture
def alice_api(alice) -> APIClient:
    return api_client(alice.api_key)


@pytest.fixture
def mark(db):
    """Fix the mark price of a symbol: mark("BTC-USDT", "65000")."""

    def fix(symbol: str, price: str | None) -> None:
        services.paper_price_set(symbol=symbol, price=None if price is None else Decimal(price))

    fix("BTC-USDT", "65000")
    fix("ETH-USDT", "3000")
    return fix


@pytest.fixture(autouse=True)
def free_trading(settings) -> None:
    settings.PAPER_MAKER_FEE_RATE = Decimal("0")
    settings.PAPER_TAKER_FEE_RATE = Decimal("0")


@pytest.fixture
def fees(settings) -> tuple[Decimal, Decimal]:
    """Maker 0.1%, taker 0.2%: different, so a test sees which one a fill paid."""
    settings.PAPER_MAKER_FEE_RATE = Decimal("0.001")
    settings.PAPER_TAKER_FEE_RATE = Decimal("0.002")
    return settings.PAPER_MAKER_FEE_RATE, settings.PAPER_TAKER_FEE_RATE


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    delays: list[float] = []
    monkeypatch.setattr(guards, "sleep", delays.append)
    return delays


def order_body(client_order_id: str = "td-1", **overrides) -> dict:
    return {
        "client_order_id": client_order_id,
        "symbol": "BTC-USDT",
        "side": "BUY",
        "type": "MARKET",
        "qty": "0.1",
        **overrides,
    }


def place_on_page(client: Client, symbol: str = "BTC-USDT", **fields):
    """Fill the trade form and confirm it in the dialog, as a browser would; returns the answer."""
    data = {"side": "BUY", "order_type": "MARKET", "qty": "0.1", "client_order_id": "", **fields}
    return client.post(f"/paper/trade/{symbol}", {**data, "confirmed": "1"})
