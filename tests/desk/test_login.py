"""Login and logout through the desk's own page, with brute-force protection (django-axes)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from desk.client_ip import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the personas' password (tests/conftest.py)


@pytest.fixture
def short_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3


def login(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password, "next": "/signals/"}, **extra)


def test_a_trader_logs_in_and_lands_on_the_signals_page(trader):
    client = Client()
    assert client.get("/login/").status_code == 200
    response = login(client, trader.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/signals/"
    assert client.get("/signals/").status_code == 200


def test_a_wrong_password_shows_an_error_and_no_session(trader):
    client = Client()
    response = login(client, trader.username, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert client.get("/signals/").status_code == 302


def test_logout_ends_the_session(trader):
    client = Client()
    login(client, trader.username, PASSWORD)
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/signals/").status_code == 302


def test_repeated_failures_lock_the_login_even_with_the_right_password(trader, short_lockout):
    client = Client()
    for _ in range(3):
        login(client, trader.username, "wrong")
    locked = login(client, trader.username, PASSWORD)
    assert locked.status_code == 429
    assert b"locked" in locked.content
    assert client.get("/signals/").status_code == 302
    assert AccessAttempt.objects.get(username=trader.username).failures_since_start >= 3


def test_the_lock_is_per_username_and_address(trader, viewer, short_lockout):
    for _ in range(3):
        login(Client(), trader.username, "wrong", REMOTE_ADDR="10.0.0.1")
    # Another user from that address, and the same user from another address, still log in.
    assert login(Client(), viewer.username, PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 302
    assert login(Client(), trader.username, PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 302
    assert login(Client(), trader.username, PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 429


def test_behind_a_proxy_each_client_is_counted_by_its_own_address(trader, short_lockout, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(3):
        login(Client(), trader.username, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert login(Client(), trader.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 429
    # The same proxy forwarding another client: not locked out with the attacker.
    assert login(Client(), trader.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy).status_code == 302


def test_the_admin_login_is_protected_too(desk_admin, short_lockout):
    client = Client()
    for _ in range(3):
        client.post("/admin/login/", {"username": desk_admin.username, "password": "wrong"})
    response = client.post("/admin/login/", {"username": desk_admin.username, "password": PASSWORD})
    assert response.status_code == 429


def test_client_ip_ignores_forwarded_headers_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "192.0.2.1"


def test_client_ip_takes_the_entry_the_outermost_trusted_proxy_wrote(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    # The client forged the first entry; the two proxies appended the real address and their own.
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.4")
    assert client_ip(request) == "203.0.113.9"
    short = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(short) == "10.0.0.5"


def test_client_ip_is_none_without_an_address(settings):
    # A login made in code (force_login) has no address; axes stores None, never made-up text.
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None
