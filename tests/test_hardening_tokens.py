"""Bearer tokens of deactivated and locked-out users (issue 13).

Decision: deactivating a user revokes every bearer token (for good: reactivating the user does
not bring them back). A login lockout (django-axes) guards the password against guessing; it does
not touch the tokens, which are separate long random secrets, so failed logins by someone else
cannot cut a user's scripts off.
"""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from tradedesk.models import UserToken

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def token(trader) -> str:
    return UserToken.objects.create_key(name="script", user=trader)[1]


def admin_deactivates(desk_admin, user) -> None:
    client = Client()
    client.force_login(desk_admin)
    form = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        # "is_active" left out: the box is unticked.
    }
    response = client.post(f"/admin/auth/user/{user.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]


def test_a_token_works_for_an_active_trader(token):
    assert bearer(token).get("/api/orders").status_code == 200


def test_deactivating_a_user_in_admin_revokes_their_tokens_for_good(desk_admin, trader, token):
    admin_deactivates(desk_admin, trader)
    trader.refresh_from_db()
    assert not trader.is_active
    row = UserToken.objects.get(user=trader)
    assert row.revoked
    assert row.history.latest().history_change_reason == f"user deactivated by {desk_admin.username}"
    assert bearer(token).get("/api/orders").status_code == 401
    trader.is_active = True
    trader.save()
    assert bearer(token).get("/api/orders").status_code == 401


def test_the_deactivate_user_command_revokes_their_tokens(trader, token, capsys):
    call_command("deactivate_user", trader.username)
    assert "1 bearer token(s) revoked" in capsys.readouterr().out
    assert UserToken.objects.get(user=trader).revoked
    trader.refresh_from_db()
    trader.is_active = True
    trader.save()
    assert bearer(token).get("/api/orders").status_code == 401


def test_a_user_made_inactive_any_other_way_cannot_use_their_tokens(trader, token):
    trader.is_active = False
    trader.save()
    assert bearer(token).get("/api/orders").status_code == 401


def test_a_login_lockout_leaves_the_users_tokens_working(trader, token, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        Client().post("/login/", {"username": trader.username, "password": "wrong"})
    assert AccessAttempt.objects.get(username=trader.username).failures_since_start >= 2
    assert bearer(token).get("/api/orders").status_code == 200
