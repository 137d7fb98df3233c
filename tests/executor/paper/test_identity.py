"""The paper exchange's identity is its own: a desk login never opens it, nor the other way round."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_desk_login_does_not_open_paper_pages(desk_admin, alice):
    client = Client()
    client.force_login(desk_admin)
    assert client.get("/admin/").status_code == 200
    for path in ("/paper/trade/BTC-USDT", "/paper/orders", "/paper/account"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/paper/login"), path


def test_a_desk_login_does_not_open_the_paper_api(desk_admin, alice):
    client = Client()
    client.force_login(desk_admin)
    assert client.get("/paper/api/balances").status_code == 401


def test_a_paper_login_does_not_open_the_desk_admin_or_api(alice_web):
    assert alice_web.get("/paper/orders").status_code == 200
    admin = alice_web.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")
    assert alice_web.get("/api/signals").status_code in (401, 403)
    assert alice_web.get("/").status_code == 302


def test_a_paper_login_writes_no_django_session(alice_web):
    assert "sessionid" not in alice_web.cookies
    assert not Session.objects.exists()


def test_a_paper_api_key_does_not_open_the_desk_api(alice):
    client = Client(headers={"X-PAPER-KEY": alice.api_key, "X-API-KEY": alice.api_key})
    assert client.get("/api/signals").status_code in (401, 403)
