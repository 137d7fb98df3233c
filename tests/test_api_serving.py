"""Requests under /api/ are served by a second Django handler with a shorter middleware chain
(settings.API_MIDDLEWARE, tradedesk/asgi.py). Through it the API behaves as through the pages'
chain: keys, bearer tokens and staff sessions (with CSRF) authenticate, errors are the desk's
JSON, every answer carries its request id, requests are counted, staff changes are audited."""

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.middleware.csrf import _get_new_csrf_string
from rest_framework.test import APIClient, ForceAuthClientHandler

from ops import counters
from signals.models import Signal, SignalStatus
from tradedesk.middleware import ApiMiddlewareMixin, ApiWSGIHandler
from tradedesk.models import UserToken

pytestmark = pytest.mark.django_db

BODY = {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1", "strategy_name": "s"}


class ApiClientHandler(ApiMiddlewareMixin, ForceAuthClientHandler):
    """The test client's handler, built from the API's chain as the production handler is."""


def api_client(*, enforce_csrf_checks: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=enforce_csrf_checks)
    client.handler = ApiClientHandler(enforce_csrf_checks=enforce_csrf_checks)
    return client


def test_the_api_chain_is_the_pages_chain_without_the_pages_only_middleware_in_the_same_order():
    assert settings.API_MIDDLEWARE == [
        name for name in settings.MIDDLEWARE if name not in settings.PAGES_ONLY_MIDDLEWARE
    ]
    for kept in (
        "ops.middleware.OpsMiddleware",
        "tradedesk.middleware.RequestIdMiddleware",
        "tradedesk.middleware.ApiErrorsMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "simple_history.middleware.HistoryRequestMiddleware",
    ):
        assert kept in settings.API_MIDDLEWARE

    pages_chain = list(settings.MIDDLEWARE)
    api_hooks = {type(hook.__self__).__name__ for hook in ApiWSGIHandler()._view_middleware}
    pages_hooks = {type(hook.__self__).__name__ for hook in WSGIHandler()._view_middleware}
    assert "CsrfViewMiddleware" in pages_hooks and "CsrfViewMiddleware" not in api_hooks
    assert settings.MIDDLEWARE == pages_chain  # building the API's handler left the setting as it was


def test_the_production_app_sends_api_requests_to_the_api_handler_and_pages_to_the_full_one(monkeypatch):
    from tradedesk import asgi

    seen = []
    monkeypatch.setattr(asgi, "api_wsgi_app", lambda environ, start: seen.append(("api", environ["PATH_INFO"])))
    monkeypatch.setattr(asgi, "django_wsgi_app", lambda environ, start: seen.append(("pages", environ["PATH_INFO"])))
    for path in ("/api/signals", "/signals", "/paper/api/orders", "/static/desk.css"):
        asgi.wsgi_app({"PATH_INFO": path}, None)
    assert seen == [
        ("api", "/api/signals"),
        ("pages", "/signals"),
        ("pages", "/paper/api/orders"),
        ("pages", "/static/desk.css"),
    ]


def test_a_strategy_key_posts_a_signal_with_its_audit_row_and_request_id(strategy):
    client = api_client()
    client.credentials(HTTP_X_API_KEY=strategy.key, HTTP_X_REQUEST_ID="req-lean-1")
    before = counters.HTTP_REQUESTS.labels(route="/api/signals", method="POST", status="201")._value.get()
    response = client.post("/api/signals", BODY, format="json", HTTP_IDEMPOTENCY_KEY="lean-1")
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-lean-1"
    signal = Signal.objects.get()
    assert (signal.api_key, signal.client_signal_id) == (strategy.api_key, "lean-1")
    assert Signal.history.filter(id=signal.pk).count() == 1
    after = counters.HTTP_REQUESTS.labels(route="/api/signals", method="POST", status="201")._value.get()
    assert after == before + 1


def test_errors_are_the_desks_json_through_the_api_chain(strategy):
    client = api_client()
    assert client.post("/api/signals", BODY, format="json").json()["code"] == "not_authenticated"
    client.credentials(HTTP_X_API_KEY=strategy.key)
    missing = client.get("/api/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert missing["X-Request-ID"]
    repeated = client.get("/api/signals?symbol=A&symbol=B")
    assert (repeated.status_code, list(repeated.json()["fields"])) == (400, ["symbol"])
    large = client.post(
        "/api/signals", {**BODY, "reason": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}, format="json"
    )
    assert (large.status_code, large.json()["code"]) == (413, "request_too_large")
    invalid = client.post("/api/signals", {**BODY, "side": "SIDEWAYS"}, format="json")
    assert invalid.status_code == 400 and "side" in invalid.json()["fields"]
    assert not Signal.objects.exists()


def test_a_bearer_token_reads_the_api(trader, make_signal):
    make_signal()
    _, key = UserToken.objects.create_key(name="script", user=trader)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/api/signals")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_a_staff_session_reads_the_api_and_its_decision_needs_the_csrf_token_and_is_audited(trader, make_signal):
    signal = make_signal()
    client = api_client(enforce_csrf_checks=True)
    client.force_login(trader)
    assert client.get(f"/api/signals/{signal.pk}").json()["id"] == signal.pk

    refused = client.patch(f"/api/signals/{signal.pk}", {"status": "ACCEPTED"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    signal.refresh_from_db()
    assert signal.status == SignalStatus.PENDING

    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    accepted = client.patch(f"/api/signals/{signal.pk}", {"status": "ACCEPTED"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    assert Signal.history.filter(id=signal.pk).latest("history_id").history_user == trader


def test_a_session_without_a_desk_role_is_refused(client_for, strategy):
    from django.contrib.auth.models import User

    outsider = User.objects.create_user(username="olga_outsider", password="correct horse battery staple")
    client = api_client()
    client.force_login(outsider)
    assert client.get("/api/signals").status_code == 403
