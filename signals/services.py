"""Every write to a signal: intake (idempotent), staff decisions, execution."""

import contextlib
import functools
import hashlib
import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from signals.models import Signal, SignalStatus
from signals.serializers import signal_data
from tradedesk import events
from tradedesk.audited import AUDIT_COLUMNS, insert_statement
from tradedesk.db import prepared_cursor
from tradedesk.exceptions import IdempotencyMismatch, IllegalTransition, InvalidInput, NotFound
from tradedesk.formatting import decimal_text
from tradedesk.logging import bind_log_context
from tradedesk.symbols import normalize_symbol

logger = logging.getLogger(__name__)

# Staff decisions (PATCH /api/signals/{id}); EXECUTED is only ever set by a filled order.
DECISIONS: dict[str, tuple[str, ...]] = {
    SignalStatus.ACCEPTED: (SignalStatus.PENDING,),
    SignalStatus.REJECTED: (SignalStatus.PENDING, SignalStatus.ACCEPTED),
    SignalStatus.CANCELED: (SignalStatus.PENDING, SignalStatus.ACCEPTED),
}


def _fingerprint(fields: dict[str, Any]) -> str:
    canonical = {
        key: decimal_text(value) if isinstance(value, Decimal) or value is None else value
        for key, value in sorted(fields.items())
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@functools.cache
def _audit_insert() -> tuple[str, list[str]]:
    """SQLite's audit-row INSERT (it has no INSERT inside WITH), built once from the models (only
    their own table and column names, quoted; every value goes as a parameter)."""
    quote = connection.ops.quote_name
    history = Signal.history.model
    tracked = [field.attname for field in history.tracked_fields]
    audit_table = f"{quote(history._meta.db_table)} ({', '.join(quote(c) for c in [*tracked, *AUDIT_COLUMNS])})"
    placeholders = ", ".join(["%s"] * (len(tracked) + len(AUDIT_COLUMNS)))
    return f"INSERT INTO {audit_table} VALUES ({placeholders})", tracked  # noqa: S608


def _insert(signal: Signal, audit_reason: str) -> None:
    """Insert a new signal with the audit row simple_history's post_save hook would write ('+',
    the reason, the time; no user: a strategy key is no person).

    Not the hook itself: it resolves the request's session user and saves a historical model
    instance, which cost more CPU than the signal's own insert. On PostgreSQL both rows go in one
    statement, atomic on its own, so outside a transaction there is no BEGIN/COMMIT round trip
    either; the unique key still refuses a second signal for an idempotency key (IntegrityError).
    """
    if connection.vendor != "postgresql":
        # SQLite has no INSERT inside WITH: the two inserts in one transaction.
        audit_only, tracked = _audit_insert()
        history = Signal.history.model
        signal.skip_history_when_saving = True
        try:
            with transaction.atomic():
                signal.save()
                row = [*(getattr(signal, name) for name in tracked), timezone.now(), audit_reason, "+", None]
                columns = [history._meta.get_field(name) for name in [*tracked, *AUDIT_COLUMNS]]
                values = [field.get_db_prep_save(value, connection) for field, value in zip(columns, row, strict=True)]
                with connection.cursor() as cursor:
                    cursor.execute(audit_only, values)
        finally:
            del signal.skip_history_when_saving  # later saves of this instance are audited as usual
        return
    fields, both = insert_statement(Signal)  # tradedesk/audited.py: the row and its audit row
    values = [field.get_db_prep_save(field.pre_save(signal, add=True), connection) for field in fields]
    now = timezone.now()  # after created_at, as the hook's time would be
    # Inside a caller's transaction a savepoint keeps it usable after a duplicate key.
    with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
        with prepared_cursor() as cursor:
            cursor.execute(both, [*values, now, audit_reason, "+", None])
            signal.pk = cursor.fetchone()[0]
    signal._state.adding = False
    signal._state.db = connection.alias


def signal_event_data(signal: Signal) -> dict[str, Any]:
    """The signal as the API shows it, built once per change: the live event sends it and the
    API answers with the same dict (`signal.output`), so a POST serializes its signal once."""
    signal.output = signal_data(signal)
    return signal.output


def _publish(signal: Signal, event_type: str) -> None:
    events.publish_on_commit(events.SIGNALS_GROUP, event_type, signal_event_data(signal))


def signal_create(
    *,
    api_key: APIKey | None,
    symbol: str,
    side: str,
    suggest_qty: Decimal,
    strategy_name: str,
    suggest_price: Decimal | None = None,
    reason: str = "",
    client_signal_id: str | None = None,
) -> tuple[Signal, bool]:
    """Create a PENDING signal, or return the one already made for this idempotency key.

    Returns (signal, created). The same key with a different body raises IdempotencyMismatch.
    """
    fields = {
        "symbol": normalize_symbol(symbol),
        "side": side,
        "suggest_price": suggest_price,
        "suggest_qty": suggest_qty,
        "strategy_name": strategy_name,
        "reason": reason,
    }
    fingerprint = _fingerprint(fields)
    # Insert first: a retry is the rare case, found by the unique constraint rather than by a
    # SELECT on every request.
    signal = Signal(**fields, api_key=api_key, client_signal_id=client_signal_id, request_fingerprint=fingerprint)
    audit_reason = f"posted by API key {api_key.name}" if api_key else "created"
    try:
        _insert(signal, audit_reason)
    except IntegrityError:
        if not client_signal_id:
            raise
        # A retry, or a concurrent request with the same key that won the insert (the unique
        # constraint made us wait for its commit), so its row is there to return.
        existing = Signal.objects.get(api_key=api_key, client_signal_id=client_signal_id)
        bind_log_context(signal_id=existing.pk)
        return _replay(existing, fingerprint), False
    _publish(signal, "signal_created")
    # At INFO a signal is one line, the request's ("POST /api/signals 201"), which carries this
    # id from the context: a second line per signal was ~5% of the intake's CPU (bench/README.md).
    bind_log_context(signal_id=signal.pk)
    logger.debug("signal %s created (%s %s %s)", signal.pk, signal.side, signal.suggest_qty, signal.symbol)
    return signal, True


def _replay(existing: Signal, fingerprint: str) -> Signal:
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyMismatch(
            f"was already used for signal {existing.pk} with a different body; "
            "send a new idempotency key for a new signal",
            field="Idempotency-Key",
        )
    return existing


def signal_decide(*, signal_id: int, status: str, user: User, note: str = "") -> Signal:
    """A staff decision: accept, reject or cancel. Illegal transitions raise IllegalTransition."""
    if status not in DECISIONS:
        allowed = ", ".join(DECISIONS)
        raise InvalidInput(f"must be one of {allowed}; EXECUTED is set by a filled order", field="status")
    bind_log_context(signal_id=signal_id)
    if status == SignalStatus.ACCEPTED:
        # Every path (API, pages, admin) cancels a signal past its deadline before accepting it,
        # so a stale signal is never accepted in the seconds between two expiry runs.
        signal_expire(signal_id=signal_id)
    with transaction.atomic():
        signal = _locked(signal_id)
        if signal.status == status:
            raise IllegalTransition(f"signal {signal.pk} is already {status}", field="status")
        if signal.status not in DECISIONS[status]:
            raise IllegalTransition(
                f"a {signal.status} signal cannot become {status}; only {' or '.join(DECISIONS[status])} signals can",
                field="status",
            )
        if status != SignalStatus.ACCEPTED and signal.orders.in_flight().exists():
            raise IllegalTransition(
                f"signal {signal.pk} has an order in flight; wait for its result before you {status.lower()} it",
                field="status",
            )
        signal.status = status
        signal.decided_by = user
        signal.decided_at = timezone.now()
        signal.decision_note = note
        signal._change_reason = f"{status.lower()} by {user.get_username()}"
        signal.save()
        _publish(signal, "signal_updated")
    logger.info("signal %s %s by user %s", signal.pk, status, user.pk)
    return signal


def signal_mark_executed(*, signal: Signal) -> None:
    """Called inside the order-result transaction, on a signal row already locked."""
    if signal.status == SignalStatus.EXECUTED:
        return
    # An order the venue accepted is a fact: even a signal canceled while it was in flight is executed now.
    signal.status = SignalStatus.EXECUTED
    signal._change_reason = "order accepted by the venue"
    signal.save(update_fields=["status", "updated_at"])
    _publish(signal, "signal_updated")


def _locked(signal_id: int) -> Signal:
    try:
        return Signal.objects.select_for_update().get(pk=signal_id)
    except Signal.DoesNotExist:
        raise NotFound(f"signal {signal_id} does not exist", field="signal_id") from None


def signal_deadline(signal: Signal):
    """When a PENDING signal expires (created_at + SIGNAL_MAX_AGE), or None with expiry off."""
    max_age = settings.SIGNAL_MAX_AGE
    if not max_age or signal.status != SignalStatus.PENDING:
        return None
    return signal.created_at + timedelta(seconds=max_age)


def signal_expire(*, now=None, signal_id: int | None = None) -> list[int]:
    """Cancel PENDING signals older than SIGNAL_MAX_AGE (all of them, or the one given).

    Beat calls it every SIGNAL_EXPIRY_EVERY seconds; the desk calls it for one signal before
    an accept or an order, so a signal past its deadline is never confirmed between two beats.
    Returns the ids it canceled.
    """
    if not settings.SIGNAL_MAX_AGE:
        return []
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.SIGNAL_MAX_AGE)
    stale = Signal.objects.filter(status=SignalStatus.PENDING, created_at__lte=cutoff)
    if signal_id is not None:
        stale = stale.filter(pk=signal_id)
    expired = []
    for pk in stale.order_by("id").values_list("id", flat=True)[:500]:
        with transaction.atomic():
            # Re-checked under the lock: a trader may have accepted or ordered it meanwhile.
            signal = Signal.objects.select_for_update().filter(pk=pk, status=SignalStatus.PENDING).first()
            if signal is None or signal.created_at > cutoff or signal.orders.in_flight().exists():
                continue
            signal.status = SignalStatus.CANCELED
            signal.decided_at = timezone.now()
            signal.decision_note = f"expired: not decided within {settings.SIGNAL_MAX_AGE}s"
            signal._change_reason = "expired"
            signal.save()
            _publish(signal, "signal_updated")
        expired.append(pk)
    if expired:
        logger.info("expired %d stale signal(s): %s", len(expired), expired)
    return expired
