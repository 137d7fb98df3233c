"""Adding a ccxt (or paper API) exchange account through the follow-config credentials endpoint:
keys stored encrypted and never echoed, the exchange id and base URL checked, access."""

import pytest
from django.contrib.auth.models import User

from executor.models import ExchangeAccount

pytestmark = pytest.mark.django_db

URL = "/api/v1/follow-config/credentials"


@pytest.fixture
def fiona(db) -> User:
    return User.objects.create_user(username="fiona_follower", password="correct horse battery staple")


def add(client, **overrides):
    body = {
        "label": "my binance testnet",
        "connector": "ccxt",
        "exchange_id": "binance",
        "sandbox": True,
        "api_key": "key-123456",
        "api_secret": "secret-abcdef",
        **overrides,
    }
    return client.post(URL, body, format="json")


def test_a_user_adds_a_ccxt_account_whose_keys_are_stored_encrypted_and_never_shown(client_for, fiona):
    client = client_for(fiona)
    response = add(client)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["connector"], body["exchange_id"], body["sandbox"], body["health"]) == (
        "ccxt",
        "binance",
        True,
        "unknown",
    )
    assert "secret-abcdef" not in response.content.decode() and "key-123456" not in response.content.decode()
    account = ExchangeAccount.objects.get(pk=body["id"])
    assert (account.owner, account.venue) == (fiona, "binance")
    assert account.get_secrets() == {"api_key": "key-123456", "api_secret": "secret-abcdef"}
    assert "secret-abcdef" not in account.secrets_encrypted
    assert account.history.count() == 1
    assert [row["id"] for row in client.get(URL).json()] == [account.pk]


def test_an_exchange_ccxt_does_not_know_is_refused_naming_exchange_id(client_for, fiona):
    response = add(client_for(fiona), exchange_id="nosuchexchange")
    assert response.status_code == 400 and "exchange_id" in response.json()["fields"]
    assert not ExchangeAccount.objects.exists()


def test_a_base_url_outside_the_allowed_ones_is_refused_naming_base_url(client_for, fiona, settings):
    settings.ACCOUNT_BASE_URLS_ALLOWED = ["http://127.0.0.1:8000/paper"]
    response = add(client_for(fiona), base_url="http://169.254.169.254/latest")
    assert response.status_code == 400 and "base_url" in response.json()["fields"]
    # A prefix that only looks alike is not under the allowed address either.
    response = add(client_for(fiona), base_url="http://127.0.0.1:8000/paperx")
    assert response.status_code == 400 and "base_url" in response.json()["fields"]
    response = add(client_for(fiona), base_url="http://127.0.0.1:8000/paper/binance")
    assert response.status_code == 201, response.json()


def test_a_label_used_twice_is_a_conflict(client_for, fiona):
    assert add(client_for(fiona)).status_code == 201
    again = add(client_for(fiona))
    assert again.status_code == 409 and again.json()["code"] == "label_taken"


def test_an_anonymous_caller_cannot_add_an_account(client_for):
    response = add(client_for(None))
    assert response.status_code in (401, 403)
    assert not ExchangeAccount.objects.exists()


def test_follow_account_makes_a_ccxt_account_on_the_paper_exchanges_binance_dialect(fiona, paper_instruments):
    from io import StringIO

    from django.core.management import call_command

    from executor.paper.models import PaperBinanceKey
    from following.models import MasterAccount

    out = StringIO()
    call_command(
        "follow_account", "fiona_follower", "--connector", "ccxt", "--open", "--balance", "USDT=1000", stdout=out
    )
    account = ExchangeAccount.objects.get(owner=fiona)
    assert (account.connector, account.exchange_id, account.venue, account.base_url) == ("ccxt", "binance", "paper", "")
    secrets = account.get_secrets()
    assert set(secrets) == {"api_key", "api_secret"}
    key = PaperBinanceKey.objects.get(account__username="fiona_follower-paper")
    assert secrets["api_key"].startswith(key.key_prefix)
    # Shown once, like Binance shows a new key's secret.
    assert secrets["api_secret"] in out.getvalue()
    assert MasterAccount.objects.get(credential=account).is_open
