"""The orders board: every order with its outcome, filters, live rows, failure evidence."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from executor.models import ExchangeAccount
from following.models import FollowSettings
from orders.models import Order

pytestmark = pytest.mark.django_db


def ids(html: str, *orders: Order) -> set[int]:
    return {order.pk for order in orders if f'id="order-{order.pk}"' in html}


def test_the_board_shows_each_orders_outcome(page_for, viewer, make_signal, make_order):
    signal = make_signal()
    done = make_order(signal, status="SUCCESS", exchange_order_id="P-000042")
    Order.objects.filter(pk=done.pk).update(completed_at=done.created_at + timedelta(milliseconds=850))
    failed = make_order(
        make_signal(), status="FAILED", error_code="INSUFFICIENT_BALANCE", error_message="not enough USDT"
    )
    html = page_for(viewer).get("/orders/").content.decode()
    assert ids(html, done, failed) == {done.pk, failed.pk}
    assert "P-000042" in html and "850 ms" in html and f"#{signal.pk}" in html
    assert "INSUFFICIENT_BALANCE" in html and "not enough USDT" in html


def test_the_board_filters_by_status_symbol_and_day(page_for, viewer, make_signal, make_order):
    btc = make_order(make_signal(symbol="BTC/USDT"), status="SUCCESS")
    eth = make_order(make_signal(symbol="ETH/USDT"), status="FAILED", symbol="ETH/USDT")
    old = make_order(make_signal(symbol="BTC/USDT"), status="SUCCESS")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    client = page_for(viewer)
    today = timezone.localdate().isoformat()

    def rows(query: str) -> set[int]:
        return ids(client.get(f"/orders/rows/?{query}").content.decode(), btc, eth, old)

    assert rows("") == {btc.pk, eth.pk, old.pk}
    assert rows("status=FAILED") == {eth.pk}
    assert rows("symbol=btc/usdt") == {btc.pk, old.pk}
    assert rows(f"day_from={today}") == {btc.pk, eth.pk}
    assert rows(f"day_to={(timezone.localdate() - timedelta(days=1)).isoformat()}") == {old.pk}


def test_a_bad_date_range_is_a_400_naming_the_field(page_for, viewer):
    response = page_for(viewer).get("/orders/?day_from=2026-01-05&day_to=2026-01-01")
    assert response.status_code == 400 and b"day_to" in response.content
    assert page_for(viewer).get("/orders/?day_from=yesterday").status_code == 400


def test_a_row_is_empty_when_the_order_no_longer_matches_the_filter(page_for, viewer, make_signal, make_order):
    order = make_order(make_signal(), status="SUBMITTING")
    client = page_for(viewer)
    assert "SUBMITTING" in client.get(f"/orders/{order.pk}/row/?status=SUBMITTING").content.decode()
    Order.objects.filter(pk=order.pk).update(status="SUCCESS")
    assert client.get(f"/orders/{order.pk}/row/?status=SUBMITTING").content == b""
    assert "SUCCESS" in client.get(f"/orders/{order.pk}/row/").content.decode()


def test_a_failure_shows_its_screenshot(page_for, viewer, make_signal, make_order, settings, tmp_path):
    settings.BROWSER_ARTIFACTS_DIR = str(tmp_path)
    shot = tmp_path / "order-1.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    order = make_order(make_signal(), status="FAILED", error_code="LAYOUT_CHANGED", screenshot=str(shot))
    client = page_for(viewer)
    row = client.get(f"/orders/{order.pk}/row/").content.decode()
    assert 'data-action="screenshot"' in row
    detail = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'src="/api/orders/{order.pk}/screenshot"' in detail
    image = client.get(f"/api/orders/{order.pk}/screenshot")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_an_order_without_a_signal_is_shown(page_for, viewer, trader):
    order = Order.objects.create(
        signal=None,
        symbol="BTC/USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("1"),
        venue="dry_run",
        created_by=trader,
    )
    client = page_for(viewer)
    assert f'id="order-{order.pk}"' in client.get("/orders/").content.decode()
    assert "not from a signal" in client.get(f"/orders/{order.pk}/").content.decode()


def test_an_unknown_order_is_a_404(page_for, viewer):
    assert page_for(viewer).get("/orders/999999/").status_code == 404
    assert page_for(viewer).get("/orders/999999/row/").content == b""


def test_copy_trading_orders_are_labelled_and_can_be_filtered_out(
    page_for, viewer, trader, desk_admin, make_signal, make_order
):
    master = ExchangeAccount.objects.create(owner=desk_admin, label="master", venue="paper", connector="api")
    own = ExchangeAccount.objects.create(owner=trader, label="own", venue="paper", connector="api")
    settings_row = FollowSettings.objects.create(
        user=trader, master_user=desk_admin, master_credential=master, follower_credential=own, follow_ratio="0.5"
    )
    desk_order = make_order(make_signal())
    copy_order = Order.objects.create(
        follow_settings=settings_row,
        symbol="ETH/USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("2"),
        venue="paper",
        created_by=trader,
    )
    client = page_for(viewer)
    board = client.get("/orders/").content.decode()
    assert f'id="order-{desk_order.pk}"' in board and f'id="order-{copy_order.pk}"' in board
    row = client.get(f"/orders/{copy_order.pk}/row/").content.decode()
    assert 'data-origin="copy"' in row and f"copy · {trader.username}" in row
    assert 'data-origin="copy"' not in client.get(f"/orders/{desk_order.pk}/row/").content.decode()
    detail = client.get(f"/orders/{copy_order.pk}/").content.decode()
    assert f"for follower {trader.username}, following {desk_admin.username} at ratio 0.5" in detail

    desk_only = client.get("/orders/?origin=desk").content.decode()
    assert f'id="order-{desk_order.pk}"' in desk_only and f'id="order-{copy_order.pk}"' not in desk_only
    copy_only = client.get("/orders/?origin=copy").content.decode()
    assert f'id="order-{copy_order.pk}"' in copy_only and f'id="order-{desk_order.pk}"' not in copy_only
    # A live event for an order outside the filter renders no row, so it never lands on the page.
    assert client.get(f"/orders/{copy_order.pk}/row/?origin=desk").content == b""
    assert client.get("/orders/?origin=elsewhere").status_code == 400
