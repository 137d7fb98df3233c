"""The paper exchange's secrets at rest: TOTP seeds and Binance API secrets encrypted, API keys
hashed, nothing in clear in a dump of its tables; a TOTP code opens one session only."""

import re
from io import StringIO

import pytest
from django.contrib import admin
from django.core import serializers
from django.core.management import call_command
from django.db import connection
from django.test import Client

from executor.paper import selectors, services
from executor.paper.models import PaperAccount, PaperBinanceKey
from tests.executor.paper.conftest import web_login

pytestmark = pytest.mark.django_db


def paper_tables_dump() -> str:
    """Every row of every paper table as the database holds it (the columns, not the model's properties)."""
    tables = [name for name in connection.introspection.table_names() if name.startswith("paper_")]
    lines = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (names from the schema)
            lines.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(lines)


def test_a_dump_of_the_paper_tables_holds_no_totp_seed_binance_secret_or_api_key_in_clear(alice, bob):
    _, binance_key, binance_secret = services.paper_binance_key_create(account=alice.account)
    dump = paper_tables_dump()
    json_dump = serializers.serialize("json", [*PaperAccount.objects.all(), *PaperBinanceKey.objects.all()])
    for clear in (alice.account.totp_secret, bob.account.totp_secret, binance_secret, binance_key, alice.api_key):
        assert len(clear) >= 16
        assert clear not in dump and clear not in json_dump
    assert PaperAccount.objects.get(pk=alice.account.pk).totp_secret == alice.account.totp_secret


def test_the_seed_cannot_be_read_without_the_credentials_key(alice, settings):
    from cryptography.fernet import Fernet

    from executor import crypto

    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    crypto.reset_keys()
    with pytest.raises(crypto.CredentialsUnreadable):
        _ = PaperAccount.objects.get(pk=alice.account.pk).totp_secret


def test_a_totp_code_opens_one_session_and_is_refused_the_second_time(alice):
    code = alice.totp()
    assert web_login(Client(), alice, code=code).status_code == 302
    again = web_login(Client(), alice, code=code)
    assert again.status_code == 200
    assert "already used" in again.content.decode()
    assert alice.account.sessions.count() == 1


def test_an_older_code_is_refused_once_a_newer_one_was_used(alice):
    import pyotp
    from django.utils import timezone

    totp = pyotp.TOTP(alice.account.totp_secret)
    assert web_login(Client(), alice, code=alice.next_totp()).status_code == 302
    assert web_login(Client(), alice, code=totp.at(timezone.now())).status_code == 200
    assert alice.account.sessions.count() == 1


def test_the_next_code_still_opens_a_session_after_the_current_one_was_used(alice):
    assert web_login(Client(), alice).status_code == 302
    assert web_login(Client(), alice, code=alice.next_totp()).status_code == 302
    assert alice.account.sessions.count() == 2


def test_the_command_prints_a_binance_key_and_secret_once_and_stores_neither_in_clear(alice):
    out = StringIO()
    call_command("paper_binance_key", "alice", "--name", "bot", stdout=out)
    api_key = re.search(r"API key:\s+(\S+)", out.getvalue()).group(1)
    secret = re.search(r"Secret key:\s+(\S+)", out.getvalue()).group(1)
    assert len(api_key) == 64 and len(secret) == 64
    row = selectors.binance_key_get(api_key=api_key)
    assert row.account == alice.account and row.secret == secret and row.name == "bot"
    assert api_key not in row.key_hash and secret not in row.secret_encrypted


def test_a_revoked_binance_key_is_no_longer_found(alice):
    row, api_key, _ = services.paper_binance_key_create(account=alice.account)
    services.paper_binance_key_revoke(key=row)
    assert selectors.binance_key_get(api_key=api_key) is None


def test_admin_makes_a_binance_key_and_shows_its_secret_once(alice, desk_admin):
    assert admin.site.is_registered(PaperBinanceKey)
    client = Client()
    client.force_login(desk_admin)
    response = client.post(
        "/admin/paper/paperaccount/",
        {"action": "make_binance_key", "_selected_action": [alice.account.pk]},
        follow=True,
    )
    row = PaperBinanceKey.objects.get(account=alice.account)
    shown = re.search(r"secret (\w{64})", response.content.decode()).group(1)
    assert row.secret == shown


def test_rotating_the_credentials_key_re_encrypts_the_paper_secrets(alice, settings):
    from cryptography.fernet import Fernet

    from executor import crypto

    row, _, secret = services.paper_binance_key_create(account=alice.account)
    seed = alice.account.totp_secret
    old_key = settings.CREDENTIALS_KEYS[0]
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode(), old_key]
    crypto.reset_keys()
    call_command("rotate_credentials_key", stdout=StringIO())
    settings.CREDENTIALS_KEYS = settings.CREDENTIALS_KEYS[:1]
    crypto.reset_keys()
    assert PaperAccount.objects.get(pk=alice.account.pk).totp_secret == seed
    assert PaperBinanceKey.objects.get(pk=row.pk).secret == secret
