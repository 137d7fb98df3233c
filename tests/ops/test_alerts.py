"""Alerts reach people (here: a local apprise json:// receiver) once per incident."""

import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from executor.connectors.base import ErrorCode, OrderResult
from executor.health import venue_session_record
from executor.models import ExchangeAccount
from ops import alerts, health, tasks
from orders import services as order_services
from tests.ops.conftest import age_heartbeats, age_missing_heartbeats

pytestmark = pytest.mark.django_db(transaction=True)


def fail_order(trader, make_signal, code: str, message: str = "the venue did not answer"):
    order = order_services.order_create(
        user=trader, signal_id=make_signal().pk, qty=Decimal("0.5"), order_type="LIMIT", price=Decimal("65000")
    )
    return order_services.order_record_result(
        order_id=order.pk, result=OrderResult.failed(order.client_order_id, code, message)
    )


def test_a_failed_order_sends_one_alert_with_what_happened(receiver, trader, make_signal, queued_tasks):
    order = fail_order(trader, make_signal, ErrorCode.NETWORK, "connection reset by the venue")
    assert receiver.wait_for(1) == [f"[TradeDesk test] Order #{order.pk} failed: NETWORK on dry_run"]
    body = receiver.messages[0]["message"]
    assert "BUY 0.5 BTC/USDT (LIMIT)" in body
    assert "connection reset by the venue" in body
    assert order.client_order_id in body


def test_an_outage_failing_many_orders_sends_one_alert_per_error(receiver, trader, make_signal, queued_tasks):
    first = fail_order(trader, make_signal, ErrorCode.NETWORK)
    for _ in range(5):
        fail_order(trader, make_signal, ErrorCode.NETWORK)
    other = fail_order(trader, make_signal, ErrorCode.CAPTCHA_REQUIRED)
    fail_order(trader, make_signal, ErrorCode.CAPTCHA_REQUIRED)
    assert receiver.wait_for(2) == [
        f"[TradeDesk test] Order #{first.pk} failed: NETWORK on dry_run",
        f"[TradeDesk test] Order #{other.pk} failed: CAPTCHA_REQUIRED on dry_run",
    ]
    time.sleep(0.3)  # nothing else arrives
    assert len(receiver.messages) == 2


def test_the_same_error_is_sent_again_after_the_dedup_window(receiver, settings, trader, make_signal, queued_tasks):
    settings.ALERT_DEDUP_SECONDS = 1
    fail_order(trader, make_signal, ErrorCode.TIMEOUT)
    assert len(receiver.wait_for(1)) == 1
    time.sleep(1.1)
    fail_order(trader, make_signal, ErrorCode.TIMEOUT)
    assert len(receiver.wait_for(2)) == 2


