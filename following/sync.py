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

import functools
import hashlib
import logging
import queue
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.utils import timezone

from executor.connectors.base import Instrument
from executor.models import ExchangeAccount
from following import batches, notify, selectors, sizing, venue
from following.follower_orders import copy_trade_settle, copy_trades_batched, follower_order_submit
from following.models import ErrorType, FollowSettings, SizingMode, SyncOutcome, SyncRun
from following.services import trade_error_record
from following.sizing import floor_to
from orders.lifecycle import order_cancel_at_venue, order_refresh
from orders.models import OrderStatus
from orders.services import order_cancel
from tradedesk.db import prepared_cursor
from tradedesk.exceptions import Conflict
from tradedesk.formatting import decimal_text

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
    # Still being evaluated past FOLLOW_FOLLOWER_DEADLINE: the cycle went on without it.
    late: bool = False


@dataclass
class CycleTotals:
    followers_synced: int = 0
    followers_skipped: int = 0
    orders_placed: int = 0
    below_min: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # in the run's detail, not problems


def follow_sync_cycle(
    *,
    now: datetime | None = None,
    master_id: int | None = None,
    batch: "batches.Batch | None" = None,
    snapshot: "venue.MasterSnapshot | None" = None,
    prices: dict[str, str] | None = None,
) -> SyncRun:
    """Run one cycle unless another holds the lock (then a SKIPPED run is recorded).

    Without arguments: every follower, under the one cycle lock. With `master_id`: the followers
    of that master account (following.dispatch, a task per master), under that master's lock.
    With `batch`: the followers a master's cycle handed to another task, with the master positions
    it read (no lock: each follower's own lock, taken as always, is enough). `snapshot`: the
    positions of `master_id` its poll just read (not read again). `prices`: the master's fill
    prices by symbol, from its accepted order (its last prices are not read for those).

    A run's started_at and finished_at both fall inside its hold of the lock, so the runs'
    intervals (of one lock) never overlap (the services tests check that with two beats running).
    """
    token = uuid.uuid4().hex
    lock = CYCLE_LOCK if master_id is None else f"{CYCLE_LOCK}:master:{master_id}"
    if batch is not None:
        lock = f"{CYCLE_LOCK}:batch:{token}"
    if not cache.add(lock, token, timeout=settings.FOLLOW_SYNC_LOCK_SECONDS):
        logger.debug("follower sync: another cycle holds the lock; skipped")
        moment = timezone.now()
        return SyncRun.objects.create(started_at=moment, finished_at=moment, outcome=SyncRun.Outcome.SKIPPED)
    try:
        run = SyncRun.objects.create(started_at=timezone.now())
        try:
            totals, masters_read = _cycle(
                now or run.started_at, master_id=master_id, batch=batch, snapshot=snapshot, prices=prices
            )
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
        run.detail = "\n".join(totals.problems + totals.notes)[:4000]
        run.save()
        # A cycle whose worker died never finished: it is recorded failed once its lock expired.
        # Bookkeeping, so after this cycle's orders, not before them.
        stale = timezone.now() - timedelta(seconds=settings.FOLLOW_SYNC_LOCK_SECONDS)
        SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING, started_at__lt=stale).update(
            outcome=SyncRun.Outcome.FAILED, detail="the worker running this cycle stopped before it finished"
        )
        if run.pk % 100 == 0:
            SyncRun.objects.filter(started_at__lt=run.started_at - KEEP_RUNS).delete()
    finally:
        if cache.get(lock) == token:
            cache.delete(lock)
    return run


