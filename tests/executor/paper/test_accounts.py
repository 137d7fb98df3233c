"""Creating paper accounts from the command line, and running the exchange on its own."""

import re
from decimal import Decimal
from io import StringIO

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from executor.paper.models import PaperAccount, PaperBalance

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = StringIO()
    call_command("paper_create_account", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_an_account_and_prints_its_totp_secret_and_api_key_once():
    output = create("carol", "--password", "carol-pass-123", "--balance", "USDT=5000", "--balance", "btc=0.5")
    secret = re.search(r"TOTP secret: (\S+)", output).group(1)
    key = re.search(r"API key:\s+(\S+)", output).group(1)

    account = PaperAccount.objects.get(username="carol")
    assert account.totp_secret == secret and "carol-pass-123" not in account.password
    balances = {row.asset: row.free for row in PaperBalance.objects.filter(account=account)}
    assert balances == {"USDT": Decimal("5000"), "BTC": Decimal("0.5"), "ETH": Decimal("0")}

    api = APIClient()
    api.credentials(HTTP_X_PAPER_KEY=key)
    assert api.get("/paper/api/balances").status_code == 200
    client = Client()
    client.post("/paper/login", {"username": "carol", "password": "carol-pass-123"})
    assert client.post("/paper/login/2fa", {"code": pyotp.TOTP(secret).now()}).status_code == 302


@pytest.mark.parametrize(
    "args",
    [
        ["x", "--password", "long-enough-1"],
        ["dave", "--password", "short"],
        ["dave", "--password", "long-enough-1", "--balance", "USDT"],
        ["dave", "--password", "long-enough-1", "--balance", "USDT=-1"],
    ],
)
def test_the_command_refuses_bad_input(args):
    with pytest.raises(CommandError):
        create(*args)
    assert not PaperAccount.objects.exists()


def test_a_username_cannot_be_taken_twice(alice):
    with pytest.raises(CommandError, match="taken"):
        create("alice", "--password", "another-pass-1")


@override_settings(ROOT_URLCONF="executor.paper.standalone_urls")
def test_the_standalone_urlconf_serves_only_the_exchange_under_paper(client, mark):
    assert client.get("/").status_code == 302
    assert client.get("/paper/api/prices/BTC-USDT").json()["price"] == "65000"
    assert client.get("/admin/").status_code == 404
    assert client.get("/api/signals").status_code == 404
