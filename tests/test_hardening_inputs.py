"""No input gets a 5xx, and every error under /api/ is JSON in the desk's format: out-of-range
offsets, empty and repeated query parameters, deeply nested JSON, huge bodies, ids that are not
numbers, unknown paths, wrong methods and media types (issue 13, found by an outside probe)."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LISTS = ["/api/signals", "/api/orders"]


def assert_json_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    if field is not None:
        assert field in body["fields"], body
    return body


@pytest.fixture
def api(client_for, trader):
    return client_for(trader)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("parameter", ["created_after", "created_before"])
@pytest.mark.parametrize(
    "value", ["2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00-23:59", "0001-01-01T00:00:00+01:00", ""]
)
def test_an_out_of_range_or_empty_date_is_a_400_naming_the_parameter(api, path, parameter, value):
    assert_json_error(api.get(path, {parameter: value}), 400, parameter)


@pytest.mark.parametrize("path", LISTS)
def test_a_date_with_a_real_offset_filters_in_utc(api, path, make_signal):
    make_signal()
    assert api.get(path, {"created_after": "2000-01-01T00:00:00+14:00"}).status_code == 200
    assert api.get(path, {"created_before": "2000-01-01T00:00:00-12:00"}).json()["results"] == []


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("parameter", ["offset", "limit", "created_after", "symbol"])
def test_a_parameter_given_twice_is_a_400_naming_it(api, path, parameter):
    value = "2026-01-01T00:00:00Z" if parameter.startswith("created") else "1"
    assert_json_error(api.get(f"{path}?{parameter}={value}&{parameter}={value}"), 400, parameter)


def test_status_may_be_given_several_times(api, make_signal):
    make_signal(status="PENDING")
    make_signal(status="REJECTED", client_signal_id="second")
    response = api.get("/api/signals?status=PENDING&status=REJECTED")
    assert response.status_code == 200
    assert {row["status"] for row in response.json()["results"]} == {"PENDING", "REJECTED"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_depth_counts_arrays_and_objects_but_not_brackets_in_strings():
    from tradedesk.parsers import json_depth

    assert json_depth('{"a": [1, {"b": "[[[[{{"}]}') == 3
    assert json_depth('"just text"') == 0
    assert json_depth(nested(959)) == 959


@pytest.mark.parametrize("path", ["/api/signals", "/api/orders", "/api/v1/follow-config/settings"])
def test_json_nested_959_deep_is_a_400(client_for, trader, strategy, path):
    client = strategy.client if path == "/api/signals" else client_for(trader)
    response = client.post(path, data=nested(959), content_type="application/json")
    assert_json_error(response, 400)


def test_the_paper_api_refuses_json_nested_959_deep_from_its_own_account(paper_instruments):
    from executor.paper.services import paper_account_create

    _, key = paper_account_create(username="deep", password="paper-password-123", balances={})
    response = Client().post(
        "/paper/api/orders", data=nested(959), content_type="application/json", HTTP_X_PAPER_KEY=key
    )
    assert response.status_code == 400, response.content[:300]


def test_ordinary_nesting_still_parses(strategy):
    response = strategy.post_signal(reason="fine")
    assert response.status_code == 201


def test_a_20_mb_body_is_a_json_413(strategy):
    body = json.dumps({"symbol": "BTC/USDT", "reason": "x" * (20 * 1024 * 1024)})
    response = strategy.client.post("/api/signals", data=body, content_type="application/json")
    assert_json_error(response, 413)


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/null%2Cnull",
        "/api/orders/abc/cancel",
        "/api/signals/1.5",
        "/api/v1/follow-config/errors/abc/resolve",
        "/api/v1/follow-config/masters/x/close",
        "/api/nothing-here",
        "/api/",
    ],
)
def test_a_non_integer_id_or_unknown_api_path_is_a_json_404(api, path):
    method = api.post if path.endswith(("cancel", "resolve", "close")) else api.get
    body = assert_json_error(method(path), 404)
    assert body["code"] == "not_found"


def test_an_unknown_api_path_is_a_json_404_for_anonymous_callers_too():
    assert_json_error(Client().get("/api/orders/null%2Cnull"), 404)


def test_a_wrong_method_is_a_json_405(api):
    assert_json_error(api.delete("/api/orders"), 405)


def test_a_wrong_media_type_is_a_json_415(strategy):
    response = strategy.client.post("/api/signals", data="<signal/>", content_type="application/xml")
    assert_json_error(response, 415)


def test_pages_outside_the_api_keep_their_html_404(client, trader):
    client.force_login(trader)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.services
@pytest.mark.parametrize("value", ["2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00-23:59"])
def test_on_postgresql_an_offset_past_its_range_is_a_400_not_a_database_error(api, make_signal, value):
    # PostgreSQL itself refused these ("time zone displacement out of range"): the 500 the probe saw.
    make_signal()
    for path in LISTS:
        assert_json_error(api.get(path, {"created_after": value}), 400, "created_after")
    assert api.get("/api/signals", {"created_after": "2026-01-01T00:00:00+14:00"}).status_code == 200


def test_the_paper_api_answers_a_20_mb_body_with_a_json_413_in_its_own_format(paper_instruments):
    from executor.paper.services import paper_account_create

    _, key = paper_account_create(username="huge", password="paper-password-123", balances={})
    body = json.dumps({"symbol": "BTC/USDT", "note": "x" * (20 * 1024 * 1024)})
    response = Client().post("/paper/api/orders", data=body, content_type="application/json", HTTP_X_PAPER_KEY=key)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "REQUEST_TOO_LARGE"


def test_an_unknown_paper_api_path_is_a_json_404_in_its_own_format():
    response = Client().get("/paper/api/nothing-here")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("offset", ["9223372036854775808", "99999999999999999999999"])
def test_an_offset_past_what_the_database_takes_is_a_400_naming_it(api, make_signal, path, offset):
    # Found by the schemathesis test: SQLite answered "datatype mismatch", a 500.
    make_signal()
    assert_json_error(api.get(path, {"offset": offset}), 400, "offset")


def test_a_huge_limit_is_cut_to_the_largest_page(api, make_signal):
    make_signal()
    response = api.get("/api/signals", {"limit": "99999999999999999999999"})
    assert response.status_code == 200 and len(response.json()["results"]) == 1