def _cycle(
    now: datetime,
    *,
    master_id: int | None = None,
    batch: "batches.Batch | None" = None,
    snapshot: "venue.MasterSnapshot | None" = None,
    prices: dict[str, str] | None = None,
) -> tuple[CycleTotals, int]:
    scope = {"master_id": master_id} if master_id is not None else {}
    if batch is not None:
        scope["settings_ids"] = batch.settings_ids
    # A master's own sync reads its positions at the venue while the database answers the
    # followers' reads below: the round trip no longer comes before them (the copy latency).
    early = None
    if master_id is not None and snapshot is None and batch is None:
        account = ExchangeAccount.objects.filter(pk=master_id).first()
        early = venue.master_snapshot_started(account) if account is not None else None
    followers = selectors.followers_to_sync(**scope)
    totals = CycleTotals()
    if not followers:
        if early is not None:
            early.result()
        return totals, 0
    in_flight = selectors.follower_symbols_in_flight(settings_ids=[row.pk for row in followers])
    by_master: dict[int, list[FollowSettings]] = defaultdict(list)
    for row in followers:
        by_master[row.master_credential_id].append(row)

    jobs: list[tuple[FollowSettings, venue.MasterSnapshot]] = []
    masters = [rows[0].master_credential for rows in by_master.values()]
    given = batch.snapshots() if batch is not None else {}
    if snapshot is not None:
        given[master_id] = snapshot
    if early is not None:
        given[master_id] = early.result()
    missing = [account for account in masters if account.pk not in given]
    threads = min(settings.FOLLOW_SYNC_THREADS, _pool_room())
    snapshots = {**given, **(venue.master_snapshots(missing, threads=threads) if missing else {})}
    if prices and isinstance(snapshots.get(master_id), venue.MasterSnapshot):
        snapshots[master_id].know_prices(prices)
    # Not `master_id`: that names the task's own master below (None for a cycle of everyone).
    for account_id, rows in by_master.items():
        snapshot = snapshots[account_id]
        if isinstance(snapshot, Exception):
            logger.warning("master account %s: positions unavailable: %s", account_id, snapshot)
            totals.problems.append(f"master account {account_id}: positions unavailable: {snapshot}")
            _state_bulk_update(settings_ids=[row.pk for row in rows], outcome=SyncOutcome.MASTER_UNAVAILABLE, at=now)
            continue
        jobs.extend((row, snapshot) for row in rows)

    # Accounts followed with several follows (read once; none for one-master followers).
    shares = selectors.follow_shares(rows=followers)
    shared = {row.follower_credential_id for row in followers if row.pk in shares}
    # Followers already in sync with this master (most of every beat's full sync) are skipped
    # here: no thread, no lock, no batch task for them.
    groups, outcomes = _without_unchanged(_grouped(jobs), in_flight, shared, now)
    if master_id is not None:
        # Many followers: the rest go to other tasks (any worker on any host), in batches.
        groups, queued = batches.hand_out(groups, snapshots=snapshots, now=now)
        if queued:
            totals.notes.append(f"{queued} more batch(es) of followers queued to other tasks")
    outcomes += _run_jobs(groups, in_flight, now, shared)
    skipped = [o.settings_id for o in outcomes if not o.evaluated and not o.error and not o.late]
    _state_bulk_update(settings_ids=skipped, outcome=None, at=now)
    late = sum(outcome.late for outcome in outcomes)
    if late:
        totals.problems.append(
            f"{late} follower(s) still being evaluated after FOLLOW_FOLLOWER_DEADLINE "
            f"({settings.FOLLOW_FOLLOWER_DEADLINE}s): left to finish on their own"
        )
    unavailable = sum(outcome.outcome == SyncOutcome.VENUE_UNAVAILABLE for outcome in outcomes)
    if unavailable:
        totals.problems.append(f"{unavailable} follower(s) skipped: their venue's lot sizes could not be read")
    for outcome in outcomes:
        totals.followers_synced += outcome.evaluated
        totals.followers_skipped += not outcome.evaluated and not outcome.error and not outcome.late
        totals.orders_placed += outcome.orders
        totals.below_min += outcome.below_min
        totals.errors += outcome.error
    if master_id is not None and not totals.problems and not isinstance(snapshots.get(master_id), Exception | None):
        batches.master_seen(master_id, snapshots[master_id])  # beat's polls skip while it is unchanged
    return totals, len(by_master)


Job = list[tuple[FollowSettings, venue.MasterSnapshot]]


def _grouped(jobs: list[tuple[FollowSettings, venue.MasterSnapshot]]) -> list[Job]:
    """One job per follower account: the follows of an account followed with several masters
    run one after the other in one thread (the others first, the account's primary last), so
    the primary's venue read and the others' copied positions are read at the same moment."""
    by_account: dict[int, Job] = defaultdict(list)
    for row, snapshot in jobs:
        by_account[row.follower_credential_id].append((row, snapshot))
    return list(by_account.values())


