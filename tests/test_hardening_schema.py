"""The OpenAPI schema tells the truth (issue 13): nullable fields marked, the symbol rule and the
errors each operation may answer written down, and a strategy key may read it."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client_for, viewer) -> dict:
    response = client_for(viewer).get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_a_strategy_key_reads_the_schema_to_generate_its_client(strategy):
    response = strategy.client.get("/api/schema/?format=json")
    assert response.status_code == 200, response.content[:300]
    assert "/api/signals" in response.json()["paths"]


def test_without_credentials_the_schema_stays_closed():
    assert APIClient().get("/api/schema/").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_X_API_KEY="nope.nope")
    assert wrong.get("/api/schema/").status_code == 401


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("SignalOutput", "decided_by"),
        ("SignalOutput", "decided_at"),
        ("SignalOutput", "suggest_price"),
        ("OrderOutput", "exchange_account"),
        ("OrderOutput", "created_by"),
        ("OrderOutput", "signal_id"),
        ("OrderOutput", "reviewed_by"),
        ("OrderOutput", "price"),
    ],
)
def test_fields_that_come_back_empty_are_marked_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable") is True


def test_the_symbol_rule_is_in_the_schema_and_enforced(schema, strategy):
    symbol = schema["components"]["schemas"]["SignalCreateInputRequest"]["properties"]["symbol"]
    assert symbol["pattern"] == r"^[A-Za-z0-9]{1,15}[/_-][A-Za-z0-9]{1,15}$"
    response = strategy.post_signal(symbol="BTC USDT")
    assert response.status_code == 400 and "symbol" in response.json()["fields"]
    assert strategy.post_signal(symbol="eth_usdt").json()["symbol"] == "ETH/USDT"


def test_every_operation_documents_the_errors_any_call_may_answer(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = set(operation["responses"])
            expected = {"400", "401", "403"}
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"413", "415"}
            assert expected <= responses, (method, path, sorted(responses))
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}


def test_operations_list_only_the_refusals_they_can_give(schema):
    paths = schema["paths"]
    assert "409" not in paths["/api/signals"]["get"]["responses"]
    assert "422" in paths["/api/signals"]["post"]["responses"]
    assert "409" in paths["/api/signals/{signal_id}"]["patch"]["responses"]
    assert {"404", "409", "422"} <= set(paths["/api/orders"]["post"]["responses"])
    assert "422" not in paths["/api/orders/{order_id}"]["get"]["responses"]
