"""The follower sync engine: one cycle brings every active follower to master x follow_ratio.

A cycle (Celery beat, every FOLLOW_SYNC_EVERY seconds):
1. takes the cycle lock (the shared cache), so cycles never overlap, even with two beats;
2. reads every active follower with no unresolved error in one query, and the symbols each
   has an order in flight for in a second one;
3. reads each master's positions once, however many followers it has;
4. evaluates followers in parallel threads (FOLLOW_SYNC_THREADS), each under its own lock:
   target = master qty x ratio rounded down to the venue's lot; the difference is ordered
   unless a venue minimum or an order in flight says otherwise. A follower whose master
   positions and ratio did not change since it was last in sync is skipped without a venue call
   (until FOLLOW_RECHECK_SECONDS passes);
5. records the cycle in SyncRun.

Any failure of a follower records a TradeError and pauses that follower (same transaction);
the others go on. A failure to read a master skips its followers for this cycle, unpaused.

Venue reads are in following/venue.py, the quantity maths in following/sizing.py, the follower
orders in following/follower_orders.py.
"""

import hashlib
import logging
import queue
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from executor.connectors.base import Instrument
from following import selectors, venue
from following.follower_orders import follower_order_submit
from following.models import ErrorType, FollowSettings, SyncOutcome, SyncRun
from following.services import trade_error_record
from following.sizing import floor_to, target_qty
from orders.models import OrderStatus
from tradedesk.exceptions import Conflict

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
CYCLE_LOCK = "following:sync-cycle"
# Cycle records older than this are deleted (one cycle in a hundred does it): a week of history.
KEEP_RUNS = timedelta(days=7)


@dataclass
class FollowerOutcome:
    settings_id: int
    outcome: str
    evaluated: bool = False
    orders: int = 0
    below_min: int = 0
    error: bool = False
    detail: dict = field(default_factory=dict)
    fingerprint: str = ""


@dataclass
class CycleTotals:
    followers_synced: int = 0
    followers_skipped: int = 0
    orders_placed: int = 0
    below_min: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)


def follow_sync_cycle(*, now: datetime | None = None) -> SyncRun:
    """Run one cycle unless another holds the lock (then a SKIPPED run is recorded).

    A run's started_at and finished_at both fall inside its hold of the lock, so the runs'
    intervals never overlap (the services tests check that with two beats running).
    """
    token = uuid.uuid4().hex
    if not cache.add(CYCLE_LOCK, token, timeout=settings.FOLLOW_SYNC_LOCK_SECONDS):
        logger.debug("follower sync: another cycle holds the lock; skipped")
        moment = timezone.now()
        return SyncRun.objects.create(started_at=moment, finished_at=moment, outcome=SyncRun.Outcome.SKIPPED)
    try:
        # A cycle whose worker died never finished: it is recorded failed once its lock expired.
        stale = timezone.now() - timedelta(seconds=settings.FOLLOW_SYNC_LOCK_SECONDS)
        SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING, started_at__lt=stale).update(
            outcome=SyncRun.Outcome.FAILED, detail="the worker running this cycle stopped before it finished"
        )
        run = SyncRun.objects.create(started_at=timezone.now())
        try:
            totals, masters_read = _cycle(now or run.started_at)
            run.outcome = SyncRun.Outcome.PARTIAL if totals.errors or totals.problems else SyncRun.Outcome.OK
        except Exception as exc:
            logger.exception("follower sync cycle %s failed", run.pk)
            totals, masters_read = CycleTotals(problems=[f"cycle failed: {exc}"]), 0
            run.outcome = SyncRun.Outcome.FAILED
        run.finished_at = timezone.now()
        run.masters_read = masters_read
        run.followers_synced = totals.followers_synced
        run.followers_skipped = totals.followers_skipped
        run.orders_placed = totals.orders_placed
        run.below_min = totals.below_min
        run.errors = totals.errors
        run.detail = "\n".join(totals.problems)[:4000]
        run.save()
        if run.pk % 100 == 0:
            SyncRun.objects.filter(started_at__lt=run.started_at - KEEP_RUNS).delete()
    finally:
        if cache.get(CYCLE_LOCK) == token:
            cache.delete(CYCLE_LOCK)
    return run