def _without_unchanged(
    groups: list[Job], in_flight: dict[int, set[str]], shared: set[int], now: datetime
) -> tuple[list[Job], list[FollowerOutcome]]:
    """The groups that need evaluating, and the outcomes of the follows that do not: alone on
    their account, nothing in flight, and unchanged since their last sync (_unchanged). Reading
    that needs no lock: nothing is written for them but the cycle's bulk "synced at"."""
    work, quiet = [], []
    for group in groups:
        row, snapshot = group[0]
        if len(group) == 1 and row.follower_credential_id not in shared and _unchanged(row, snapshot, in_flight, now):
            quiet.append(FollowerOutcome(row.pk, row.last_sync_outcome or SyncOutcome.OK))
        else:
            work.append(group)
    return work, quiet


def _fingerprint(row: FollowSettings, snapshot: venue.MasterSnapshot) -> str:
    return hashlib.sha256(
        f"{snapshot.fingerprint}|{row.follow_ratio}|{row.sizing_mode}|{row.fixed_notional}".encode()
    ).hexdigest()


def _unchanged(
    row: FollowSettings, snapshot: venue.MasterSnapshot, in_flight: dict[int, set[str]], now: datetime
) -> bool:
    """In sync with this master snapshot and these settings, its positions read less than
    FOLLOW_RECHECK_SECONDS ago, and nothing in flight: evaluating it again would order nothing."""
    fresh = row.last_checked_at and now - row.last_checked_at < timedelta(seconds=settings.FOLLOW_RECHECK_SECONDS)
    return bool(fresh) and not in_flight.get(row.pk) and row.sync_fingerprint == _fingerprint(row, snapshot)


def _run_group(group: Job, in_flight: dict[int, set[str]], now: datetime, shared: set[int]) -> list[FollowerOutcome]:
    account_id = group[0][0].follower_credential_id
    if account_id not in shared:
        return [_safe_sync(row, snapshot, in_flight.get(row.pk, set()), now) for row, snapshot in group]
    # Two masters' syncs (tasks) may both hold this account's follows: one evaluates the account
    # at a time, or the first follow's venue read could count the other's fill twice.
    lock = f"following:account:{account_id}"
    if not cache.add(lock, 1, timeout=settings.FOLLOW_SYNC_LOCK_SECONDS):
        return [FollowerOutcome(row.pk, SyncOutcome.WAITING) for row, _ in group]
    try:
        return _run_shared_group(group, in_flight, now)
    finally:
        cache.delete(lock)


def _run_shared_group(group: Job, in_flight: dict[int, set[str]], now: datetime) -> list[FollowerOutcome]:
    outcomes = []
    pending = list(group)
    while pending:
        # Fresh shares and orders in flight before each follow: the one before may have traded.
        rows = [row for row, _ in pending]
        shares = selectors.follow_shares(rows=rows)
        pending.sort(key=lambda job: shares[job[0].pk].primary if job[0].pk in shares else False)
        row, snapshot = pending.pop(0)
        share = shares.get(row.pk)
        flying = in_flight.get(row.pk, set())
        if share is not None and share.primary:
            fresh = selectors.follower_symbols_in_flight(settings_ids=[row.pk, *share.siblings])
            flying = set().union(*fresh.values()) if fresh else set()
        outcomes.append(_safe_sync(row, snapshot, flying, now, share=share))
    return outcomes


