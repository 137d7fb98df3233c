"""Exchange credentials: encrypted at rest, never shown back in full, rotatable keys."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from executor import crypto
from executor.models import ExchangeAccount
from executor.services import exchange_account_save

pytestmark = pytest.mark.django_db

PASSWORD = "hunter2-very-secret-password"
TOTP = "JBSWY3DPEHPK3PXP"


@pytest.fixture
def keys(settings):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [first]
    crypto.reset_keys()
    yield first, second
    crypto.reset_keys()


@pytest.fixture
def account(keys, trader) -> ExchangeAccount:
    account = ExchangeAccount(owner=trader, label="main", venue="paper", connector="browser")
    return exchange_account_save(
        account=account, secrets={"web_username": "tina", "web_password": PASSWORD, "totp_secret": TOTP}
    )


def raw_column(account: ExchangeAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets_encrypted FROM executor_exchangeaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_secrets_are_stored_encrypted(account):
    stored = raw_column(account)
    assert PASSWORD not in stored and TOTP not in stored and "tina" not in stored
    assert ExchangeAccount.objects.get(pk=account.pk).get_secrets()["web_password"] == PASSWORD


def test_secrets_are_merged_and_removed_field_by_field(account):
    exchange_account_save(account=account, secrets={"api_key": "k-123456789", "totp_secret": ""})
    secrets = ExchangeAccount.objects.get(pk=account.pk).get_secrets()
    assert secrets == {"web_username": "tina", "web_password": PASSWORD, "api_key": "k-123456789"}
    with pytest.raises(ValueError, match="unknown"):
        account.set_secrets(pin="1234")


def test_the_audit_history_never_holds_secrets(account):
    exchange_account_save(account=account, secrets={"web_password": "another-password-123"})
    record = ExchangeAccount.history.filter(id=account.pk).order_by("history_date").last()
    assert not hasattr(record, "secrets_encrypted")
    assert record.history_change_reason == "secrets changed: web_password"


def test_admin_shows_secrets_masked_only(account, desk_admin, client):
    client.force_login(desk_admin)
    page = client.get(f"/admin/executor/exchangeaccount/{account.pk}/change/").content.decode()
    assert PASSWORD not in page and TOTP not in page
    assert "••••word" in page


def test_admin_keeps_secrets_left_empty(account, desk_admin, client):
    client.force_login(desk_admin)
    form = {"owner": account.owner_id, "label": "renamed", "venue": "paper", "connector": "browser", "is_active": "on"}
    response = client.post(f"/admin/executor/exchangeaccount/{account.pk}/change/", form)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.label == "renamed"
    assert account.get_secrets()["web_password"] == PASSWORD


def test_key_rotation_re_encrypts_with_the_new_key(account, keys, settings):
    old, new = keys
    settings.CREDENTIALS_KEYS = [new, old]
    crypto.reset_keys()
    call_command("rotate_credentials_key", stdout=open("/dev/null", "w"))
    settings.CREDENTIALS_KEYS = [new]
    crypto.reset_keys()
    assert ExchangeAccount.objects.get(pk=account.pk).get_secrets()["web_password"] == PASSWORD


def test_a_wrong_key_is_a_clear_error(account, settings):
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    crypto.reset_keys()
    with pytest.raises(crypto.CredentialsUnreadable, match="CREDENTIALS_KEYS"):
        ExchangeAccount.objects.get(pk=account.pk).get_secrets()


def test_production_needs_a_credentials_key(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.CREDENTIALS_KEYS = []
    settings.DEBUG = False
    crypto.reset_keys()
    with pytest.raises(ImproperlyConfigured, match="CREDENTIALS_KEYS"):
        crypto.encrypt({"a": "b"})
    crypto.reset_keys()