def test_successful_orders_send_nothing(receiver, trader, make_signal, queued_tasks):
    order = order_services.order_create(
        user=trader, signal_id=make_signal().pk, qty=Decimal("0.5"), order_type="LIMIT", price=Decimal("65000")
    )
    order_services.order_place(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "SUCCESS"
    time.sleep(0.2)
    assert receiver.messages == []


def test_without_alert_urls_nothing_is_sent_and_the_alert_is_logged(settings, caplog):
    settings.ALERT_URLS = []
    assert alerts.send_alert(event="e", key="k", title="t", body="b") is False
    assert "alert e k (no ALERT_URLS): t" in caplog.text


def test_when_the_shared_cache_is_down_alerts_still_go_out_once_per_process(receiver, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", down)
    monkeypatch.setattr(cache, "get", down)
    for _ in range(3):
        alerts.send_alert(event="not_ready", key="cache", title="cache failing", body="redis is down")
    assert receiver.wait_for(1) == ["[TradeDesk test] cache failing"]
    assert alerts.resolve_alert(event="not_ready", key="cache", title="cache", body="back") is True
    assert receiver.wait_for(2)[1] == "[TradeDesk test] Resolved: cache"


def test_an_unreachable_receiver_is_logged_and_breaks_nothing(receiver, settings, caplog):
    receiver.close()
    assert alerts.send_alert(event="e", key="k", title="t", body="b") is False
    assert "alert e k sent=False" in caplog.text


def test_a_captcha_alerts_once_and_logging_in_again_resolves_it(receiver, trader):
    account = ExchangeAccount.objects.create(owner=trader, label="paper-browser", venue="paper", connector="browser")
    venue_session_record(account_id=account.pk, state="captcha", detail="a captcha is shown")
    venue_session_record(account_id=account.pk, state="captcha", detail="a captcha is shown")  # no change
    venue_session_record(account_id=account.pk, state="down", detail="browser closed")
    venue_session_record(account_id=account.pk, state="captcha", detail="a captcha is shown")  # same incident
    assert receiver.wait_for(1) == ["[TradeDesk test] Exchange account paper-browser needs a captcha to be solved"]
    assert "executor_login paper-browser" in receiver.messages[0]["message"]
    venue_session_record(account_id=account.pk, state="logged_in", detail="logged in")
    assert receiver.wait_for(2)[1] == "[TradeDesk test] Resolved: Exchange account paper-browser is logged in again"
    venue_session_record(account_id=account.pk, state="needs_login", detail="logged out by the venue")
    assert receiver.wait_for(3)[2] == "[TradeDesk test] Exchange account paper-browser needs a login"
    assert len(receiver.messages) == 3


def test_the_watchdog_reports_a_silent_component_once_and_its_recovery(receiver, alive, settings, trader):
    ExchangeAccount.objects.create(owner=trader, label="paper-browser", venue="paper", connector="browser")
    age_heartbeats(settings.HEARTBEAT_MAX_AGE + 30)
    health.record_heartbeat(health.BEAT)
    health.record_heartbeat(health.worker_component("celery"))  # the browser worker stays silent
    for _ in range(3):
        tasks.watchdog()
    titles = receiver.wait_for(1)
    assert len(titles) == 1
    assert titles[0].startswith("[TradeDesk test] browser_worker failing: the browser worker (queue browser) silent")
    alive()
    tasks.watchdog()
    assert receiver.wait_for(2)[1] == "[TradeDesk test] Resolved: browser_worker is healthy again"
    tasks.watchdog()
    time.sleep(0.2)
    assert len(receiver.messages) == 2


def test_a_readiness_probe_reports_what_the_watchdog_cannot_see(receiver, settings):
    cache.clear()  # no heartbeats: beat and the worker are down, so the watchdog never runs
    assert Client().get("/readyz").status_code == 503
    # A desk that has just started has sent no heartbeat yet: not ready, but no alert.
    time.sleep(0.3)
    assert receiver.messages == []
    age_missing_heartbeats(settings.HEARTBEAT_MAX_AGE + 1)  # still none, that much later
    assert Client().get("/readyz").status_code == 503
    titles = sorted(receiver.wait_for(2))
    assert [title.split(" in the ")[0] for title in titles] == [
        "[TradeDesk test] beat failing: no heartbeat from beat",
        "[TradeDesk test] worker failing: no heartbeat from the worker (queue celery)",
    ]
    assert all(title.endswith("s since the desk first looked (not running?)") for title in titles)
    Client().get("/readyz")
    time.sleep(0.3)
    assert len(receiver.messages) == 2


def test_a_desk_that_has_just_started_alerts_nothing_and_its_first_heartbeats_clear_it(receiver, settings):
    cache.clear()
    tasks.watchdog()
    assert Client().get("/readyz").json()["checks"]["worker"] == {"ok": False}
    health.record_heartbeat(health.BEAT)
    health.record_heartbeat(health.worker_component("celery"))
    age_missing_heartbeats(settings.HEARTBEAT_MAX_AGE + 1)  # a marker left from before is gone
    assert Client().get("/readyz").status_code == 200
    tasks.watchdog()
    time.sleep(0.3)
    assert receiver.messages == []


def test_the_test_alert_command_reaches_every_destination(receiver, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("send_test_alert", stdout=out)
    assert receiver.wait_for(1) == ["[TradeDesk test] Test alert"]
    assert "test alert sent to 1 destination(s)" in out.getvalue()
    settings.ALERT_URLS = []
    with pytest.raises(CommandError, match="ALERT_URLS is empty"):
        call_command("send_test_alert")


def test_a_burst_of_readiness_probes_runs_one_alert_round_at_a_time(receiver, settings, monkeypatch):
    import threading

    from ops import views

    calls, release = [], threading.Event()

    def slow_round(*, checks):
        calls.append(checks)
        release.wait(5)

    monkeypatch.setattr(alerts, "alert_readiness", slow_round)

    def wait(condition) -> None:
        deadline = time.monotonic() + 5
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)

    for _ in range(20):
        assert Client().get("/readyz").status_code == 503  # every probe is answered at once
    wait(lambda: calls)
    time.sleep(0.2)
    assert len(calls) == 1  # the other 19 found a round running and started none
    release.set()
    wait(lambda: not views._alerting.locked())
    Client().get("/readyz")
    wait(lambda: len(calls) == 2)
    assert len(calls) == 2  # the next probe after it ended runs its own