def _run_jobs(
    jobs: list[Job], in_flight: dict[int, set[str]], now: datetime, shared: set[int] = frozenset()
) -> list[FollowerOutcome]:
    """Evaluate followers, in threads when FOLLOW_SYNC_THREADS > 0.

    Isolation: a follower whose evaluation runs past FOLLOW_FOLLOWER_DEADLINE (a venue that
    hangs) no longer holds the others. Its thread is replaced by a fresh one for the rest of the
    queue, and once only such late followers are left the cycle returns without them: they are
    reported late (`FollowerOutcome.late`) and finish on their own thread, holding their follower
    lock, so no later cycle evaluates them meanwhile (and the database allows one order in flight
    per follower and symbol anyway): a master's change is still applied to them once."""
    threads = min(settings.FOLLOW_SYNC_THREADS, len(jobs), _pool_room())
    # The followers' notification choices, read once for the cycle (not once per copied order).
    known = notify.wants_of(user_ids=sorted({row.user_id for group in jobs for row, _ in group}))
    if threads <= 0:
        with notify.wants_known(known), copy_trades_batched():
            return [outcome for group in jobs for outcome in _run_group(group, in_flight, now, shared)]
    work: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        work.put(job)
    outcomes: list[FollowerOutcome] = []
    changed = threading.Condition()
    running: dict[str, tuple[float, Job]] = {}  # thread name -> (start, group) of its current group
    left = [len(jobs)]
    deadline = settings.FOLLOW_FOLLOWER_DEADLINE

    def worker() -> None:
        name = threading.current_thread().name
        try:
            # This thread's slippage figures are written in one statement when its queue is done.
            with notify.wants_known(known), copy_trades_batched():
                while True:
                    try:
                        group = work.get_nowait()
                    except queue.Empty:
                        return
                    with changed:
                        running[name] = (time.monotonic(), group)
                    found = _run_group(group, in_flight, now, shared)
                    with changed:
                        running.pop(name, None)
                        outcomes.extend(found)
                        left[0] -= 1
                        changed.notify_all()
        finally:
            connection.close()  # this thread's own connection (back to the pool)

    names = iter(range(10**9))
    # Replacements for late threads: each holds a database connection too, so within the pool.
    spare = min(threads, max(0, _pool_room() - threads))

    def start() -> None:
        threading.Thread(target=worker, name=f"follow-sync-{next(names)}", daemon=True).start()

    for _ in range(threads):
        start()
    with changed:
        while left[0]:
            moment = time.monotonic()
            late = [group for started, group in running.values() if moment - started >= deadline]
            if len(late) == left[0]:
                break  # only late followers are left: the cycle goes on without them
            if late and spare and len(running) - len(late) < threads and not work.empty():
                spare -= 1
                start()
            changed.wait(timeout=0.05 if late or not running else min(deadline, 0.5))
        late = [group for started, group in running.values() if time.monotonic() - started >= deadline]
        done = list(outcomes)
    for group in late:
        for row, _ in group:
            logger.warning(
                "follower %s: still being evaluated after %ss; the cycle goes on without it", row.pk, deadline
            )
            done.append(FollowerOutcome(row.pk, SyncOutcome.WAITING, late=True))
    return done


def _pool_room() -> int:
    """Each thread holds one database connection for its life: with a connection pool, leave
    the calling thread and one spare their own, so no thread ever waits for a connection."""
    pool = connections["default"].settings_dict.get("OPTIONS", {}).get("pool")
    if not pool:
        return 10**6
    size = pool.get("max_size", 10) if isinstance(pool, dict) else 10
    return max(1, size - 2)


def _safe_sync(
    row: FollowSettings,
    snapshot: venue.MasterSnapshot,
    in_flight: set[str],
    now: datetime,
    share: selectors.Share | None = None,
) -> FollowerOutcome:
    settings_id = row.pk
    lock = f"following:follower:{settings_id}"
    if not cache.add(lock, 1, timeout=settings.FOLLOW_SYNC_LOCK_SECONDS):
        return FollowerOutcome(settings_id, SyncOutcome.WAITING)
    try:
        row, in_flight = _current(row, in_flight, now)
        if row is None:
            return FollowerOutcome(settings_id, SyncOutcome.PAUSED)
        return sync_follower(row=row, snapshot=snapshot, in_flight=in_flight, now=now, share=share)
    except Exception as exc:
        logger.exception("follower %s: sync failed", settings_id)
        try:
            trade_error_record(
                settings_id=settings_id,
                error_type=ErrorType.INTERNAL,
                message=f"the sync failed: {exc}",
                details={"exception": type(exc).__name__},
            )
        except Exception:
            logger.exception("follower %s: the error could not be recorded", settings_id)
        return FollowerOutcome(settings_id, SyncOutcome.FAILED, evaluated=True, error=True)
    finally:
        cache.delete(lock)


def _current(row: FollowSettings, in_flight: set[str], now: datetime) -> tuple[FollowSettings | None, set[str]]:
    """The follow as it is now, under its lock: the row this cycle read, unless another task has
    evaluated it since (two syncs of one master overlap: a poll's queued while the first's batches
    still run); then read again, with its orders in flight. Evaluated from the stale row (its
    positions before that evaluation's order), it copied the master's change a second time.
    None: paused or turned off since the cycle read it; recorded PAUSED, nothing is read."""
    state = selectors.follow_state(row)
    if not state.followable:
        FollowSettings.objects.filter(pk=row.pk).update(
            last_synced_at=now, last_sync_outcome=SyncOutcome.PAUSED, sync_fingerprint=""
        )
        return None, set()
    if not state.evaluated_since:
        return row, in_flight
    fresh = selectors.followers_to_sync(settings_ids={row.pk})
    if not fresh:
        return None, set()  # paused in between: PAUSED at its next cycle, nothing read now
    flying = selectors.follower_symbols_in_flight(settings_ids=[row.pk]).get(row.pk, set())
    return fresh[0], flying


