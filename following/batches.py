"""What a master's sync hands to other tasks: its followers in batches, with the master positions
(and prices) it read, and the mark of its last full sync that beat's polls compare against.

The engine (following/sync.py) calls these in the middle of a cycle; the tasks are queued by
name (Celery signatures), so neither this module nor the engine imports following.tasks, which
imports them.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from celery import signature
from django.conf import settings
from django.core.cache import cache

from executor.connectors.base import Position
from executor.models import ExchangeAccount
from executor.selectors import task_queue_for
from following import venue

BATCH_TASK = "following.tasks.sync_follower_batch"
SEEN = "following:master-seen:{}"


@dataclass
class Batch:
    """Followers handed from a master's sync to another task, with the master positions read."""

    settings_ids: set[int]
    masters: dict[int, dict] = field(default_factory=dict)  # account id -> {"positions", "fingerprint"}

    def as_payload(self) -> dict:
        return {"settings_ids": sorted(self.settings_ids), "masters": {str(k): v for k, v in self.masters.items()}}

    @classmethod
    def from_payload(cls, payload: dict) -> "Batch":
        masters = {int(key): value for key, value in payload["masters"].items()}
        return cls(settings_ids=set(payload["settings_ids"]), masters=masters)

    def snapshots(self) -> dict:
        accounts = ExchangeAccount.objects.in_bulk(list(self.masters))
        found = {}
        for account_id, value in self.masters.items():
            positions = {
                symbol: Position(symbol, Decimal(qty), Decimal(avg) if avg is not None else None)
                for symbol, qty, avg in value["positions"]
            }
            found[account_id] = venue.MasterSnapshot(
                positions=positions, fingerprint=value["fingerprint"], account=accounts.get(account_id)
            )
            found[account_id].know_prices(value.get("prices") or {})
        return found


def _snapshot_payload(snapshot) -> dict:
    positions = [
        [p.symbol, str(p.qty), str(p.avg_price) if p.avg_price is not None else None]
        for p in snapshot.positions.values()
    ]
    # The master's prices already read (or known from its fill): no batch reads them again.
    return {"positions": positions, "fingerprint": snapshot.fingerprint, "prices": snapshot.known_prices()}


def hand_out(groups: list, *, snapshots: dict, now: datetime) -> tuple[list, int]:
    """Keep the first FOLLOW_SYNC_BATCH groups (follower accounts) for this task; queue the rest
    in batches of that size. Returns the groups kept and the number of batches queued.

    A change is split over at least FOLLOW_SYNC_SPLIT tasks (the worker processes), however few
    the followers: one process runs one thread's Python at a time, so ten followers' orders in
    one task queue behind each other's CPU while another process idles (the copy latency)."""
    size = max(1, settings.FOLLOW_SYNC_BATCH)
    size = min(size, -(-len(groups) // max(1, settings.FOLLOW_SYNC_SPLIT)))
    if len(groups) <= size:
        return groups, 0
    chunks = [groups[start : start + size] for start in range(size, len(groups), size)]
    for snapshot in snapshots.values():
        if isinstance(snapshot, venue.MasterSnapshot):
            for symbol in snapshot.positions:
                snapshot.price(symbol)  # read once here, handed to every batch
    for chunk in chunks:
        rows = [row for group in chunk for row, _ in group]
        masters = {row.master_credential_id for row in rows}
        batch = Batch(
            settings_ids={row.pk for row in rows},
            masters={m: _snapshot_payload(snapshots[m]) for m in masters if not isinstance(snapshots[m], Exception)},
        )
        signature(BATCH_TASK).apply_async((batch.as_payload(), now.isoformat()), queue=task_queue_for(None))
    return groups[:size], len(chunks)


def master_seen(master_id: int, snapshot) -> None:
    """A full sync of the master's followers finished with these positions and no problem."""
    cache.set(SEEN.format(master_id), {"fingerprint": snapshot.fingerprint, "at": time.time()}, timeout=600)


def master_last_seen(master_id: int) -> dict | None:
    """The last full sync's {"fingerprint", "at"} (master_seen), or None."""
    return cache.get(SEEN.format(master_id))
