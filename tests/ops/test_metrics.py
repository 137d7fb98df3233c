"""/metrics: protected; the desk's figures follow the database as orders succeed and fail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from executor.connectors.base import ErrorCode, OrderResult
from executor.models import ExchangeAccount, VenueSession
from following.services import trade_error_record, trade_error_resolve
from orders import services as order_services
from orders.models import Order
from tests.test_websockets import connect

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def scrape(settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> dict[tuple[str, tuple], float]:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return get


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.mark.django_db
def test_metrics_are_not_public(settings, viewer, desk_admin, client_for):
    settings.METRICS_TOKEN = TOKEN
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert anonymous.json()["code"] == "not_authenticated"
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 401
    staff = Client()
    staff.force_login(viewer)
    assert staff.get("/metrics").status_code == 401
    admin = Client()
    admin.force_login(desk_admin)
    assert admin.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_an_admins_personal_token_opens_the_metrics(settings, desk_admin, viewer):
    from io import StringIO

    from django.core.management import call_command

    settings.METRICS_TOKEN = ""
    out = StringIO()
    call_command("create_user_token", desk_admin.username, stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    out = StringIO()
    call_command("create_user_token", viewer.username, stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


@pytest.mark.django_db
def test_order_counts_success_rate_and_error_codes_follow_the_orders(scrape, trader, make_signal, queued_tasks):
    before = scrape()
    assert value(before, "tradedesk_orders", source="desk", status="SUCCESS") == 0
    assert value(before, "tradedesk_order_success_ratio", source="desk", window="1h") is None  # nothing finished yet

    def confirm():
        return order_services.order_create(
            user=trader, signal_id=make_signal().pk, qty=Decimal("0.5"), order_type="LIMIT", price=Decimal("65000")
        )

    placed = confirm()
    assert value(scrape(), "tradedesk_orders", source="desk", status="SUBMITTING") == 1
    order_services.order_place(order_id=placed.pk)  # the dry run fills it
    for code in (ErrorCode.NETWORK, ErrorCode.NETWORK, ErrorCode.CAPTCHA_REQUIRED):
        failing = confirm()
        order_services.order_record_result(
            order_id=failing.pk, result=OrderResult.failed(failing.client_order_id, code, "test")
        )

    after = scrape()
    assert value(after, "tradedesk_orders", source="desk", status="SUCCESS") == 1
    assert value(after, "tradedesk_orders", source="desk", status="FAILED") == 3
    assert value(after, "tradedesk_orders", source="desk", status="SUBMITTING") == 0
    assert value(after, "tradedesk_orders_failed_total", source="desk", error_code="NETWORK") == 2
    assert value(after, "tradedesk_orders_failed_total", source="desk", error_code="CAPTCHA_REQUIRED") == 1
    assert value(after, "tradedesk_orders_finished", source="desk", window="1h", status="SUCCESS") == 1
    assert value(after, "tradedesk_order_success_ratio", source="desk", window="1h") == 0.25
    assert value(after, "tradedesk_order_success_ratio", source="desk", window="24h") == 0.25
    assert value(after, "tradedesk_scrape_ok", part="orders") == 1


@pytest.mark.django_db
def test_placement_latency_is_a_histogram_per_venue(scrape, make_signal, make_order):
    now = timezone.now()
    for seconds in (0.3, 0.8, 4, 45):
        order = make_order(make_signal(), status="SUCCESS")
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(seconds=seconds), completed_at=now)
    make_order(make_signal(), status="SUBMITTING")  # not finished: not in the histogram
    samples = scrape()
    bucket = lambda le: value(samples, "tradedesk_order_placement_seconds_bucket", venue="dry_run", le=le)  # noqa: E731
    assert (bucket("0.25"), bucket("0.5"), bucket("1.0"), bucket("5.0"), bucket("30.0"), bucket("60.0")) == (
        0,
        1,
        2,
        3,
        3,
        4,
    )
    assert bucket("+Inf") == 4
    assert value(samples, "tradedesk_order_placement_seconds_count", venue="dry_run") == 4
    assert value(samples, "tradedesk_order_placement_seconds_sum", venue="dry_run") == pytest.approx(50.1)


@pytest.mark.django_db
def test_the_signal_queue_depth_and_the_age_of_its_oldest_signal(scrape, make_signal):
    assert value(scrape(), "tradedesk_signal_queue_depth") == 0
    assert value(scrape(), "tradedesk_signal_queue_oldest_age_seconds") == 0
    oldest = make_signal()
    make_signal()
    make_signal(status="REJECTED")
    type(oldest).objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    samples = scrape()
    assert value(samples, "tradedesk_signal_queue_depth") == 2
    assert 119 < value(samples, "tradedesk_signal_queue_oldest_age_seconds") < 130
    assert value(samples, "tradedesk_signals", status="REJECTED") == 1


@pytest.mark.django_db
def test_browser_session_state_per_account(scrape, trader):
    account = ExchangeAccount.objects.create(owner=trader, label="paper-browser", venue="paper", connector="browser")
    assert value(scrape(), "tradedesk_browser_session", account="paper-browser", state="down") == 1
    VenueSession.objects.create(account=account, state="captcha")
    samples = scrape()
    assert value(samples, "tradedesk_browser_session", account="paper-browser", state="captcha") == 1
    assert value(samples, "tradedesk_browser_session", account="paper-browser", state="down") == 0


@pytest.mark.django_db
def test_heartbeat_ages_are_exported(scrape, alive):
    samples = scrape()
    for component in ("beat", "worker:celery", "worker:browser"):
        assert 0 <= value(samples, "tradedesk_heartbeat_age_seconds", component=component) < 5


@pytest.mark.django_db
def test_api_requests_are_counted_by_route_and_status(scrape, strategy):
    def count(status: str):
        return value(
            scrape(), "tradedesk_http_requests_total", route="/api/signals/<int:signal_id>", method="GET", status=status
        )

    before_ok, before_missing = count("200") or 0, count("404") or 0
    signal_id = strategy.post_signal().json()["id"]
    strategy.client.get(f"/api/signals/{signal_id}")
    strategy.client.get(f"/api/signals/{signal_id}")
    strategy.client.get("/api/signals/999999")
    assert count("200") == before_ok + 2
    assert count("404") == before_missing + 1


@pytest.mark.django_db
def test_a_part_that_cannot_be_read_is_reported_and_the_rest_still_shows(scrape, monkeypatch):
    from ops import metrics

    def broken(self):
        raise RuntimeError("table missing")

    monkeypatch.setattr(metrics.DeskCollector, "_signals", broken)
    samples = scrape()
    assert value(samples, "tradedesk_scrape_ok", part="signals") == 0
    assert value(samples, "tradedesk_scrape_ok", part="orders") == 1
    assert value(samples, "tradedesk_orders", source="desk", status="SUCCESS") == 0


@pytest.mark.django_db(transaction=True)
async def test_open_websockets_are_counted_up_and_down(settings, viewer):
    from ops import metrics

    def open_sockets() -> float:
        return metrics.WEBSOCKETS.labels(path="/ws/orders")._value.get()

    before = open_sockets()
    first, connected = await connect("/ws/orders", viewer)
    assert connected
    second, _ = await connect("/ws/orders", viewer)
    assert open_sockets() == before + 2
    refused, connected = await connect("/ws/orders")
    assert not connected
    assert open_sockets() == before + 2
    await first.disconnect()
    await second.disconnect()
    assert open_sockets() == before
    settings.METRICS_TOKEN = TOKEN
    body = await database_sync_to_async(
        lambda: Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    )()
    assert f'tradedesk_websocket_connections{{path="/ws/orders"}} {before}' in body
    assert 'tradedesk_websocket_refused_total{path="/ws/orders"}' in body


@pytest.mark.django_db
def test_paused_followers_and_sync_cycle_durations(scrape, trader, viewer, outsider, desk_admin):
    from following.models import FollowSettings, SyncRun

    master = ExchangeAccount.objects.create(owner=desk_admin, label="master", venue="paper", connector="api")
    for user, active in ((trader, True), (viewer, True), (outsider, False)):  # outsider: off by hand
        own = ExchangeAccount.objects.create(owner=user, label="own", venue="paper", connector="api")
        FollowSettings.objects.create(
            user=user,
            master_user=desk_admin,
            master_credential=master,
            follower_credential=own,
            follow_ratio=Decimal("0.5"),
            is_active=active,
        )
    error = trade_error_record(  # pauses the viewer until the error is resolved
        settings_id=FollowSettings.objects.get(user=viewer).pk, error_type="REJECTED", message="rejected by the venue"
    )
    now = timezone.now()
    for seconds, outcome in ((0.08, "ok"), (0.4, "ok"), (3, "partial")):
        started = now - timedelta(seconds=30)
        SyncRun.objects.create(started_at=started, finished_at=started + timedelta(seconds=seconds), outcome=outcome)
    SyncRun.objects.create(started_at=now - timedelta(hours=2), finished_at=now - timedelta(hours=2), outcome="ok")
    samples = scrape()
    assert value(samples, "tradedesk_followers_paused") == 1
    assert value(samples, "tradedesk_followers", state="active") == 1
    assert value(samples, "tradedesk_followers", state="paused") == 1
    assert value(samples, "tradedesk_followers", state="off") == 1
    bucket = lambda le: value(samples, "tradedesk_follower_sync_duration_seconds_bucket", le=le)  # noqa: E731
    assert (bucket("0.1"), bucket("0.5"), bucket("5.0"), bucket("+Inf")) == (1, 2, 3, 3)  # the last hour only
    assert value(samples, "tradedesk_follower_sync_runs", outcome="ok") == 2
    assert value(samples, "tradedesk_follower_sync_runs", outcome="partial") == 1
    assert value(samples, "tradedesk_follower_sync_last_duration_seconds") in (0.08, 0.4, 3.0)
    assert value(samples, "tradedesk_scrape_ok", part="followers") == 1
    trade_error_resolve(user=viewer, error_id=error.pk)  # the viewer follows again; the outsider stays off
    samples = scrape()
    assert value(samples, "tradedesk_followers_paused") == 0
    assert value(samples, "tradedesk_followers", state="active") == 2
    assert value(samples, "tradedesk_followers", state="off") == 1


@pytest.mark.django_db
def test_copy_trading_orders_are_counted_apart_from_the_desks(scrape, trader, viewer, desk_admin, make_signal):
    from following.models import FollowSettings

    master = ExchangeAccount.objects.create(owner=desk_admin, label="master", venue="paper", connector="api")
    own = ExchangeAccount.objects.create(owner=viewer, label="own", venue="paper", connector="api")
    follow = FollowSettings.objects.create(
        user=viewer, master_user=desk_admin, master_credential=master, follower_credential=own, follow_ratio=1
    )
    desk_order = order_services.order_create(
        user=trader, signal_id=make_signal().pk, qty=Decimal("0.5"), order_type="LIMIT", price=Decimal("65000")
    )
    order_services.order_place(order_id=desk_order.pk)  # the dry run fills it
    for _ in range(3):  # the follower's balance is too small: its orders fail, the desk's do not
        Order.objects.create(
            follow_settings=follow,
            exchange_account=own,
            symbol="BTC/USDT",
            side="BUY",
            order_type="MARKET",
            qty=Decimal("1"),
            venue="api",
            created_by=viewer,
            status="FAILED",
            error_code="REJECTED",
            completed_at=timezone.now(),
        )
    samples = scrape()
    assert value(samples, "tradedesk_order_success_ratio", source="desk", window="1h") == 1
    assert value(samples, "tradedesk_order_success_ratio", source="follow", window="1h") == 0
    assert value(samples, "tradedesk_orders", source="follow", status="FAILED") == 3
    assert value(samples, "tradedesk_orders", source="desk", status="FAILED") == 0
    assert value(samples, "tradedesk_orders_failed_total", source="follow", error_code="REJECTED") == 3
    assert value(samples, "tradedesk_orders_failed_total", source="desk", error_code="REJECTED") is None
    assert value(samples, "tradedesk_orders_finished", source="follow", window="24h", status="FAILED") == 3