def sync_follower(
    *,
    row: FollowSettings,
    snapshot: venue.MasterSnapshot,
    in_flight: set[str],
    now: datetime,
    share: selectors.Share | None = None,
) -> FollowerOutcome:
    """Bring one follow to its targets. `in_flight` holds the symbols it has an order in
    flight for, read before its positions: such a symbol waits, so a filled-but-unrecorded
    order is never ordered again. `share` says what the follow owns of an account followed
    with several follows (None: alone on it, the whole account is its own)."""
    fingerprint = _fingerprint(row, snapshot)
    if share is None and _unchanged(row, snapshot, {row.pk: in_flight}, now):
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
    in_flight = set(in_flight) | _settle_resting(row, in_flight)
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
    trusted = _trusted_positions(row, account.pk, now) if share is None else None
    try:
        if share is not None and not share.primary:
            own = dict(share.ledger)  # its own orders' fills: no venue call
        else:
            own = trusted if trusted is not None else {p.symbol: p.qty for p in venue.read_positions(account)}
            for symbol, qty in (share.offsets if share else {}).items():
                own[symbol] = own.get(symbol, ZERO) - qty
    except Exception as exc:
        trade_error_record(
            settings_id=row.pk,
            error_type=ErrorType.POSITIONS_UNAVAILABLE,
            message=f"your account's positions could not be read: {exc}",
            details={"exchange_account_id": account.pk},
        )
        return FollowerOutcome(row.pk, SyncOutcome.FAILED, evaluated=True, error=True)
    if _loss_cap_breached(row, now):
        return FollowerOutcome(row.pk, SyncOutcome.FAILED, evaluated=True, error=True)
    read_at = row.last_sync_detail["read_at"] if trusted is not None else now.isoformat()
    previous = row.last_sync_detail.get("symbols", {}) if isinstance(row.last_sync_detail, dict) else {}
    closing = row.ended_at is not None
    symbols = sorted(set(snapshot.positions) | set(previous) | (set(own) if closing else set()))
    context = _Context(row=row, snapshot=snapshot, instruments=instruments, in_flight=in_flight, now=now)
    outcome = FollowerOutcome(row.pk, SyncOutcome.OK, evaluated=True)
    lines: dict[str, dict] = {}
    after = dict(own)
    for symbol in symbols:
        line, placed = _sync_symbol(context, symbol, own.get(symbol, ZERO), previous.get(symbol, {}))
        lines[symbol] = line
        outcome.orders += placed
        if line.get("status") == OrderStatus.SUCCESS:
            after[symbol] = after.get(symbol, ZERO) + Decimal(line["filled"])
        if line["action"] in ("below_min", "rounds_to_zero"):
            outcome.below_min += 1
        if line["action"] == "failed":
            outcome.error = True
            break  # the follower is paused: nothing more for it this cycle
        if line["action"] == "paused":
            break  # turned off meanwhile: nothing more for it this cycle
    # Symbols not reached this cycle keep their last line (fixed notional sizing builds on it).
    lines = {**{s: line for s, line in previous.items() if s in symbols}, **lines}
    outcome.outcome = _overall(lines)
    settled = outcome.outcome in (SyncOutcome.OK, SyncOutcome.BELOW_MIN, SyncOutcome.ORDERED)
    filled = all(line["action"] != "ordered" or line.get("complete") for line in lines.values())
    outcome.detail = {"symbols": lines, "checked_at": now.isoformat()}
    if context.baseline != (row.join_baseline or {}):
        FollowSettings.objects.filter(pk=row.pk).update(join_baseline=context.baseline)
    if settled and filled:
        # In sync (or every order filled): skip this follower until the master or ratio changes,
        # and until the venue is read again, trust the positions read plus the fills since.
        outcome.fingerprint = fingerprint
        outcome.detail |= {
            "account_id": account.pk,
            "read_at": read_at,
            "positions": {symbol: _s(qty) for symbol, qty in after.items() if qty},
        }
        if closing and all(line["action"] == "in_sync" for line in lines.values()):
            _close_finished(row)
    _state_update(
        settings_id=row.pk, outcome=outcome.outcome, detail=outcome.detail, fingerprint=outcome.fingerprint, at=now
    )
    return outcome


