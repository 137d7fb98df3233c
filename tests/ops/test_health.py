"""/healthz (liveness) and /readyz (readiness): who may see what, and each check's verdict."""

import io
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client

from executor.health import venue_session_record
from executor.models import ExchangeAccount, VenueSession
from ops import health
from tests.ops.conftest import age_heartbeats

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = {"database", "broker", "cache", "channel_layer", "worker", "browser_worker", "beat", "browser", "follow_watch"}


def browser_account(owner, label: str = "paper-browser") -> ExchangeAccount:
    return ExchangeAccount.objects.create(owner=owner, label=label, venue="paper", connector="browser")


def test_liveness_answers_anyone_on_any_host_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST="10.0.0.7:8000").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_every_check_passes_and_the_public_sees_only_the_verdicts(alive):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert all(check == {"ok": True} for check in body["checks"].values())


def test_an_operator_sees_the_details(alive, desk_admin, client_for, settings):
    settings.METRICS_TOKEN = "ops-token-0123456789"
    body = Client().get("/readyz", HTTP_AUTHORIZATION="Bearer ops-token-0123456789").json()
    assert body["checks"]["database"]["detail"] == connection.vendor
    if settings.EMBEDDED:
        assert body["checks"]["broker"]["detail"] == "in-process (embedded)"
        assert body["checks"]["channel_layer"]["detail"] == "InMemoryChannelLayer"
    else:
        assert body["checks"]["broker"]["detail"].startswith("redis; queued tasks: celery=")
        assert body["checks"]["channel_layer"]["detail"] == "RedisChannelLayer"
    admin = Client()
    admin.force_login(desk_admin)
    assert "detail" in admin.get("/readyz").json()["checks"]["beat"]


def test_a_viewer_or_a_wrong_token_gets_only_the_verdicts(alive, viewer, settings):
    settings.METRICS_TOKEN = "ops-token-0123456789"
    client = Client()
    client.force_login(viewer)
    assert client.get("/readyz").json()["checks"]["database"] == {"ok": True}
    wrong = Client().get("/readyz", HTTP_AUTHORIZATION="Bearer ops-token-wrong").json()
    assert wrong["checks"]["database"] == {"ok": True}


def test_not_ready_until_beat_and_the_workers_have_sent_a_heartbeat(settings):
    cache.clear()
    response = Client().get("/readyz")
    assert response.status_code == 503
    failing = {name for name, check in response.json()["checks"].items() if not check["ok"]}
    # No browser account: the browser worker is not needed.
    assert failing == {"worker", "beat"}


def test_a_silent_worker_makes_the_desk_not_ready_and_a_new_heartbeat_makes_it_ready(alive, settings):
    age_heartbeats(settings.HEARTBEAT_MAX_AGE + 30)  # beat keeps sending (below), the worker does not
    health.record_heartbeat(health.BEAT)
    report = health.readiness()
    assert not report["ok"]
    assert report["checks"]["worker"]["detail"].startswith("the worker (queue celery) silent for")
    assert report["checks"]["beat"]["ok"]
    alive()
    assert health.readiness()["ok"]


def test_when_beat_stops_the_workers_that_ran_its_last_heartbeat_are_not_blamed(alive, settings):
    age_heartbeats(settings.HEARTBEAT_MAX_AGE + 30)
    checks = health.readiness()["checks"]
    assert not checks["beat"]["ok"] and checks["beat"]["detail"].startswith("beat silent for")
    assert checks["worker"]["ok"] and "beat is silent" in checks["worker"]["detail"]


def test_the_browser_worker_is_needed_once_a_browser_account_is_active(trader):
    cache.clear()
    health.record_heartbeat(health.BEAT)
    health.record_heartbeat(health.worker_component("celery"))
    check = health.readiness()["checks"]["browser_worker"]
    assert (check["ok"], check["detail"]) == (True, "no active browser account")
    browser_account(trader)
    check = health.readiness()["checks"]["browser_worker"]
    assert not check["ok"] and "browser worker (queue browser)" in check["detail"]