def _cycle(now: datetime) -> tuple[CycleTotals, int]:
    followers = selectors.followers_to_sync()
    totals = CycleTotals()
    if not followers:
        return totals, 0
    in_flight = selectors.follower_symbols_in_flight(settings_ids=[row.pk for row in followers])
    by_master: dict[int, list[FollowSettings]] = defaultdict(list)
    for row in followers:
        by_master[row.master_credential_id].append(row)

    jobs: list[tuple[FollowSettings, venue.MasterSnapshot]] = []
    masters = [rows[0].master_credential for rows in by_master.values()]
    snapshots = venue.master_snapshots(masters, threads=min(settings.FOLLOW_SYNC_THREADS, _pool_room()))
    for master_id, rows in by_master.items():
        snapshot = snapshots[master_id]
        if isinstance(snapshot, Exception):
            logger.warning("master account %s: positions unavailable: %s", master_id, snapshot)
            totals.problems.append(f"master account {master_id}: positions unavailable: {snapshot}")
            _state_bulk_update(settings_ids=[row.pk for row in rows], outcome=SyncOutcome.MASTER_UNAVAILABLE, at=now)
            continue
        jobs.extend((row, snapshot) for row in rows)

    outcomes = _run_jobs(jobs, in_flight, now)
    skipped = [o.settings_id for o in outcomes if not o.evaluated and not o.error]
    _state_bulk_update(settings_ids=skipped, outcome=None, at=now)
    unavailable = sum(outcome.outcome == SyncOutcome.VENUE_UNAVAILABLE for outcome in outcomes)
    if unavailable:
        totals.problems.append(f"{unavailable} follower(s) skipped: their venue's lot sizes could not be read")
    for outcome in outcomes:
        totals.followers_synced += outcome.evaluated
        totals.followers_skipped += not outcome.evaluated and not outcome.error
        totals.orders_placed += outcome.orders
        totals.below_min += outcome.below_min
        totals.errors += outcome.error
    return totals, len(by_master)


