import pytest
from rest_framework.test import APIClient

from signals.models import Signal

pytestmark = pytest.mark.django_db

BODY = {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1", "strategy_name": "s"}


def test_a_valid_key_posts_a_signal(strategy):
    response = strategy.post_signal()
    assert response.status_code == 201
    assert Signal.objects.get().api_key == strategy.api_key


def test_a_missing_key_is_refused_with_401_and_nothing_is_stored():
    response = APIClient().post("/api/signals", BODY, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "X-API-KEY"
    assert not Signal.objects.exists()


@pytest.mark.parametrize("key", ["nonsense", "abcdefgh.not-the-secret", ""])
def test_a_wrong_key_is_refused(strategy, key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key or strategy.key.split(".")[0] + ".wrong")
    response = client.post("/api/signals", BODY, format="json")
    assert response.status_code == 401
    assert "X-API-KEY" in response.json()["message"]
    assert not Signal.objects.exists()


def test_a_revoked_key_is_refused(strategy):
    strategy.api_key.revoked = True
    strategy.api_key.save()
    response = strategy.post_signal()
    assert response.status_code == 401
    assert not Signal.objects.exists()


def test_an_expired_key_is_refused(strategy):
    from datetime import timedelta

    from django.utils import timezone

    strategy.api_key.expiry_date = timezone.now() - timedelta(minutes=1)
    strategy.api_key.save()
    assert strategy.post_signal().status_code == 401


def test_only_the_hash_of_a_key_is_stored(strategy):
    strategy.api_key.refresh_from_db()
    secret = strategy.key.split(".", 1)[1]
    assert secret not in strategy.api_key.hashed_key
    assert strategy.api_key.hashed_key.startswith("sha512$$")


def test_a_desk_user_cannot_post_signals_without_a_key(client_for, trader):
    response = client_for(trader).post("/api/signals", BODY, format="json")
    assert response.status_code == 403


def test_create_api_key_command_prints_a_working_key_once():
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("create_api_key", "cli-strategy", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    assert client.post("/api/signals", BODY, format="json").status_code == 201
