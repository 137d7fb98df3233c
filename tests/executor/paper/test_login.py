"""Logging in to the paper exchange takes a password and then a valid TOTP code."""

import pytest
from django.test import Client

from executor.paper import guards
from executor.paper.models import PaperSession

from .conftest import web_login

pytestmark = pytest.mark.django_db


def test_pages_send_a_logged_out_visitor_to_the_login_page(alice):
    client = Client()
    response = client.get("/paper/trade/BTC-USDT")
    assert response.status_code == 302
    assert response["Location"] == "/paper/login?next=%2Fpaper%2Ftrade%2FBTC-USDT"
    page = client.get(response["Location"])
    assert b'data-testid="login-page"' in page.content
    assert b'id="login-username"' in page.content and b'id="login-password"' in page.content


def test_the_password_and_a_valid_totp_code_open_the_exchange(alice):
    client = Client()
    first = client.post("/paper/login", {"username": "alice", "password": alice.password, "next": "/paper/orders"})
    assert first.status_code == 302 and first["Location"].startswith("/paper/login/2fa")
    assert b'data-testid="totp-page"' in client.get(first["Location"]).content

    second = client.post("/paper/login/2fa", {"code": alice.totp(), "next": "/paper/orders"})

    assert second.status_code == 302 and second["Location"] == "/paper/orders"
    assert client.cookies[guards.SESSION_COOKIE]["path"] == "/paper/"
    assert client.cookies[guards.SESSION_COOKIE]["httponly"]
    page = client.get("/paper/orders")
    assert page.status_code == 200
    assert b'data-testid="logged-in-as">alice<' in page.content


def test_the_password_alone_opens_nothing(alice):
    client = Client()
    client.post("/paper/login", {"username": "alice", "password": alice.password})
    assert client.get("/paper/orders").status_code == 302
    assert not PaperSession.objects.exists()


def test_a_wrong_totp_code_is_refused(alice):
    client = Client()
    response = web_login(client, alice, code=alice.wrong_totp())
    assert response.status_code == 200
    assert b'data-testid="totp-error"' in response.content
    assert client.get("/paper/orders").status_code == 302
    assert not PaperSession.objects.exists()


def test_a_wrong_password_is_refused_without_saying_which_field_was_wrong(alice):
    client = Client()
    wrong_password = client.post("/paper/login", {"username": "alice", "password": "not-the-password"})
    unknown_user = client.post("/paper/login", {"username": "nobody", "password": "not-the-password"})
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert b'data-testid="login-error"' in response.content
        assert b"Wrong username or password." in response.content
    assert client.get("/paper/login/2fa").status_code == 302


def test_the_totp_step_cannot_be_reached_without_the_password_step(alice):
    client = Client()
    response = client.post("/paper/login/2fa", {"code": alice.totp()})
    assert response.status_code == 302 and response["Location"] == "/paper/login"
    assert not PaperSession.objects.exists()


def test_logging_out_ends_the_session_on_the_server(alice_web):
    cookie = alice_web.cookies[guards.SESSION_COOKIE].value
    alice_web.post("/paper/logout")
    replay = Client()
    replay.cookies[guards.SESSION_COOKIE] = cookie
    assert replay.get("/paper/orders").status_code == 302
    assert PaperSession.objects.get().revoked_at is not None


def test_a_tampered_session_cookie_opens_nothing(alice_web):
    forged = Client()
    forged.cookies[guards.SESSION_COOKIE] = alice_web.cookies[guards.SESSION_COOKIE].value[:-2] + "xx"
    assert forged.get("/paper/orders").status_code == 302


def test_the_login_does_not_redirect_outside_the_exchange(alice):
    client = Client()
    client.post("/paper/login", {"username": "alice", "password": alice.password})
    response = client.post("/paper/login/2fa", {"code": alice.totp(), "next": "https://evil.example/"})
    assert response["Location"] == "/paper/"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/paper/"),
        ("get", "/paper/trade/BTC-USDT"),
        ("post", "/paper/trade/BTC-USDT"),
        ("get", "/paper/orders"),
        ("post", "/paper/orders/P-000001/cancel"),
        ("get", "/paper/account"),
        ("get", "/paper/trades"),
    ],
)
def test_every_page_needs_a_paper_login(alice, method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == 302 and response["Location"].startswith("/paper/login")
