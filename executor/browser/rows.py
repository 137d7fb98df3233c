"""Order rows read off a venue's pages: columns, normalisation, matching, snapshots.

A venue that does not keep our client order id is searched by the order's own fields (side,
symbol, quantity, price, type, from the submit time on). Such a search can only be trusted by
difference: the matching rows that exist *after* a lost answer and did not exist just *before*
the submit click. The "before" is the snapshot, written to disk before the click, so a task
redelivered after a crash still has it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from executor.browser.profile import FindOrder, Numbers, Profile
from executor.connectors.base import OrderTicket

# Reads every row's cells and its table's header texts in one round trip to the page.
READ_ROWS_JS = """rows => rows.map(row => {
  const table = row.closest('table');
  const headers = table ? [...table.querySelectorAll('thead th')].map(h => h.innerText.trim()) : [];
  const cells = [...row.querySelectorAll(':scope > td, :scope > th')].map(c => c.innerText.trim());
  return {headers, cells};
})"""


@dataclass(frozen=True)
class Row:
    page: str
    values: dict[str, str]  # field -> the cell's text as the venue wrote it

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def rows_from(raw: list[dict], find: FindOrder, page: str) -> list[Row]:
    """Cells to fields by the profile's columns (a header's text, or a 0-based index)."""
    rows = []
    for item in raw:
        cells, headers = item["cells"], [h.casefold() for h in item["headers"]]
        values = {}
        for name, column in find.columns.items():
            index = column if isinstance(column, int) else _header_index(headers, column)
            if index is not None and index < len(cells):
                values[name] = cells[index]
        # An "empty" row ("You have no open orders.") fills none of the matched columns.
        if any(values.get(name) for name in find.match):
            rows.append(Row(page, values))
    return rows


def _header_index(headers: list[str], name: str) -> int | None:
    wanted = name.casefold()
    for index, header in enumerate(headers):
        if header == wanted:
            return index
    for index, header in enumerate(headers):
        if header.startswith(wanted):  # "Time (UTC)" is the time column
            return index
    return None


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", (text or "").casefold())


class Matcher:
    """Does a row show this order? Compares in the venue's spellings and numbers."""

    def __init__(self, profile: Profile, ticket: OrderTicket, since: datetime | None) -> None:
        find = profile.find_order
        self.find = find
        self.numbers: Numbers = profile.numbers
        self.ticket = ticket
        self.since = since - timedelta(seconds=find.time_slack) if since else None
        venue_symbol = profile.venue_symbol(ticket.symbol)
        self.symbols = {_norm(venue_symbol), _norm(ticket.symbol)}
        self.sides = self._spellings(profile, "side", ticket.side)
        self.types = self._spellings(profile, "order_type", ticket.order_type)

    def _spellings(self, profile: Profile, name: str, desk_value: str) -> set[str]:
        spellings = {_norm(desk_value)}
        for maps in (profile.values, self.find.values):
            if desk_value in maps.get(name, {}):
                spellings.add(_norm(maps[name][desk_value]))
        return spellings

    def time_of(self, row: Row) -> datetime | None:
        text = row.get("time")
        if not text:
            return None
        try:
            return datetime.strptime(text, self.find.time_format).replace(tzinfo=ZoneInfo(self.find.time_zone))
        except ValueError:
            return None

    def too_old(self, row: Row) -> bool:
        when = self.time_of(row)
        return bool(self.since and when and when < self.since)

    def matches(self, row: Row) -> bool:
        checks = {
            "side": lambda: _norm(row.get("side")) in self.sides,
            "symbol": lambda: _norm(row.get("symbol")) in self.symbols,
            "order_type": lambda: _norm(row.get("order_type")) in self.types,
            "qty": lambda: self.numbers.parse(row.get("qty")) == self.ticket.qty,
            # A MARKET order has no price of its own ("—", "Market"): nothing to compare.
            "price": lambda: (
                self.ticket.order_type != "LIMIT" or self.numbers.parse(row.get("price")) == self.ticket.price
            ),
        }
        return all(checks[name]() for name in self.find.match) and not self.too_old(row)


def identity(row: Row, find: FindOrder) -> list[str]:
    return [row.get(name) for name in find.identity]


def snapshot_path(session_name: str, client_order_id: str) -> Path:
    directory = Path(settings.BROWSER_STATE_DIR) / "snapshots" / session_name
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    safe = re.sub(r"[^A-Za-z0-9._:@-]", "_", client_order_id)
    return directory / f"{safe}.json"


def snapshot_write(session_name: str, ticket: OrderTicket, taken_at: datetime, identities: list[list[str]]) -> None:
    """Persisted (and synced) before the submit click: a redelivered task after a crash reads it."""
    path = snapshot_path(session_name, ticket.client_order_id)
    data = {
        "taken_at": taken_at.isoformat(),
        "ticket": {
            "client_order_id": ticket.client_order_id,
            "symbol": ticket.symbol,
            "side": ticket.side,
            "order_type": ticket.order_type,
            "qty": str(ticket.qty),
            "price": str(ticket.price) if ticket.price is not None else None,
        },
        "rows": identities,
    }
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    ticket: OrderTicket
    rows: list[tuple[str, ...]]


def snapshot_read(session_name: str, client_order_id: str) -> Snapshot | None:
    path = snapshot_path(session_name, client_order_id)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    raw = data["ticket"]
    ticket = OrderTicket(
        client_order_id=raw["client_order_id"],
        symbol=raw["symbol"],
        side=raw["side"],
        order_type=raw["order_type"],
        qty=Decimal(raw["qty"]),
        price=Decimal(raw["price"]) if raw["price"] is not None else None,
        submitted_at=datetime.fromisoformat(data["taken_at"]),
    )
    return Snapshot(datetime.fromisoformat(data["taken_at"]), ticket, [tuple(row) for row in data["rows"]])


def snapshot_forget(session_name: str, client_order_id: str) -> None:
    snapshot_path(session_name, client_order_id).unlink(missing_ok=True)
