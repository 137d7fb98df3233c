"""The follower's status (seed 000 dashboard): settings, master vs own positions, the expected
quantity per symbol, drift, unresolved errors, the last sync. A read: positions come live from
the venue, falling back to what the engine saw at its last check when the venue cannot answer."""

import logging
from decimal import Decimal

from django.conf import settings

from following import selectors, sizing, venue, watch
from following.models import FollowSettings, SizingMode
from tradedesk.formatting import decimal_text

logger = logging.getLogger(__name__)
ZERO = Decimal("0")


def _read(account) -> tuple[dict[str, Decimal] | None, str]:
    try:
        return {p.symbol: p.qty for p in venue.read_positions(account)}, ""
    except Exception as exc:
        logger.warning("positions of account %s unavailable: %s", account.pk, exc)
        return None, f"positions of {account.label} unavailable: {exc}"


def _text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return decimal_text(value)


def follow_status(*, row: FollowSettings, live: bool = True) -> dict:
    """Everything the dashboard and GET status show, for one follower's settings."""
    last = row.last_sync_detail.get("symbols", {}) if isinstance(row.last_sync_detail, dict) else {}
    master, own, problems = None, None, []
    if live:
        master, problem = _read(row.master_credential)
        problems += [problem] if problem else []
        own, problem = _read(row.follower_credential)
        problems += [problem] if problem else []
    source = "live" if master is not None and own is not None else "last_sync"
    if master is None:
        master = {symbol: Decimal(line["master"]) for symbol, line in last.items()}
    if own is None:
        # After the last sync's fills when it recorded them, else as it found them.
        after = row.last_sync_detail.get("positions") if isinstance(row.last_sync_detail, dict) else None
        own = (
            {s: Decimal(q) for s, q in after.items()}
            if after is not None
            else {symbol: Decimal(line["own"]) for symbol, line in last.items()}
        )
    if selectors.follow_shares(rows=[row]).get(row.pk) is not None:
        # An account followed with several masters: this follow's own part is the engine's.
        own = {symbol: Decimal(line["own"]) for symbol, line in last.items() if "own" in line}
    instruments = venue.instruments_for(row.follower_credential) if live else {}
    # Symbols the follower holds that this master never traded are not drift: the sync never
    # acts on them. They are listed apart.
    symbols = sorted({s for s, q in master.items() if q} | set(last))
    not_copied = sorted(s for s, q in own.items() if q and s not in symbols)
    positions = []
    for symbol in symbols:
        instrument = instruments.get(symbol)
        lot = instrument.lot_size if instrument else settings.FOLLOW_DEFAULT_LOT_SIZE
        master_qty, own_qty = master.get(symbol, ZERO), own.get(symbol, ZERO)
        line = last.get(symbol, {})
        baseline = Decimal((row.join_baseline or {}).get(symbol, "0"))
        if row.sizing_mode == SizingMode.RATIO and row.ended_at is None:
            raw = sizing.effective_master(master_qty, baseline) * row.follow_ratio
            expected = sizing.round_target(raw, lot)
        else:
            # Equity and fixed-notional targets depend on the engine's prices: its last target.
            raw = Decimal(line.get("target_unrounded", line.get("target", "0")))
            expected = Decimal(line.get("target", "0"))
        positions.append(
            {
                "symbol": symbol,
                "master_qty": _text(master_qty),
                "expected_qty": _text(expected),
                "target_unrounded": _text(raw),
                "rounds_to_zero": bool(raw) and not expected,
                "own_qty": _text(own_qty),
                "drift": _text(own_qty - expected),
                "in_sync": own_qty == expected,
                "last_action": line.get("action", ""),
                "lot_size": _text(lot),
            }
        )
    return {
        "settings": row,
        "positions": positions,
        "positions_source": source,
        "not_copied": [{"symbol": symbol, "own_qty": _text(own[symbol])} for symbol in not_copied],
        "problems": problems,
        "unresolved_errors": selectors.unresolved_error_count(user_id=row.user_id, settings_id=row.pk),
        "last_synced_at": row.last_synced_at,
        "last_checked_at": row.last_checked_at,
        "last_sync_outcome": row.last_sync_outcome,
        "last_cycle": selectors.sync_run_last(),
        "master_trades_pushed": watch.stream_live(row.master_credential_id),
        "poll_every": watch.polled_every(row.master_credential_id) or settings.FOLLOW_SYNC_EVERY,
    }