@dataclass
class _Context:
    row: FollowSettings
    snapshot: venue.MasterSnapshot
    instruments: dict[str, Instrument]
    in_flight: set[str]
    now: datetime
    baseline: dict = field(default_factory=dict)
    _equity_factor: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.baseline = dict(self.row.join_baseline or {})

    def equity_factor(self) -> Decimal | None:
        """Follower equity / master equity, read once per evaluation (equity sizing only)."""
        if not self._equity_factor:
            mine, theirs = venue.equity(self.row.follower_credential), self.snapshot.equity()
            self._equity_factor.append(mine / theirs if mine is not None and theirs else None)
        return self._equity_factor[0]


def _settle_resting(row: FollowSettings, in_flight: set[str]) -> set[str]:
    """A slippage-capped limit still resting from an earlier cycle is refreshed and, if still
    open, canceled at the venue: what it did not fill becomes the next cycle's difference. Its
    symbol waits this cycle (returned), so nothing is ordered while it may still fill."""
    if not in_flight:
        return set()
    waiting = set()
    for order in selectors.resting_follower_orders(settings_id=row.pk):
        try:
            order = order_refresh(order_id=order.pk)
            if order.is_open_at_venue:
                order_cancel(order_id=order.pk, user=row.user)
                order = order_cancel_at_venue(order_id=order.pk)
        except Exception:
            logger.exception("follower %s: resting order %s could not be refreshed or canceled", row.pk, order.pk)
        copy_trade_settle(order=order)
        waiting.add(order.symbol)
    return waiting


def _loss_cap_breached(row: FollowSettings, now: datetime) -> bool:
    """Max loss: the follower account's equity against its high-water mark. A breach pauses the
    follow (CAP_MAX_LOSS); resolving the error starts a new high-water mark."""
    if row.max_loss is None:
        return False
    equity = venue.equity(row.follower_credential)
    if equity is None:
        logger.warning("follower %s: equity unknown; the max loss cap cannot be checked this cycle", row.pk)
        return False
    high = max(row.equity_high_water or equity, equity)
    if high != row.equity_high_water:
        FollowSettings.objects.filter(pk=row.pk).update(equity_high_water=high)
    floor = high * (1 - row.max_loss)
    if equity >= floor:
        return False
    trade_error_record(
        settings_id=row.pk,
        error_type=ErrorType.CAP_MAX_LOSS,
        message=(
            f"equity {_s(equity)} is below {_s(floor)}, {_s(row.max_loss * 100)}% under its high-water mark "
            f"{_s(high)}; nothing was ordered. Resolving this error starts a new high-water mark."
        ),
        details={"equity": _s(equity), "high_water": _s(high), "max_loss": _s(row.max_loss)},
    )
    return True


def _close_finished(row: FollowSettings) -> None:
    """An unfollow with close: everything it copied is closed; it is off for good."""
    FollowSettings.objects.filter(pk=row.pk, ended_at__isnull=False).update(is_active=False, kept_positions={})
    logger.info("follow %s: unfollowed and its copied positions are closed", row.pk)


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


def _target(context: _Context, symbol: str, master_qty: Decimal, previous: dict) -> tuple[Decimal | None, Decimal]:
    """The follow's unrounded target for one symbol and the master quantity it copies (after a
    changes-only join's baseline)."""
    row = context.row
    if row.ended_at is not None:
        return ZERO, ZERO  # unfollowed with close: everything copied goes
    baseline = Decimal(context.baseline.get(symbol, "0"))
    copied = sizing.effective_master(master_qty, baseline)
    shrunk = sizing.shrunk_baseline(master_qty, baseline)
    if shrunk != baseline:
        if shrunk:
            context.baseline[symbol] = _s(shrunk)
        else:
            context.baseline.pop(symbol, None)
    if row.sizing_mode == SizingMode.EQUITY:
        return sizing.raw_target(
            mode=row.sizing_mode, master_qty=copied, ratio=row.follow_ratio, equity_factor=context.equity_factor()
        ), copied
    prev_master = Decimal(previous["copied"]) if "copied" in previous else None
    return sizing.raw_target(
        mode=row.sizing_mode,
        master_qty=copied,
        ratio=row.follow_ratio,
        notional=row.fixed_notional,
        price=context.snapshot.price(symbol),
        prev_master=prev_master,
        prev_target=Decimal(previous.get("target_unrounded", "0")),
    ), copied


