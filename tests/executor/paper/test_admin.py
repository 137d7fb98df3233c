"""The paper exchange in Django admin: every page opens for a desk admin, and writes go through services."""

from decimal import Decimal

import pytest
from django.test import Client

from executor.paper import services
from executor.paper.models import FaultKind, PaperFault, PaperInstrument, PaperOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(desk_admin) -> Client:
    client = Client()
    client.force_login(desk_admin)
    return client


def test_every_paper_admin_page_opens(admin_client, alice, mark):
    services.paper_order_place(
        account=alice.account,
        client_order_id="td-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("0.1"),
    )
    services.paper_fault_set(account=alice.account, kind=FaultKind.SLOW, value="10")
    rows = {
        "paperaccount": alice.account.pk,
        "paperorder": PaperOrder.objects.get().pk,
        "paperfault": PaperFault.objects.get().pk,
        "paperinstrument": PaperInstrument.objects.get(symbol="BTC-USDT").pk,
        "papersession": None,
        "paperapikey": alice.account.api_keys.get().pk,
    }
    for model, pk in rows.items():
        assert admin_client.get(f"/admin/paper/{model}/").status_code == 200, model
        if pk is not None:
            assert admin_client.get(f"/admin/paper/{model}/{pk}/change/").status_code == 200, model


def test_the_mark_override_set_in_admin_matches_resting_orders(admin_client, alice, mark):
    order = services.paper_order_place(
        account=alice.account,
        client_order_id="td-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="LIMIT",
        qty=Decimal("0.1"),
        price=Decimal("60000"),
    )
    instrument = PaperInstrument.objects.get(symbol="BTC-USDT")
    off_tick = admin_client.post(
        f"/admin/paper/paperinstrument/{instrument.pk}/change/", {"override_price": "59000.001"}
    )
    assert off_tick.status_code == 200 and b"tick size" in off_tick.content
    response = admin_client.post(f"/admin/paper/paperinstrument/{instrument.pk}/change/", {"override_price": "59000"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "FILLED"


def test_a_fault_switched_off_in_admin_stops(admin_client, alice):
    fault = services.paper_fault_set(account=alice.account, kind=FaultKind.CAPTCHA)
    response = admin_client.post(
        f"/admin/paper/paperfault/{fault.pk}/change/",
        {"account": alice.account.pk, "kind": "captcha", "value": ""},
    )
    assert response.status_code == 302
    fault.refresh_from_db()
    assert not fault.is_active
