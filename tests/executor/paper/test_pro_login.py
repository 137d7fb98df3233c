"""Paper Pro's login: its own session (password, then the TOTP code when 2FA is on), apart from
the classic paper pages and the desk; every page and endpoint refuses a logged-out visitor."""

import time

import pytest
from django.test import Client

from executor.paper.models import PaperAccount, PaperSession

from .conftest import web_login

PRO = "/paper/pro"


def pro_login(client: Client, trader, password: str | None = None):
    return client.post(f"{PRO}/login", {"username": trader.username, "password": password or trader.password})


def two_factor_on(trader) -> None:
    PaperAccount.objects.filter(pk=trader.account.pk).update(pro_two_factor=True)


def test_a_login_without_2fa_opens_the_pro_site_and_nothing_else(alice):
    client = Client()
    response = pro_login(client, alice)
    assert response.status_code == 302 and response["Location"] == f"{PRO}/"
    assert client.cookies["pro_session"]["path"] == "/paper/pro/"
    assert client.get(f"{PRO}/trade/BTC_USDT").status_code == 200
    classic = client.get("/paper/trade/BTC-USDT")
    assert classic.status_code == 302 and classic["Location"].startswith("/paper/login")
    assert client.get("/").status_code in (302, 403)  # nor the desk


def test_a_classic_paper_login_does_not_open_the_pro_site(alice):
    client = Client()
    assert web_login(client, alice).status_code == 302
    response = client.get(f"{PRO}/trade/BTC_USDT")
    assert response.status_code == 302 and response["Location"].startswith(f"{PRO}/login")


def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(alice):
    wrong = pro_login(Client(), alice, password="not-the-password")
    unknown = Client().post(f"{PRO}/login", {"username": "nobody", "password": "whatever-123"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert b"Incorrect username or password." in response.content
        assert "pro_session" not in response.cookies
    assert not PaperSession.objects.exists()


def test_with_2fa_on_the_password_alone_opens_nothing_and_the_code_completes_the_login(alice):
    two_factor_on(alice)
    client = Client()
    response = pro_login(client, alice)
    assert response.status_code == 302 and response["Location"].startswith(f"{PRO}/login/verify")
    assert client.get(f"{PRO}/trade/BTC_USDT").status_code == 302
    page = client.get(response["Location"])
    assert b"Authenticator code" in page.content
    refused = client.post(f"{PRO}/login/verify", {"code": alice.wrong_totp()})
    assert refused.status_code == 401 and b"Invalid or expired code" in refused.content
    done = client.post(f"{PRO}/login/verify", {"code": alice.totp()})
    assert done.status_code == 302
    assert client.get(f"{PRO}/trade/BTC_USDT").status_code == 200


def test_the_code_step_without_a_password_first_goes_back_to_the_login(alice):
    two_factor_on(alice)
    response = Client().post(f"{PRO}/login/verify", {"code": alice.totp()})
    assert response.status_code == 302 and response["Location"].startswith(f"{PRO}/login")
    assert not PaperSession.objects.exists()


def test_the_login_only_returns_to_pages_of_this_site(alice):
    client = Client()
    response = client.post(
        f"{PRO}/login", {"username": alice.username, "password": alice.password, "next": "https://evil.example/"}
    )
    assert response["Location"] == f"{PRO}/"
    client = Client()
    response = client.post(
        f"{PRO}/login", {"username": alice.username, "password": alice.password, "next": f"{PRO}/orders?tab=history"}
    )
    assert response["Location"] == f"{PRO}/orders?tab=history"


def test_the_account_page_turns_2fa_on_and_off_with_the_password(alice):
    client = Client()
    pro_login(client, alice)
    refused = client.post(f"{PRO}/account", {"enabled": "on", "password": "wrong-password"})
    assert refused.status_code == 400 and b"Wrong password" in refused.content
    alice.account.refresh_from_db()
    assert alice.account.pro_two_factor is False
    response = client.post(f"{PRO}/account", {"enabled": "on", "password": alice.password})
    assert b"Two-factor authentication is on." in response.content
    alice.account.refresh_from_db()
    assert alice.account.pro_two_factor is True
    client.post(f"{PRO}/account", {"password": alice.password})
    alice.account.refresh_from_db()
    assert alice.account.pro_two_factor is False


def test_logging_out_ends_the_session_on_the_server(alice):
    client = Client()
    pro_login(client, alice)
    token_cookie = client.cookies["pro_session"].value
    client.post(f"{PRO}/logout")
    assert PaperSession.objects.get().revoked_at is not None
    replay = Client()
    replay.cookies["pro_session"] = token_cookie
    assert replay.get(f"{PRO}/trade/BTC_USDT").status_code == 302


PAGES = ["/", "/trade/BTC_USDT", "/orders", "/orders?tab=history&page=2", "/account"]
ENDPOINTS = [
    ("post", "/api/order/place"),
    ("post", "/api/order/1/cancel"),
    ("get", "/panel/open"),
    ("get", "/panel/history?page=1"),
    ("get", "/panel/trades"),
    ("get", "/api/balances/BTC_USDT"),
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_logged_out_visitor_to_the_login(db, path):
    response = Client().get(f"{PRO}{path}")
    assert response.status_code == 302 and response["Location"].startswith(f"{PRO}/login?next=")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_answers_a_logged_out_visitor_401_json(db, method, path):
    response = getattr(Client(), method)(f"{PRO}{path}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "SESSION_EXPIRED"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_classic_paper_session_opens_no_endpoint(alice_web, method, path):
    response = getattr(alice_web, method)(f"{PRO}{path}", content_type="application/json")
    assert response.status_code == 401


def test_django_admin_shows_the_pro_2fa_switch(alice, desk_admin):
    client = Client()
    client.force_login(desk_admin)
    page = client.get(f"/admin/paper/paperaccount/{alice.account.pk}/change/").content.decode()
    assert 'name="pro_two_factor"' in page


def test_five_wrong_codes_send_the_login_back_to_the_password(alice):
    two_factor_on(alice)
    client = Client()
    pro_login(client, alice)
    for _ in range(5):
        assert client.post(f"{PRO}/login/verify", {"code": alice.wrong_totp()}).status_code == 401
    response = client.post(f"{PRO}/login/verify", {"code": alice.totp()})
    assert response.status_code == 302 and response["Location"].startswith(f"{PRO}/login?")
    assert not PaperSession.objects.exists()
    pro_login(client, alice)
    assert client.post(f"{PRO}/login/verify", {"code": alice.totp()}).status_code == 302


def test_the_code_step_ends_five_minutes_after_the_password_however_many_tries(alice, monkeypatch):
    two_factor_on(alice)
    client = Client()
    start = time.time()
    pro_login(client, alice)
    monkeypatch.setattr(time, "time", lambda: start + 200)
    client.post(f"{PRO}/login/verify", {"code": alice.wrong_totp()})  # re-signs the cookie at +200 s
    monkeypatch.setattr(time, "time", lambda: start + 301)
    response = client.post(f"{PRO}/login/verify", {"code": alice.totp()})
    assert response.status_code == 302 and response["Location"].startswith(f"{PRO}/login?")
    assert not PaperSession.objects.exists()
