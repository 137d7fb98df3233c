"""An incident end to end with a real Chromium on the paper exchange: the venue shows a captcha,
the desk order fails, the desk turns not ready, the metrics and the alerts say so; once the
captcha is gone the next order goes through and everything turns back."""

from decimal import Decimal

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from executor.models import ExchangeAccount
from executor.paper.services.faults import paper_fault_clear, paper_fault_set
from tests.executor.test_browser_executor import desk_order

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-browser-0123456789"


def metrics(settings) -> dict:
    settings.METRICS_TOKEN = TOKEN
    body = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_a_captcha_fails_the_order_and_makes_the_desk_not_ready_until_it_is_gone(venue, settings, alive, receiver):
    paper, account = venue
    paper_fault_set(account=paper, kind="captcha")
    order = desk_order(account, settings)
    assert (order.status, order.error_code) == ("FAILED", "CAPTCHA_REQUIRED")

    response = Client().get("/readyz")
    assert response.status_code == 503
    assert [name for name, check in response.json()["checks"].items() if not check["ok"]] == ["browser"]
    figures = metrics(settings)
    assert figures[("tradedesk_orders_failed_total", (("error_code", "CAPTCHA_REQUIRED"), ("source", "desk")))] == 1
    assert figures[("tradedesk_browser_session", (("account", "paper-browser"), ("state", "captcha")))] == 1
    assert sorted(receiver.wait_for(2)) == [
        "[TradeDesk test] Exchange account paper-browser needs a captcha to be solved",
        f"[TradeDesk test] Order #{order.pk} failed: CAPTCHA_REQUIRED on paper-browser",
    ]

    paper_fault_clear(account=paper, kind="captcha")
    ExchangeAccount.objects.filter(pk=account.pk).update(is_desk_default=False)  # desk_order sets it again
    second = desk_order(account, settings)
    assert second.status == "SUCCESS", (second.error_code, second.error_message)
    assert Client().get("/readyz").status_code == 200
    figures = metrics(settings)
    assert figures[("tradedesk_orders", (("source", "desk"), ("status", "SUCCESS")))] == 1
    assert figures[("tradedesk_order_success_ratio", (("source", "desk"), ("window", "1h")))] == 0.5
    assert figures[("tradedesk_order_placement_seconds_count", (("venue", "browser"),))] == 2
    assert receiver.wait_for(3)[2] == "[TradeDesk test] Resolved: Exchange account paper-browser is logged in again"
    assert len(receiver.messages) == 3
    assert Decimal(second.qty) == Decimal("0.01")
