"""Prometheus metrics for /metrics.

Two kinds, for two reasons:
- The desk's figures (orders by status and error code, placement latency, signal queue, browser
  sessions, followers, heartbeats) are read from the database and the cache at scrape time by
  `DeskCollector`. Orders are placed by worker processes and scraped from a web process, so
  counting them where they happen would give each process its own partial count; the
  database has the one true figure, in every process and after every restart.
- Requests and WebSocket connections exist only in the web process that serves them. They are
  prometheus-client counters (ops.counters); with several web processes (uvicorn --workers N) the
  environment variable PROMETHEUS_MULTIPROC_DIR makes them write to shared files that /metrics adds up.

This module is observability, above the apps: it imports their models at the top. Nothing below
the apps imports it (the middleware and the sockets count in ops.counters).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import time
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Min, Q, Sum, Value, When
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from executor.models import AccountHealth, ConnectorKind, ExchangeAccount, SessionState
from ops import health
from ops.counters import HTTP_DURATION, HTTP_REQUESTS, MULTIPROC_DIR, WEBSOCKET_REFUSED, WEBSOCKETS  # noqa: F401 (also read here)
from orders.models import Order, OrderStatus
from portfolio.models import ConfirmRefusal
from signals.models import Signal, SignalStatus

logger = logging.getLogger(__name__)


SOURCES = ("desk", "follow")
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120)
SYNC_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
# Follower sync runs every few seconds: the histogram covers the last hour of runs.
SYNC_WINDOW = timedelta(hours=1)


def _family(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


class DeskCollector(Collector):
    """Reads the desk's figures at scrape time. A part that fails (its table missing, the
    database down) is reported in tradedesk_scrape_ok and left out; the rest still shows."""

    def collect(self):
        parts = {
            "orders": self._orders,
            "signals": self._signals,
            "browser": self._browser_sessions,
            "accounts": self._accounts,
            "followers": self._followers,
            "heartbeats": self._heartbeats,
            "refusals": self._refusals,
        }
        ok = _family("tradedesk_scrape_ok", "1 when this part of the desk's metrics could be read.", ["part"])
        for name, part in parts.items():
            try:
                families = list(part())
            except Exception as exc:
                logger.warning("metrics part %s could not be read: %s", name, exc)
                ok.add_metric([name], 0)
                continue
            ok.add_metric([name], 1)
            yield from families
        info = _family("tradedesk_info", "The desk's environment (DESK_ENV) and mode.", ["env", "mode"])
        info.add_metric([settings.DESK_ENV, "embedded" if settings.EMBEDDED else "services"], 1)
        yield info
        yield ok

    def describe(self):
        return []  # collected at scrape time only; nothing to check at registration

    def _orders(self):
        # source: "desk" (a trader confirmed a signal) or "follow" (copy trading placed it for a
        # follower). A follower's own failure (its balance, its account) says nothing about the
        # desk's orders, so the two are counted apart.
        source = Case(When(follow_settings__isnull=False, then=Value("follow")), default=Value("desk"))
        orders_by_source = Order.objects.order_by().annotate(source=source)
        by_status = {
            (row["source"], row["status"]): row["n"]
            for row in orders_by_source.values("source", "status").annotate(n=Count("id"))
        }
        orders = _family(
            "tradedesk_orders", "Orders by current status and source (desk, follow).", ["source", "status"]
        )
        for kind in SOURCES:
            for status in OrderStatus.values:
                orders.add_metric([kind, status], by_status.get((kind, status), 0))
        yield orders

        failed = CounterMetricFamily(
            "tradedesk_orders_failed",
            "Orders that ended FAILED, by source and error code.",
            labels=["source", "error_code"],
        )
        rows = (
            orders_by_source.filter(status=OrderStatus.FAILED)
            .values_list("source", "error_code")
            .annotate(n=Count("id"))
        )
        for kind, code, n in rows:
            failed.add_metric([kind, code or "none"], n)
        yield failed

        ratio = _family(
            "tradedesk_order_success_ratio",
            "Share of orders finished in the window that succeeded (SUCCESS / (SUCCESS + FAILED)), by source.",
            ["source", "window"],
        )
        finished = _family(
            "tradedesk_orders_finished",
            "Orders finished in the window, by source and status.",
            ["source", "window", "status"],
        )
        now = timezone.now()
        for window, span in (("1h", timedelta(hours=1)), ("24h", timedelta(days=1))):
            rows = (
                orders_by_source.filter(completed_at__gte=now - span)
                .values("source")
                .annotate(
                    success=Count("id", filter=Q(status=OrderStatus.SUCCESS)),
                    failed=Count("id", filter=Q(status=OrderStatus.FAILED)),
                )
            )
            counts = {row["source"]: row for row in rows}
            for kind in SOURCES:
                success = counts.get(kind, {}).get("success", 0)
                fails = counts.get(kind, {}).get("failed", 0)
                finished.add_metric([kind, window, "SUCCESS"], success)
                finished.add_metric([kind, window, "FAILED"], fails)
                if success + fails:
                    ratio.add_metric([kind, window], success / (success + fails))
        yield ratio
        yield finished
        yield self._latency(Order, OrderStatus)

    def _latency(self, Order, OrderStatus) -> HistogramMetricFamily:
        """Confirm to venue answer (the order's latency_ms), per venue, as a histogram built in
        one aggregate query: a bucket is the count of orders at or under its bound."""
        latency = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
        aggregates = {
            f"le_{i}": Count("id", filter=Q(latency__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(LATENCY_BUCKETS)
        }
        rows = (
            Order.objects.filter(status__in=(OrderStatus.SUCCESS, OrderStatus.FAILED), completed_at__isnull=False)
            .annotate(latency=latency)
            .order_by()
            .values("venue")
            .annotate(count=Count("id"), total=Sum("latency"), **aggregates)
        )
        family = HistogramMetricFamily(
            "tradedesk_order_placement_seconds",
            "Seconds from confirm to the venue's answer, for orders that ended SUCCESS or FAILED.",
            labels=["venue"],
        )
        for row in rows:
            buckets = [(floatToGoString(bound), row[f"le_{i}"]) for i, bound in enumerate(LATENCY_BUCKETS)]
            buckets.append(("+Inf", row["count"]))
            total = row["total"].total_seconds() if row["total"] is not None else 0.0
            family.add_metric([row["venue"]], buckets, total)
        return family

    def _signals(self):
        by_status = dict(Signal.objects.order_by().values_list("status").annotate(n=Count("id")))
        signals = _family("tradedesk_signals", "Signals by current status.", ["status"])
        for status in SignalStatus.values:
            signals.add_metric([status], by_status.get(status, 0))
        yield signals
        waiting = Signal.objects.filter(status=SignalStatus.PENDING).aggregate(n=Count("id"), oldest=Min("created_at"))
        depth = _family("tradedesk_signal_queue_depth", "Signals waiting for a trader (PENDING).")
        depth.add_metric([], waiting["n"])
        yield depth
        age = _family(
            "tradedesk_signal_queue_oldest_age_seconds", "Age of the oldest PENDING signal; 0 when none waits."
        )
        age.add_metric([], (timezone.now() - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0.0)
        yield age

    def _browser_sessions(self):
        family = _family(
            "tradedesk_browser_session",
            "1 for the state each active browser account's session is in (logged_in, needs_login, captcha, down).",
            ["account", "state"],
        )
        accounts = ExchangeAccount.objects.filter(is_active=True, connector=ConnectorKind.BROWSER).select_related(
            "venue_session"
        )
        for account in accounts:
            session = getattr(account, "venue_session", None)
            current = session.state if session else SessionState.DOWN
            for state in SessionState.values:
                family.add_metric([account.label, state], 1 if state == current else 0)
        yield family

    def _accounts(self):
        """Per venue: each active exchange account's health (keys valid, clock in step; browser
        sessions have their own metric) and the orders sent through each venue, by status.
        A venue is connector:exchange, e.g. ccxt:binance, api:paper, browser:paper."""
        health = _family(
            "tradedesk_exchange_account_health",
            "1 for the health each active exchange account is in (unknown, ok, needs_person).",
            ["account", "venue", "health"],
        )
        for account in ExchangeAccount.objects.filter(is_active=True).order_by("label"):
            venue = _venue(account.connector, account.exchange_id or account.venue)
            for state in AccountHealth.values:
                health.add_metric([account.label, venue, state], 1 if state == account.health else 0)
        yield health
        by_venue = _family(
            "tradedesk_orders_by_venue", "Orders by venue (connector:exchange) and status.", ["venue", "status"]
        )
        rows = (
            Order.objects.order_by()
            .values_list("venue", "exchange_account__exchange_id", "exchange_account__venue", "status")
            .annotate(n=Count("id"))
        )
        counts: dict[tuple[str, str], int] = {}
        for connector, exchange_id, venue, status, n in rows:
            key = (_venue(connector, exchange_id or venue or connector), status)
            counts[key] = counts.get(key, 0) + n
        for (venue, status), n in sorted(counts.items()):
            by_venue.add_metric([venue, status], n)
        yield by_venue

    def _followers(self):
        # Copy trading's models: read only when they exist (the app may not have them yet).
        try:
            FollowSettings = apps.get_model("following", "FollowSettings")
        except LookupError:
            return
        # Paused = stopped by an error until it is resolved; off = turned off by its user.
        paused_by_error = Q(is_active=False, paused_by_error=True)
        counts = FollowSettings.objects.aggregate(
            active=Count("id", filter=Q(is_active=True)),
            paused=Count("id", filter=paused_by_error),
            off=Count("id", filter=Q(is_active=False) & ~paused_by_error),
        )
        followers = _family(
            "tradedesk_followers",
            "Follow settings by state: active, paused (stopped by an error until it is resolved), off (by its user).",
            ["state"],
        )
        for state in ("active", "paused", "off"):
            followers.add_metric([state], counts[state])
        yield followers
        paused = _family(
            "tradedesk_followers_paused", "Followers paused by an error (not following until it is resolved)."
        )
        paused.add_metric([], counts["paused"])
        yield paused
        try:
            SyncRun = apps.get_model("following", "SyncRun")
        except LookupError:
            return
        yield from self._sync_runs(SyncRun)

    def _sync_runs(self, SyncRun):
        since = timezone.now() - SYNC_WINDOW
        duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        runs = SyncRun.objects.filter(started_at__gte=since, finished_at__isnull=False).annotate(duration=duration)
        aggregates = {
            f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(SYNC_BUCKETS)
        }
        row = runs.order_by().aggregate(count=Count("id"), total=Sum("duration"), **aggregates)
        family = HistogramMetricFamily(
            "tradedesk_follower_sync_duration_seconds",
            "Seconds one follower sync cycle took, over the cycles of the last hour.",
        )
        buckets = [(floatToGoString(bound), row[f"le_{i}"]) for i, bound in enumerate(SYNC_BUCKETS)]
        buckets.append(("+Inf", row["count"]))
        family.add_metric([], buckets, row["total"].total_seconds() if row["total"] else 0.0)
        yield family
        last = SyncRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
        if last is not None:
            seconds = _family("tradedesk_follower_sync_last_duration_seconds", "Seconds the last sync cycle took.")
            seconds.add_metric([], (last.finished_at - last.started_at).total_seconds())
            yield seconds
            age = _family("tradedesk_follower_sync_last_age_seconds", "Seconds since the last sync cycle finished.")
            age.add_metric([], (timezone.now() - last.finished_at).total_seconds())
            yield age
        field_names = {field.name for field in SyncRun._meta.get_fields()}
        if "outcome" in field_names:
            outcomes = _family(
                "tradedesk_follower_sync_runs", "Follower sync cycles in the last hour, by outcome.", ["outcome"]
            )
            for outcome, n in runs.order_by().values_list("outcome").annotate(n=Count("id")):
                outcomes.add_metric([str(outcome)], n)
            yield outcomes

    def _heartbeats(self):
        family = _family(
            "tradedesk_heartbeat_age_seconds",
            "Seconds since each background process last proved alive (beat, worker:<queue>).",
            ["component"],
        )
        components = (health.BEAT, health.worker_component("celery"), health.worker_component(settings.BROWSER_QUEUE))
        for component in components:
            age = health.heartbeat_age(component)
            if age is not None:
                family.add_metric([component], age)
        yield family

    def _refusals(self):
        # Every refused confirm is a row (portfolio.ConfirmRefusal, never deleted): a true counter.
        family = CounterMetricFamily(
            "tradedesk_confirm_refusals",
            "Confirms the desk refused, by kind (risk, venue, state, input) and rule.",
            labels=["category", "rule"],
        )
        rows = ConfirmRefusal.objects.order_by().values_list("category", "rule").annotate(n=Count("id"))
        for category, rule, n in rows:
            family.add_metric([category, rule], n)
        yield family


DESK_COLLECTOR = DeskCollector()

_PID_FILE = re.compile(r"_(\d+)\.db$")


def _forget_dead_processes() -> None:
    """A web process that died (uvicorn restarts it with a new pid) leaves its live gauges
    (open sockets) in the shared folder; drop them so they stop counting."""
    for path in glob.glob(os.path.join(MULTIPROC_DIR, "gauge_live*_*.db")):
        match = _PID_FILE.search(path)
        if not match:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, MULTIPROC_DIR)
        except PermissionError:
            pass  # alive, owned by someone else


def _venue(connector: str, exchange: str) -> str:
    return f"{connector}:{exchange}" if exchange and exchange != connector else connector


def exposition() -> bytes:
    """Everything /metrics serves, in the Prometheus text format."""
    started = time.monotonic()
    if MULTIPROC_DIR:
        _forget_dead_processes()
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes, MULTIPROC_DIR)
    else:
        processes = REGISTRY
    desk = CollectorRegistry(auto_describe=False)
    desk.register(DESK_COLLECTOR)
    body = generate_latest(processes) + generate_latest(desk)
    took = time.monotonic() - started
    return (
        body
        + (
            "# HELP tradedesk_scrape_seconds Seconds this scrape took to read the desk's figures.\n"
            "# TYPE tradedesk_scrape_seconds gauge\n"
            f"tradedesk_scrape_seconds {took:.6f}\n"
        ).encode()
    )
