"""One number format and one time format: the pages, the API, the admin; the chart's data; the
bulk decisions and the net view as the server sees them (the pages' own tests are in Chromium)."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from desk import selectors
from orders.models import Order
from signals.models import Signal
from tradedesk import formatting

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("0.1000000000"), None, "0.1"),
        (Decimal("65000.0000000000"), None, "65,000"),
        (Decimal("6599.405"), 2, "6,599.41"),
        (Decimal("-1234567.5"), None, "-1,234,567.5"),
        (Decimal("1E+3"), None, "1,000"),
        (Decimal("0E-10"), None, "0"),
    ],
)
def test_a_number_is_written_grouped_without_trailing_zeros(value, places, text):
    assert formatting.number(value, places) == text


def test_a_venue_step_gives_its_decimals():
    assert [formatting.places_of(Decimal(step)) for step in ("0.01", "1", "0.00050", "10")] == [2, 0, 4, 0]


def test_the_api_writes_decimals_as_strings_without_trailing_zeros(client_for, viewer, make_signal, make_order):
    signal = make_signal(suggest_price=Decimal("65000.5"), suggest_qty=Decimal("0.1"))
    make_order(signal, qty=Decimal("0.1"), price=Decimal("64950"))
    client = client_for(viewer)
    body = client.get(f"/api/signals/{signal.pk}").json()
    assert (body["suggest_price"], body["suggest_qty"]) == ("65000.5", "0.1")
    [order] = client.get(f"/api/orders?signal_id={signal.pk}").json()["results"]
    assert (order["qty"], order["price"]) == ("0.1", "64950")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", body["created_at"])


def test_the_admin_shows_decimals_as_the_pages_do(page_for, desk_admin, make_signal):
    signal = make_signal(suggest_price=Decimal("65000"), suggest_qty=Decimal("0.1"))
    html = page_for(desk_admin).get(f"/admin/signals/signal/{signal.pk}/change/").content.decode()
    assert "0.1000000000" not in html and "65000.0000000000" not in html
    assert re.search(r">\s*0\.1\s*<", html) and "65,000" in html
    listing = page_for(desk_admin).get("/admin/signals/signal/").content.decode()
    assert "0.1000000000" not in listing


def test_page_times_carry_their_zone(page_for, trader, make_signal, make_order):
    signal = make_signal()
    order = make_order(signal)
    stamp = timezone.localtime(signal.created_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    row = page_for(trader).get(f"/signals/{signal.pk}/row/", HTTP_HX_REQUEST="true").content.decode()
    assert stamp in row and stamp.endswith(" UTC")
    detail = page_for(trader).get(f"/signals/{signal.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert stamp in detail
    order_row = page_for(trader).get(f"/orders/{order.pk}/row/", HTTP_HX_REQUEST="true").content.decode()
    assert timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M:%S %Z") in order_row


def test_the_form_rounds_the_cost_to_the_quotes_cents(page_for, trader, make_signal, settings):
    settings.DRY_RUN_PRICES = {"BTC/USDT": Decimal("65994.05")}
    signal = make_signal(suggest_price=Decimal("65994.05"), suggest_qty=Decimal("0.1"))
    html = page_for(trader).get(f"/signals/{signal.pk}/order/").content.decode()
    assert "6,599.41 USDT" in html and "6,599.405" not in html


def test_the_chart_data_marks_the_suggestion_the_limits_and_the_fills(page_for, viewer, make_signal, make_order):
    signal = make_signal(suggest_price=Decimal("65000"))
    make_order(signal, status="SUCCESS", price=Decimal("64990"), filled_qty=Decimal("0.5"),
               avg_fill_price=Decimal("64980.5"), completed_at=timezone.now())  # fmt: skip
    body = page_for(viewer).get(f"/signals/{signal.pk}/chart/").json()
    assert body["suggest_price"] == "65000" and [o["limit"] for o in body["orders"]] == ["64990"]
    assert [(f["price"], f["qty"], f["side"]) for f in body["fills"]] == [("64980.5", "0.5", "BUY")]
    # The dry run keeps no history: the chart says so rather than draw a flat line.
    assert body["points"] == [] and body["note"] == "no price history from dry run"


def test_the_chart_data_needs_a_desk_role(page_for, outsider, make_signal):
    signal = make_signal()
    assert page_for(None).get(f"/signals/{signal.pk}/chart/").status_code == 302
    assert page_for(outsider).get(f"/signals/{signal.pk}/chart/").status_code == 403


def test_paper_history_is_the_exchanges_deterministic_feed(paper_instruments):
    from executor.paper.selectors import instrument_get, mark_price

    now = timezone.now()
    points = selectors._paper_history("BTC/USDT", now - selectors.CHART_MIN_SPAN, now, selectors.CHART_MIN_SPAN / 60)
    instrument = instrument_get(symbol="BTC/USDT")
    assert len(points) == 61
    assert all(price == mark_price(instrument=instrument, at=moment).price for moment, price in points[::10])


def test_bulk_accept_decides_each_signal_with_its_audit_and_reports_the_refused(page_for, trader, make_signal):
    pending = [make_signal() for _ in range(3)]
    done = make_signal(status="REJECTED")
    ids = ",".join(str(s.pk) for s in [*pending, done])
    response = page_for(trader).post("/signals/bulk/", {"action": "accept", "ids": ids}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "3 signals accepted" in html and f'data-refused="{done.pk}"' in html
    for signal in pending:
        signal.refresh_from_db()
        assert (signal.status, signal.decided_by) == ("ACCEPTED", trader)
        assert signal.history.first().history_change_reason == f"accepted by {trader.username}"
    done.refresh_from_db()
    assert done.status == "REJECTED"


def test_bulk_reject_needs_one_reason_and_gives_it_to_every_signal(page_for, trader, make_signal):
    signals = [make_signal() for _ in range(2)]
    ids = ",".join(str(s.pk) for s in signals)
    page = page_for(trader)
    refused = page.post("/signals/bulk/", {"action": "reject", "ids": ids, "reason": "  "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and "Reason is required" in refused.content.decode()
    assert set(Signal.objects.values_list("status", flat=True)) == {"PENDING"}
    page.post("/signals/bulk/", {"action": "reject", "ids": ids, "reason": "stale feed"}, HTTP_HX_REQUEST="true")
    assert set(Signal.objects.values_list("status", "decision_note")) == {("REJECTED", "stale feed")}


@pytest.mark.parametrize("ids", ["", "1,x", ",".join(["1"] * 201).replace("1", "2", 1) + ",3" * 201, str(2**64)])
def test_bulk_input_that_is_no_list_of_ids_is_a_400_naming_the_field(page_for, trader, ids):
    response = page_for(trader).post("/signals/bulk/", {"action": "accept", "ids": ids}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "ids:" in response.content.decode()


def test_bulk_decisions_are_refused_to_a_viewer(page_for, viewer, make_signal):
    signal = make_signal()
    response = page_for(viewer).post("/signals/bulk/", {"action": "accept", "ids": str(signal.pk)})
    assert response.status_code == 403
    signal.refresh_from_db()
    assert signal.status == "PENDING" and not Order.objects.exists()


def test_the_net_view_nets_opposite_signals_per_symbol_only(make_signal):
    make_signal(side="BUY", suggest_qty=Decimal("1.5"))
    make_signal(side="SELL", suggest_qty=Decimal("0.4"))
    make_signal(side="BUY", symbol="ETH/USDT", suggest_qty=Decimal("2"))  # one-sided: no conflict
    make_signal(side="SELL", suggest_qty=Decimal("9"), status="REJECTED")  # left the queue
    [net] = selectors.signal_conflicts()
    assert (net.symbol, net.buy_count, net.sell_count, net.net_side, net.net_qty) == (
        "BTC/USDT",
        1,
        1,
        "BUY",
        Decimal("1.1"),
    )


def test_the_admins_edit_form_shows_a_limit_without_padding(page_for, desk_admin):
    from orders.models import RiskLimit

    limit = RiskLimit.objects.create(symbol="BTC/USDT", max_order_qty=Decimal("10"), max_daily_qty=Decimal("2.5"))
    html = page_for(desk_admin).get(f"/admin/orders/risklimit/{limit.pk}/change/").content.decode()
    assert 'value="10"' in html and 'value="2.5"' in html and "10.0000000000" not in html