@pytest.mark.parametrize("state", ["needs_login", "captcha"])
def test_a_browser_session_that_needs_a_person_makes_the_desk_not_ready_until_it_is_logged_in(alive, trader, state):
    account = browser_account(trader)
    assert Client().get("/readyz").status_code == 200  # not started yet: it starts with the next order
    venue_session_record(account_id=account.pk, state=state, detail="the venue asked")
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["browser"] == {"ok": False}
    assert health.readiness()["checks"]["browser"]["detail"] == f"paper-browser: {state} (the venue asked)"
    venue_session_record(account_id=account.pk, state="logged_in", detail="logged in")
    assert Client().get("/readyz").status_code == 200


def test_an_inactive_browser_account_does_not_count(alive, trader):
    account = browser_account(trader)
    VenueSession.objects.create(account=account, state="captcha")
    ExchangeAccount.objects.filter(pk=account.pk).update(is_active=False)
    assert Client().get("/readyz").status_code == 200


def test_a_check_that_hangs_fails_within_the_deadline(alive, settings, monkeypatch):
    settings.READYZ_TIMEOUT = 0.3
    monkeypatch.setitem(health.CHECKS, "database", lambda: time.sleep(2) or (True, "late"))
    started = time.monotonic()
    report = health.readiness()
    assert time.monotonic() - started < 1.5
    assert report["checks"]["database"] == {"ok": False, "detail": "no answer within 0.3s", "ms": 300}
    assert not report["ok"]


def test_a_check_that_raises_fails_with_the_error(alive, monkeypatch):
    def broken():
        raise ConnectionError("connection refused\nmore lines")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    check = health.readiness()["checks"]["broker"]
    assert (check["ok"], check["detail"]) == (False, "ConnectionError: connection refused")


def test_the_healthcheck_command_exits_1_on_failure_and_names_the_check(alive, capsys):
    from django.core.management import call_command

    call_command("healthcheck", "database", "beat")
    with pytest.raises(SystemExit) as exit_:
        cache.clear()
        call_command("healthcheck", "beat")
    assert exit_.value.code == 1
    assert "no heartbeat from beat yet" in capsys.readouterr().out


def test_the_worker_passes_heartbeats_on_to_the_browser_worker_only_while_one_is_needed(trader, monkeypatch):
    from ops import tasks

    passed = []
    monkeypatch.setattr(tasks.browser_heartbeat, "apply_async", lambda **options: passed.append(options))
    tasks.heartbeat.apply()  # as the worker runs it (eagerly here)
    assert health.heartbeat_age(health.worker_component("celery")) < 5
    assert passed == []
    browser_account(trader)
    tasks.heartbeat.apply()
    assert passed == [{"queue": "browser", "expires": 120}]
    tasks.browser_heartbeat.apply()
    assert health.heartbeat_age(health.worker_component("browser")) < 5


def test_a_silent_worker_does_not_make_the_browser_worker_look_silent_too(alive, settings, trader):
    browser_account(trader)
    age_heartbeats(settings.HEARTBEAT_MAX_AGE + 30)
    health.record_heartbeat(health.BEAT)  # beat goes on; the worker stopped, so nothing reaches the browser worker
    checks = health.readiness()["checks"]
    assert not checks["worker"]["ok"]
    assert checks["browser_worker"]["ok"] and "worker:celery is silent" in checks["browser_worker"]["detail"]


def test_the_follow_watcher_is_optional_but_its_silence_once_it_ran_is_an_outage(settings):
    from following import watch

    settings.FOLLOW_WATCH_REFRESH = 10
    settings.HEARTBEAT_MAX_AGE = 90
    cache.delete(watch.HEARTBEAT)
    ok, detail = health.check_follow_watch()
    assert ok and "not running" in detail  # never started: beat polls every master
    watch._beat(streams=1, polls=2)
    ok, detail = health.check_follow_watch()
    assert ok and "1 master stream(s), 2 polled" in detail
    cache.set(watch.HEARTBEAT, {"at": time.time() - 91, "streams": 1, "polls": 2}, timeout=None)
    ok, detail = health.check_follow_watch()
    assert not ok and "silent for 91s" in detail
    assert not health.readiness(only=["follow_watch"])["ok"]
    call_command("follow_watch", "--forget", stdout=io.StringIO())  # the operator retires it
    assert health.check_follow_watch()[0]


def test_the_follow_watch_check_leaves_an_unreachable_cache_to_the_cache_check(monkeypatch):
    from following import watch

    def down():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(watch, "watcher_heartbeat", down)
    ok, detail = health.check_follow_watch()
    assert ok and "unknown while the cache is unreachable" in detail