def _sync_symbol(context: _Context, symbol: str, own_qty: Decimal, previous: dict) -> tuple[dict, int]:
    row = context.row
    instrument = context.instruments.get(symbol)
    lot = instrument.lot_size if instrument else settings.FOLLOW_DEFAULT_LOT_SIZE
    min_qty = instrument.min_qty if instrument else lot
    master = context.snapshot.positions.get(symbol)
    master_qty = master.qty if master else ZERO
    raw, copied = _target(context, symbol, master_qty, previous)
    line = {"master": _s(master_qty), "copied": _s(copied), "own": _s(own_qty)}
    if raw is None:
        return {**line, "action": "failed"}, _cap_error(
            row, ErrorType.INTERNAL, symbol, line,
            f"{symbol}: the {row.get_sizing_mode_display().lower()} target needs an equity or price the venue "
            "did not give; nothing was ordered",
        )  # fmt: skip
    target = sizing.round_target(raw, lot)
    diff = target - own_qty
    qty = floor_to(abs(diff), lot)
    line |= {"target_unrounded": _s(raw), "target": _s(target), "diff": _s(diff), "qty": _s(qty)}
    if symbol in context.in_flight:
        return {**line, "action": "in_flight"}, 0
    if raw and not target:
        # The copy is too small for the venue's lot: shown as such, never as "in sync". What is
        # held is still brought to the (zero) target: the ratio change saying so was confirmed.
        line["rounds_to_zero"] = True
        if diff == 0:
            return {**line, "action": "rounds_to_zero", "lot_size": _s(lot)}, 0
    if diff == 0:
        return {**line, "action": "in_sync"}, 0
    price = context.snapshot.price(symbol) or venue.last_price(row.follower_credential, symbol)
    small = instrument and instrument.min_notional and price and qty * price < instrument.min_notional
    if qty < min_qty or qty == 0 or small:
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
    breach = _cap_breach(context, symbol, qty, target, own_qty, price)
    if breach:
        return {**line, "action": "failed"}, _cap_error(row, breach[0], symbol, line, breach[1])
    return _place(context, symbol, diff, qty, master, price, line)


def _cap_breach(
    context: _Context, symbol: str, qty: Decimal, target: Decimal, own_qty: Decimal, price: Decimal | None
) -> tuple[str, str] | None:
    """The first of the follow's caps this order would break: (error type, message)."""
    row = context.row
    if row.ended_at is not None:
        return None  # closing what was copied is never capped
    if row.allowed_symbols and symbol not in row.allowed_symbols:
        allowed = ", ".join(row.allowed_symbols)
        return ErrorType.CAP_SYMBOL_NOT_ALLOWED, f"{symbol} is not in your allowed symbols ({allowed})"
    if (row.max_order_notional is not None or row.max_position_notional is not None) and not price:
        return ErrorType.CAP_ORDER_NOTIONAL, f"{symbol}: no price to check your notional caps against"
    if row.max_order_notional is not None and qty * price > row.max_order_notional:
        return ErrorType.CAP_ORDER_NOTIONAL, (
            f"{symbol}: the order's notional {_s(qty * price)} is over your max per order {_s(row.max_order_notional)}"
        )
    growing = abs(target) > abs(own_qty)
    if row.max_position_notional is not None and growing and abs(target) * price > row.max_position_notional:
        return ErrorType.CAP_POSITION_NOTIONAL, (
            f"{symbol}: the position's notional {_s(abs(target) * price)} would be over your max per symbol "
            f"{_s(row.max_position_notional)}"
        )
    if row.max_trades_per_day is not None:
        day = context.now.astimezone(timezone.get_current_timezone()).replace(hour=0, minute=0, second=0, microsecond=0)
        done = selectors.follow_trades_today(settings_id=row.pk, since=day)
        if done >= row.max_trades_per_day:
            return ErrorType.CAP_TRADES_PER_DAY, (
                f"{symbol}: {done} trades today reached your max trades per day ({row.max_trades_per_day})"
            )
    return None


