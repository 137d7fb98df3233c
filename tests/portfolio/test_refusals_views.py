"""Refusals are listed and filterable on a desk page, the API and admin, and counted in /metrics."""

from decimal import Decimal as D

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from orders import services as order_services
from tradedesk.exceptions import ApplicationError

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def refusals(settings, trader, make_signal, make_order):
    settings.RISK_MAX_ORDER_QTY = "2"
    settings.RISK_MAX_DAILY_QTY = ""
    ordered = make_signal(symbol="ETH/USDT")
    make_order(ordered, status="SUCCESS")
    asks = [
        {"signal_id": make_signal().pk, "qty": D("3")},  # risk_max_order_qty
        {"signal_id": make_signal().pk, "qty": D("4")},  # risk_max_order_qty
        {"signal_id": ordered.pk, "qty": D("1")},  # signal_already_ordered
    ]
    for ask in asks:
        with pytest.raises(ApplicationError):
            order_services.order_create(user=trader, order_type="LIMIT", price=D("65000"), **ask)


def test_the_refusals_page_lists_them_with_their_figures_and_filters_by_rule(client, viewer, refusals):
    client.force_login(viewer)

    html = client.get("/refusals/").content.decode()
    assert html.count('data-rule="risk_max_order_qty"') == 2
    assert html.count('data-rule="signal_already_ordered"') == 1
    assert "qty=3, max_order_qty=2" in html and "tina_trader" in html

    only_state = client.get("/refusals/?category=state").content.decode()
    assert 'data-rule="signal_already_ordered"' in only_state
    assert 'data-rule="risk_max_order_qty"' not in only_state
    by_symbol = client.get("/refusals/?symbol=eth/usdt").content.decode()
    assert by_symbol.count('id="refusal-') == 1
    assert client.get("/refusals/?category=nope").status_code == 400


def test_the_refusals_api_filters_by_rule_and_user(client_for, viewer, refusals):
    client = client_for(viewer)

    body = client.get("/api/refusals?rule=risk_max_order_qty").json()
    assert body["count"] == 2
    newest = body["results"][0]
    assert (newest["qty"], newest["figures"], newest["user"], newest["category"]) == (
        "4",
        {"qty": "4", "max_order_qty": "2"},
        "tina_trader",
        "risk",
    )
    assert client.get("/api/refusals?user=nobody").json()["count"] == 0
    bad = client.get("/api/refusals?day_to=2026-02-30")
    assert bad.status_code == 400 and "day_to" in bad.json()["fields"]


def test_admin_lists_refusals_read_only_with_filters(client, desk_admin, refusals):
    client.force_login(desk_admin)

    listing = client.get("/admin/portfolio/confirmrefusal/?category__exact=risk")
    assert listing.status_code == 200
    assert listing.content.decode().count("risk_max_order_qty") >= 2
    assert client.get("/admin/portfolio/confirmrefusal/add/").status_code == 403


def test_refusals_are_counted_in_the_metrics_by_kind_and_rule(settings, refusals):
    settings.METRICS_TOKEN = TOKEN

    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    risk = (("category", "risk"), ("rule", "risk_max_order_qty"))
    state = (("category", "state"), ("rule", "signal_already_ordered"))
    assert samples[("tradedesk_confirm_refusals_total", risk)] == 2
    assert samples[("tradedesk_confirm_refusals_total", state)] == 1
