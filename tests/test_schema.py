from io import StringIO

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_generates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    paths = schema["paths"]
    assert {"/api/signals", "/api/signals/{signal_id}", "/api/orders", "/api/orders/{order_id}"} <= set(paths)
    assert "post" in paths["/api/signals"] and "patch" in paths["/api/signals/{signal_id}"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["StrategyApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-KEY"}
    post = paths["/api/signals"]["post"]
    assert {"StrategyApiKey": []} in post["security"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "422" in paths["/api/orders"]["post"]["responses"]


def test_the_docs_need_a_login(client, viewer):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(viewer)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_pages_send_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
