"""On PostgreSQL the intake's key check and its signal + audit insert are prepared statements
(tradedesk/db.py), and Django's other queries are not; the key check still refuses what the
library refuses."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from signals.models import Signal
from tradedesk.auth import _valid_key
from tradedesk.models import UserToken

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_key_check_and_the_insert_are_prepared_once_and_reused(strategy):
    for n in range(3):
        assert strategy.post_signal(f"prepared-{n}").status_code == 201
    statements = prepared_statements()
    key_checks = [s for s in statements if s.startswith("SELECT") and "rest_framework_api_key_apikey" in s]
    inserts = [s for s in statements if s.startswith('WITH new AS (INSERT INTO "signals_signal"')]
    assert (len(key_checks), len(inserts)) == (1, 1), statements
    assert Signal.objects.count() == 3
    assert Signal.history.count() == 3


def test_no_other_query_is_prepared(make_signal):
    signal = make_signal()
    for _ in range(6):  # past psycopg's own threshold (5) for preparing a repeated query
        Signal.objects.filter(pk=signal.pk).update(reason="again")
        list(Signal.objects.filter(symbol="BTC/USDT"))
    statements = prepared_statements()
    assert len(statements) == 1 and statements[0].startswith("WITH new AS (INSERT"), statements


def test_a_key_revoked_after_its_statement_was_prepared_is_refused(strategy):
    assert strategy.post_signal("before").status_code == 201
    strategy.api_key.revoked = True
    strategy.api_key.save()
    assert strategy.post_signal("after").status_code == 401
    assert Signal.objects.count() == 1


def test_the_prepared_key_check_refuses_a_wrong_secret_and_an_expired_key(strategy):
    prefix = strategy.key.split(".")[0]
    assert _valid_key(type(strategy.api_key), strategy.key) == strategy.api_key
    assert _valid_key(type(strategy.api_key), f"{prefix}.wrong") is None
    assert _valid_key(type(strategy.api_key), "nosuchkey.secret") is None
    strategy.api_key.expiry_date = timezone.now() - timedelta(minutes=1)
    strategy.api_key.save()
    assert _valid_key(type(strategy.api_key), strategy.key) is None


def test_a_user_token_is_checked_the_same_way(trader):
    token, key = UserToken.objects.create_key(name="script", user=trader)
    found = _valid_key(UserToken, key)
    assert (found, found.user) == (token, trader)
    token.revoked = True
    token.save()
    assert _valid_key(UserToken, key) is None