def _run_jobs(
    jobs: list[tuple[FollowSettings, venue.MasterSnapshot]], in_flight: dict[int, set[str]], now: datetime
) -> list[FollowerOutcome]:
    """Evaluate followers, in threads when FOLLOW_SYNC_THREADS > 0. A slow follower holds one
    thread; the others carry on with the rest."""
    threads = min(settings.FOLLOW_SYNC_THREADS, len(jobs), _pool_room())
    if threads <= 0:
        return [_safe_sync(row, snapshot, in_flight.get(row.pk, set()), now) for row, snapshot in jobs]
    work: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        work.put(job)
    outcomes: list[FollowerOutcome] = []
    outcomes_lock = threading.Lock()

    def worker() -> None:
        try:
            while True:
                try:
                    row, snapshot = work.get_nowait()
                except queue.Empty:
                    return
                outcome = _safe_sync(row, snapshot, in_flight.get(row.pk, set()), now)
                with outcomes_lock:
                    outcomes.append(outcome)
        finally:
            connection.close()  # this thread's own connection (back to the pool)

    pool = [threading.Thread(target=worker, name=f"follow-sync-{i}", daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes


def _pool_room() -> int:
    """Each thread holds one database connection for its life: with a connection pool, leave
    the calling thread and one spare their own, so no thread ever waits for a connection."""
    from django.db import connections

    pool = connections["default"].settings_dict.get("OPTIONS", {}).get("pool")
    if not pool:
        return 10**6
    size = pool.get("max_size", 10) if isinstance(pool, dict) else 10
    return max(1, size - 2)


def _safe_sync(
    row: FollowSettings, snapshot: venue.MasterSnapshot, in_flight: set[str], now: datetime
) -> FollowerOutcome:
    lock = f"following:follower:{row.pk}"
    if not cache.add(lock, 1, timeout=settings.FOLLOW_SYNC_LOCK_SECONDS):
        return FollowerOutcome(row.pk, SyncOutcome.WAITING)
    try:
        return sync_follower(row=row, snapshot=snapshot, in_flight=in_flight, now=now)
    except Exception as exc:
        logger.exception("follower %s: sync failed", row.pk)
        try:
            trade_error_record(
                settings_id=row.pk,
                error_type=ErrorType.INTERNAL,
                message=f"the sync failed: {exc}",
                details={"exception": type(exc).__name__},
            )
        except Exception:
            logger.exception("follower %s: the error could not be recorded", row.pk)
        return FollowerOutcome(row.pk, SyncOutcome.FAILED, evaluated=True, error=True)
    finally:
        cache.delete(lock)


def sync_follower(
    *, row: FollowSettings, snapshot: venue.MasterSnapshot, in_flight: set[str], now: datetime
) -> FollowerOutcome:
    """Bring one follower to its targets. `in_flight` holds the symbols it has an order in
    flight for, read before its positions: such a symbol waits, so a filled-but-unrecorded
    order is never ordered again."""
    fingerprint = hashlib.sha256(f"{snapshot.fingerprint}|{row.follow_ratio}".encode()).hexdigest()
    fresh = row.last_checked_at and now - row.last_checked_at < timedelta(seconds=settings.FOLLOW_RECHECK_SECONDS)
    if row.sync_fingerprint == fingerprint and fresh and not in_flight:
        return FollowerOutcome(row.pk, row.last_sync_outcome or SyncOutcome.OK)

    account = row.follower_credential
    if not account.is_active:
        # Deactivated by an admin (a leaked key, a closed account): never trade on it.
        trade_error_record(
            settings_id=row.pk,
            error_type=ErrorType.CONNECTOR,
            message=f"your exchange account {account.label} is deactivated; nothing was ordered",
            details={"exchange_account_id": account.pk},
        )
        return FollowerOutcome(row.pk, SyncOutcome.FAILED, evaluated=True, error=True)
    try:
        instruments = venue.instruments_for(account, strict=True)
    except venue.InstrumentsUnavailable as exc:
        # The venue is not answering: nothing is ordered and the follower is not paused; the
        # next cycle tries again.
        logger.warning("follower %s: %s; skipped this cycle", row.pk, exc)
        FollowSettings.objects.filter(pk=row.pk).update(
            last_synced_at=now, last_sync_outcome=SyncOutcome.VENUE_UNAVAILABLE
        )
        return FollowerOutcome(row.pk, SyncOutcome.VENUE_UNAVAILABLE, evaluated=True)
    trusted = _trusted_positions(row, account.pk, now)
    try:
        own = trusted if trusted is not None else {p.symbol: p.qty for p in venue.read_positions(account)}
    except Exception as exc:
        trade_error_record(
            settings_id=row.pk,
            error_type=ErrorType.POSITIONS_UNAVAILABLE,
            message=f"your account's positions could not be read: {exc}",
            details={"exchange_account_id": account.pk},
        )
        return FollowerOutcome(row.pk, SyncOutcome.FAILED, evaluated=True, error=True)
    read_at = row.last_sync_detail["read_at"] if trusted is not None else now.isoformat()
    symbols = sorted(set(snapshot.positions) | set(row.last_sync_detail.get("symbols", {})))
    outcome = FollowerOutcome(row.pk, SyncOutcome.OK, evaluated=True)
    lines: dict[str, dict] = {}
    after = dict(own)
    for symbol in symbols:
        line, placed = _sync_symbol(row, symbol, snapshot, own.get(symbol, ZERO), instruments, in_flight)
        lines[symbol] = line
        outcome.orders += placed
        if line.get("status") == OrderStatus.SUCCESS:
            after[symbol] = after.get(symbol, ZERO) + Decimal(line["filled"])
        if line["action"] == "below_min":
            outcome.below_min += 1
        if line["action"] == "failed":
            outcome.error = True
            break  # the follower is paused: nothing more for it this cycle
        if line["action"] == "paused":
            break  # turned off meanwhile: nothing more for it this cycle
    outcome.outcome = _overall(lines)
    settled = outcome.outcome in (SyncOutcome.OK, SyncOutcome.BELOW_MIN, SyncOutcome.ORDERED)
    filled = all(line["action"] != "ordered" or line.get("status") == OrderStatus.SUCCESS for line in lines.values())
    outcome.detail = {"symbols": lines, "checked_at": now.isoformat()}
    if settled and filled:
        # In sync (or every order filled): skip this follower until the master or ratio changes,
        # and until the venue is read again, trust the positions read plus the fills since.
        outcome.fingerprint = fingerprint
        outcome.detail |= {
            "account_id": account.pk,
            "read_at": read_at,
            "positions": {symbol: _s(qty) for symbol, qty in after.items() if qty},
        }
    _state_update(
        settings_id=row.pk, outcome=outcome.outcome, detail=outcome.detail, fingerprint=outcome.fingerprint, at=now
    )
    return outcome


def _trusted_positions(row: FollowSettings, account_id: int, now: datetime) -> dict[str, Decimal] | None:
    """The follower's positions as last read from its venue plus the fills of its orders since,
    while that read is younger than FOLLOW_RECHECK_SECONDS and the last evaluation ended settled
    (every order filled). Saves a venue call per follower on every master change."""
    detail = row.last_sync_detail if isinstance(row.last_sync_detail, dict) else {}
    if "positions" not in detail or detail.get("account_id") != account_id:
        return None
    try:
        read_at = datetime.fromisoformat(detail["read_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if now - read_at >= timedelta(seconds=settings.FOLLOW_RECHECK_SECONDS):
        return None
    return {symbol: Decimal(qty) for symbol, qty in detail["positions"].items()}


def _sync_symbol(
    row: FollowSettings,
    symbol: str,
    snapshot: venue.MasterSnapshot,
    own_qty: Decimal,
    instruments: dict[str, Instrument],
    in_flight: set[str],
) -> tuple[dict, int]:
    instrument = instruments.get(symbol)
    lot = instrument.lot_size if instrument else settings.FOLLOW_DEFAULT_LOT_SIZE
    min_qty = instrument.min_qty if instrument else lot
    master = snapshot.positions.get(symbol)
    master_qty = master.qty if master else ZERO
    target = target_qty(master_qty, row.follow_ratio, lot)
    diff = target - own_qty
    qty = floor_to(abs(diff), lot)
    line = {"master": _s(master_qty), "target": _s(target), "own": _s(own_qty), "diff": _s(diff), "qty": _s(qty)}
    if symbol in in_flight:
        return {**line, "action": "in_flight"}, 0
    if diff == 0:
        return {**line, "action": "in_sync"}, 0
    if qty < min_qty or qty == 0:
        # The same below-minimum difference is found again every cycle until the master moves:
        # the follower's status shows it; a line every FOLLOW_SYNC_EVERY seconds would be noise.
        logger.debug(
            "follower %s %s: difference %s is below the venue minimum %s; skipped", row.pk, symbol, diff, min_qty
        )
        return {**line, "action": "below_min", "min_qty": _s(min_qty)}, 0
    limit = str(settings.FOLLOW_MAX_ORDER_QTY or "").strip()
    if limit and qty > Decimal(limit):
        trade_error_record(
            settings_id=row.pk,
            error_type=ErrorType.ORDER_REFUSED,
            message=f"{symbol}: {_s(qty)} is over FOLLOW_MAX_ORDER_QTY ({limit}); nothing was ordered",
            details={"symbol": symbol, **line},
        )
        return {**line, "action": "failed"}, 0
    return _place(row, symbol, diff, qty, master, line)


def _place(row: FollowSettings, symbol: str, diff: Decimal, qty: Decimal, master, line: dict) -> tuple[dict, int]:
    try:
        order = follower_order_submit(
            follow_settings_id=row.pk,
            user=row.user,
            account=row.follower_credential,
            symbol=symbol,
            side="BUY" if diff > 0 else "SELL",
            qty=qty,
            reference_price=master.avg_price if master else None,
        )
    except Conflict as exc:
        # Turned off (or paused by an error elsewhere) since this cycle read the settings.
        return {**line, "action": "paused" if exc.code == "follower_paused" else "in_flight"}, 0
    action = "failed" if order.status == OrderStatus.FAILED else "ordered"
    line = {**line, "action": action, "order_id": order.pk, "status": order.status}
    if order.status == OrderStatus.SUCCESS:
        fill = order.filled_qty if order.filled_qty is not None else order.qty
        line["filled"] = _s(fill if order.side == "BUY" else -fill)
    return line, 1


def _overall(lines: dict[str, dict]) -> str:
    actions = {line["action"] for line in lines.values()}
    for action, outcome in (
        ("failed", SyncOutcome.FAILED),
        ("paused", SyncOutcome.PAUSED),
        ("in_flight", SyncOutcome.WAITING),
        ("ordered", SyncOutcome.ORDERED),
        ("below_min", SyncOutcome.BELOW_MIN),
    ):
        if action in actions:
            return outcome
    return SyncOutcome.OK


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


# The engine's bookkeeping on the follower row: single queryset updates, not audited settings.
def _state_update(*, settings_id: int, outcome: str, detail: dict, fingerprint: str, at: datetime) -> None:
    FollowSettings.objects.filter(pk=settings_id).update(
        last_synced_at=at, last_checked_at=at, last_sync_outcome=outcome, last_sync_detail=detail,
        sync_fingerprint=fingerprint,
    )  # fmt: skip


def _state_bulk_update(*, settings_ids: list[int], outcome: str | None, at: datetime) -> None:
    if not settings_ids:
        return
    values = {"last_synced_at": at, **({"last_sync_outcome": outcome} if outcome else {})}
    FollowSettings.objects.filter(pk__in=settings_ids).update(**values)