def _cap_error(row: FollowSettings, error_type: str, symbol: str, line: dict, message: str) -> int:
    trade_error_record(
        settings_id=row.pk,
        error_type=error_type,
        message=f"{message}; nothing was ordered. Change the cap or resolve this error to go on.",
        details={"symbol": symbol, **line},
    )
    return 0


def _place(
    context: _Context, symbol: str, diff: Decimal, qty: Decimal, master, price: Decimal | None, line: dict
) -> tuple[dict, int]:
    row = context.row
    side = "BUY" if diff > 0 else "SELL"
    master_price = context.snapshot.price(symbol)
    guard = row.follower_credential.connector != "browser" and master_price
    instrument = context.instruments.get(symbol)
    tick = instrument.tick_size if instrument else None
    limit = (
        sizing.limit_price(side=side, master_price=master_price, max_slippage=row.max_slippage, tick=tick)
        if guard
        else None
    )
    try:
        order = follower_order_submit(
            follow_settings_id=row.pk,
            user=row.user,
            account=row.follower_credential,
            symbol=symbol,
            side=side,
            qty=qty,
            reference_price=master.avg_price if master else price,
            price=limit,
            master_price=master_price,
            max_slippage=row.max_slippage,
        )
    except Conflict as exc:
        # Turned off (or paused by an error elsewhere) since this cycle read the settings.
        return {**line, "action": "paused" if exc.code == "follower_paused" else "in_flight"}, 0
    copy_trade_settle(order=order, master_price=master_price)
    action = "failed" if order.status == OrderStatus.FAILED else "ordered"
    line = {**line, "action": action, "order_id": order.pk, "status": order.status}
    if limit is not None:
        line["limit_price"] = _s(limit)
    if order.status == OrderStatus.SUCCESS:
        fill = order.filled_qty if order.filled_qty is not None else order.qty
        line["filled"] = _s(fill if order.side == "BUY" else -fill)
        line["complete"] = fill >= order.qty
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
    return decimal_text(value) if value else "0"


# The engine's bookkeeping on the follower row: single queryset updates, not audited settings.
_STATE_COLUMNS = ("last_synced_at", "last_checked_at", "last_sync_outcome", "last_sync_detail", "sync_fingerprint")


def _state_update(*, settings_id: int, outcome: str, detail: dict, fingerprint: str, at: datetime) -> None:
    """The follower's sync state after its evaluation: one UPDATE per follower and cycle, written
    as a prepared statement (the ORM's UPDATE was built anew each time: about a tenth of the
    desk's CPU per follower order). The columns are bookkeeping, not audited (their history is
    excluded), as with the ORM's queryset update.

    On PostgreSQL, outside a caller's transaction, its commit does not wait for the WAL to reach
    the disk (synchronous_commit off for that one transaction): commits waiting on the WAL flush
    were most of the database's time in the copy bench (bench/README.md). A crash of the
    database may lose the last fraction of a second of these writes, never an order or a fill;
    the follower is then evaluated again from its orders in flight and its recorded fills, as
    after any stale state."""
    values = dict(zip(_STATE_COLUMNS, (at, at, outcome, detail, fingerprint), strict=True))
    fields = [FollowSettings._meta.get_field(name) for name in _STATE_COLUMNS]
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    quick = connection.vendor == "postgresql" and not connection.in_atomic_block
    with prepared_cursor() as cursor:
        cursor.execute(_state_statement(quick), [*params, settings_id])


@functools.cache
def _state_statement(quick: bool) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(name)} = %s" for name in _STATE_COLUMNS)
    table, pk = quote(FollowSettings._meta.db_table), quote(FollowSettings._meta.pk.column)
    # set_config(..., true) lasts for this statement's own transaction (autocommit) only.
    source = " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS quick_commit" if quick else ""
    return f"UPDATE {table} SET {columns}{source} WHERE {table}.{pk} = %s"  # noqa: S608


def _state_bulk_update(*, settings_ids: list[int], outcome: str | None, at: datetime) -> None:
    if not settings_ids:
        return
    values = {"last_synced_at": at, **({"last_sync_outcome": outcome} if outcome else {})}
    FollowSettings.objects.filter(pk__in=settings_ids).update(**values)
