"""Hostile and odd input gets a 4xx JSON answer, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"/api/signals/{HUGE}", None),
        ("patch", f"/api/signals/{HUGE}", {"status": "ACCEPTED"}),
        ("get", f"/api/orders/{HUGE}", None),
        ("post", f"/api/orders/{HUGE}/cancel", None),
        ("get", f"/api/orders?signal_id={HUGE}", None),
        ("get", "/api/orders?signal_id=1e400", None),
        ("get", "/api/signals?created_after=2026-13-45", None),
        ("post", "/api/orders", {"signal_id": int(HUGE), "qty": "1", "order_type": "MARKET"}),
        ("post", "/api/orders", {"signal_id": 1, "qty": HUGE, "order_type": "MARKET"}),
        ("post", "/api/orders", {"signal_id": 1, "qty": "NaN", "order_type": "MARKET"}),
        ("post", "/api/orders", {"signal_id": 1, "qty": "Infinity", "order_type": "MARKET"}),
        ("post", "/api/orders", {"signal_id": None, "qty": None, "order_type": None}),
        ("post", "/api/orders", {"signal_id": [1], "qty": {"a": 1}, "order_type": ["MARKET"]}),
        ("post", "/api/orders", "just a string"),
        ("patch", "/api/signals/1", {"status": None, "note": ["x"]}),
        ("patch", "/api/signals/1", []),
    ],
)
def test_odd_requests_from_staff_get_a_4xx(client_for, trader, make_signal, method, path, body):
    make_signal()
    response = getattr(client_for(trader), method)(path, body, format="json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert "code" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "B" * 500, "side": "BUY", "suggest_qty": "1", "strategy_name": "s"},
        {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1e-20", "strategy_name": "s"},
        {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "NaN", "strategy_name": "s"},
        {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1", "strategy_name": "s", "client_signal_id": "x" * 500},
        {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1", "strategy_name": "\x00"},
        {"symbol": 12, "side": True, "suggest_qty": [], "strategy_name": {}},
    ],
)
def test_odd_signals_from_a_strategy_get_a_400(strategy, body):
    response = strategy.client.post("/api/signals", body, format="json")
    assert response.status_code == 400, response.content[:300]


def test_an_overlong_idempotency_key_gets_a_400(strategy):
    response = strategy.post_signal(idempotency_key="k" * 200)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


def test_a_bad_page_size_falls_back_to_the_default(client_for, viewer):
    response = client_for(viewer).get("/api/signals?limit=abc&offset=-5")
    assert response.status_code == 200


NOT_READY_IS_503 = {"/readyz", "/api/executor/health"}


def _every_route() -> list[str]:
    """Every URL the project serves outside Django admin, its ids filled in (1 and past 64 bits)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix: str = ""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if not route.startswith("admin/"):
                    yield from walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and "(?P" not in route and not route.startswith("^"):
                yield route

    paths = set()
    for route in walk(get_resolver().url_patterns):
        for value in ("1", HUGE):
            path = route
            while "<" in path:
                start, end = path.index("<"), path.index(">")
                path = path[:start] + (value if path[start:end].startswith("<int:") else "x") + path[end + 1 :]
            paths.add("/" + path)
    return sorted(paths)


@pytest.mark.parametrize("who", ["anonymous", "outsider", "viewer"])
def test_no_route_answers_a_500_to_the_wrong_user_or_a_junk_body(
    who, client, outsider, viewer, make_signal, make_order
):
    make_order(make_signal())
    if who != "anonymous":
        client.force_login({"outsider": outsider, "viewer": viewer}[who])
    paths = _every_route()
    assert len(paths) > 60
    for path in paths:
        for method in ("get", "post"):
            kwargs = {"data": "{not json", "content_type": "application/json"} if method == "post" else {}
            response = getattr(client, method)(path, **kwargs)
            if path in NOT_READY_IS_503 and response.status_code == 503:
                continue  # a desk with no worker or browser session is not ready: that is the answer
            assert response.status_code < 500, (who, method, path, response.status_code)
