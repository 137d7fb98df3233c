"""Finding an order at the venue, following it, and canceling it (the BrowserSession's lookups).

Two kinds of venue:
- one that keeps our client order id (the paper exchange): its row is ours or absent, so "not
  found" after a grace period means it was never placed (lookup_is_certain);
- one searched by the order's fields (a real site: no id of ours anywhere): a row that matches
  may be an older identical order. Only the matching rows that were not in the snapshot taken
  before the submit click count: exactly one is our order; none is "not there (yet)" (the desk
  waits, then asks a person); several, or no snapshot to compare with, go to a person with
  screenshots of every list searched. Never a guess.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from executor.browser.errors import FlowError
from executor.browser.fills import TradeMatcher, fills_from, with_fills
from executor.browser.locate import locate, read_field
from executor.browser.profile import PageSpec, render
from executor.browser.rows import READ_ROWS_JS, Matcher, Row, identity, rows_from, snapshot_read, snapshot_write
from executor.connectors.base import (
    FINAL_VENUE_STATES,
    ErrorCode,
    OrderResult,
    OrderTicket,
    ResultStatus,
    VenueState,
)

logger = logging.getLogger(__name__)


class Armed:
    """Listens, from just before the submit click, for the form's HTTP response (result.response)."""

    def __init__(self, page, spec: dict | None) -> None:
        self.page, self.spec = page, spec
        self._response = None
        self._body: str | None = None
        self._dropped = False
        if spec is not None:
            page.on("response", self._on_response)
            page.on("requestfailed", self._on_failed)

    def _wanted(self, request) -> bool:
        url = self.spec["url"]
        matched = fnmatch.fnmatchcase(request.url, url) if "*" in url else request.url.endswith(url)
        return matched and request.method == self.spec["method"]

    def _on_response(self, response) -> None:
        if self._response is None and self._wanted(response.request):
            self._response = response

    def _on_failed(self, request) -> None:
        if self._wanted(request):
            self._dropped = True

    def answer(self) -> tuple[int, str] | str | None:
        """(status, body) once the response came, "dropped" if its connection failed, else None."""
        if self._response is not None:
            if self._body is None:  # read once: the page is polled again until its notice shows
                try:
                    self._body = self._response.text()
                except PlaywrightError:
                    self._body = ""
            return self._response.status, self._body
        return "dropped" if self._dropped else None

    def disarm(self) -> None:
        if self.spec is not None:
            for event, handler in (("response", self._on_response), ("requestfailed", self._on_failed)):
                try:
                    self.page.remove_listener(event, handler)
                except Exception:  # the page may be gone
                    logger.debug("removing the %s listener failed", event, exc_info=True)


class LookupMixin:
    # Snapshots: the venue's matching rows just before the submit click.

    def _snapshot(self, step, ticket: OrderTicket, values: dict[str, Any], where: str) -> None:
        taken_at = timezone.now()
        matcher = Matcher(self.profile, ticket, None)
        page, rows = self._read_page(step.page, values, where, required=True)
        identities = [identity(row, self.profile.find_order) for row in rows if matcher.matches(row)]
        snapshot_write(self.name, ticket, taken_at, identities)

    def _list_page(self):
        """The second tab, for order lists: reading them never moves the order page."""
        if self._side_page is None or self._side_page.is_closed():
            self._side_page = self._front = self._context.new_page()  # a new tab opens in front
        return self._side_page

    def _read_page(
        self, spec: PageSpec, values: dict[str, Any], where: str, required: bool = True, page=None, columns_of=None
    ) -> tuple[Any, list[Row]]:
        """The page used and the rows of one page of a list (after its goto and steps). A list
        that is not there at all (a login page, a changed layout) is an error, never "no rows"."""
        if page is None:
            page = self._list_page() if spec.goto else self.page
            if spec.goto:
                page.goto(render(self.profile.urls[spec.goto], values), wait_until="domcontentloaded")
                self._raise_for_state(values, page)
        for index, step in enumerate(spec.steps):
            self._run_step(step, values, f"{where}.steps[{index}]", page=page)
        rows = locate(page, spec.rows, values)
        try:
            # A list rendered by the page's script may arrive a moment after the page.
            rows.first.wait_for(state="attached", timeout=self.profile.timeouts.step * 1000)
        except PlaywrightError:
            self._raise_for_state(values, page)
            if required:
                raise FlowError(
                    ErrorCode.ELEMENT_NOT_FOUND,
                    f"{where}: no order list '{spec.rows.describe()}' at {page.url} (has the page layout changed?)",
                ) from None
            return page, []
        return page, rows_from(rows.evaluate_all(READ_ROWS_JS), columns_of or self.profile.find_order, spec.name)

    def _search(self, matcher: Matcher, values: dict[str, Any], evidence: list[str] | None, enough=None) -> list[Row]:
        """Every matching row over the profile's pages and their pagination, each order once
        (or, with `enough`, the rows up to the first page where enough(found) is true)."""
        find = self.profile.find_order
        found: dict[tuple, Row] = {}
        for number, spec in enumerate(find.pages):
            where = f"find_order.pages[{number}]"
            page, rows = self._read_page(spec, values, where)
            for page_number in range(1, spec.max_pages + 1):
                if evidence is not None:
                    evidence.append(self._evidence(page, values["client_order_id"], f"{spec.name}-{page_number}"))
                for row in rows:
                    if matcher.matches(row):
                        found.setdefault(tuple(identity(row, find)), row)
                if enough is not None and enough(found.values()):
                    return list(found.values())
                # Newest first: a page that reaches back past the submit time ends the search.
                if any(matcher.too_old(row) for row in rows) or spec.next is None or page_number == spec.max_pages:
                    break
                following = locate(page, spec.next, values)
                if not following.count() or not following.first.is_enabled():
                    break
                before = rows
                self._to_front(page)
                following.first.click()
                page.wait_for_load_state("domcontentloaded")
                rows = self._next_rows(spec, values, where, page, before)
        return list(found.values())

    def _next_rows(
        self, spec: PageSpec, values: dict[str, Any], where: str, page, before: list[Row], columns_of=None
    ) -> list[Row]:
        """The rows after a click on "next": wait until they are not the previous page's."""
        deadline = time.monotonic() + self.profile.timeouts.step
        while True:
            _, rows = self._read_page(replace(spec, steps=()), values, where, page=page, columns_of=columns_of)
            if rows != before or time.monotonic() > deadline:
                return rows
            self._pause()

    def _evidence(self, page, client_order_id: str, name: str) -> str:
        directory = Path(settings.BROWSER_ARTIFACTS_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{client_order_id}-{timezone.now():%Y%m%dT%H%M%S}-{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=5000)
        except PlaywrightError:
            return ""
        return str(path)

    def _newest_id(self, values: dict[str, Any]) -> str:
        """result.order_id `from: history`: our order is the newest matching row not in the snapshot."""
        snapshot = snapshot_read(self.name, values["client_order_id"])
        if snapshot is None:
            return ""
        matcher = Matcher(self.profile, snapshot.ticket, snapshot.taken_at)
        _, rows = self._read_page(self.profile.find_order.pages[0], values, "find_order.pages[0]")
        find = self.profile.find_order
        new = [row for row in rows if matcher.matches(row) and tuple(identity(row, find)) not in snapshot.rows]
        return new[0].get("order_id") if len(new) == 1 else ""

    # Looking an order up.

    def find(
        self, client_order_id: str, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult | None:
        for attempt in range(2):
            self.ensure()
            try:
                if self.profile.find_order.by == "client_order_id":
                    found = self._find_by_id(client_order_id, ticket)
                else:
                    found = self._find_by_fields(client_order_id, ticket, exchange_order_id)
                return self._with_trades(found, ticket)
            except FlowError as error:
                if error.code == ErrorCode.SESSION_EXPIRED and attempt == 0:
                    self.login()
                    continue
                raise
        return None

    # The order's fills, from the trade history (profile `trades:`).

    def _with_trades(self, found: OrderResult | None, ticket: OrderTicket | None) -> OrderResult | None:
        """`found` with the fills and fees the trade history lists for it. Only for an order the
        venue shows with something filled; a history that cannot be read leaves the order list's
        totals as they are (logged), and the next refresh reads it again."""
        trades = self.profile.trades
        if trades is None or found is None or found.status != ResultStatus.SUCCESS or not found.filled_qty:
            return found
        matcher = TradeMatcher(self.profile, ticket, found.exchange_order_id)
        if not matcher.usable:
            return found
        values = self._lookup_values(found.client_order_id, ticket, found.exchange_order_id)
        try:
            rows = self._trade_rows(matcher, values, found.filled_qty)
        except FlowError as error:
            if error.code == ErrorCode.SESSION_EXPIRED:
                raise
            logger.warning("order %s: trade history not read (%s)", found.client_order_id, error.message)
            return found
        return with_fills(found, fills_from(rows, trades, self.profile.numbers))

    def _trade_rows(self, matcher: TradeMatcher, values: dict[str, Any], filled: Decimal) -> list[Row]:
        """The order's rows over the history's pages (newest first), up to the filled quantity."""
        trades, numbers = self.profile.trades, self.profile.numbers
        found: list[Row] = []

        def enough() -> bool:
            return sum((numbers.parse(row.get("qty")) or Decimal("0") for row in found), Decimal("0")) >= filled

        for number, spec in enumerate(trades.pages):
            where = f"trades.pages[{number}]"
            page, rows = self._read_page(spec, values, where, required=False, columns_of=trades)
            for page_number in range(1, spec.max_pages + 1):
                found += [row for row in rows if matcher.matches(row)]
                if enough():
                    return found
                if any(matcher.too_old(row) for row in rows) or spec.next is None or page_number == spec.max_pages:
                    break
                following = locate(page, spec.next, values)
                if not following.count() or not following.first.is_enabled():
                    break
                before = rows
                self._to_front(page)
                following.first.click()
                page.wait_for_load_state("domcontentloaded")
                rows = self._next_rows(spec, values, where, page, before, columns_of=trades)
        return found

    def _lookup_values(self, client_order_id: str, ticket: OrderTicket | None, exchange_order_id: str) -> dict:
        if ticket is not None:
            values = self._values(ticket)
        else:
            values = {"base_url": self.base_url, "client_order_id": client_order_id}
        return {**values, "client_order_id": client_order_id, "exchange_order_id": exchange_order_id}

    def _find_by_id(self, client_order_id: str, ticket: OrderTicket | None) -> OrderResult | None:
        find = self.profile.find_order
        values = self._lookup_values(client_order_id, ticket, "")
        page = self._list_page()  # the order page stays as it is for the next order
        page.goto(render(self.profile.urls[find.goto], values), wait_until="domcontentloaded")
        self._raise_for_state(values, page)
        row = locate(page, find.row, values)
        if not row.count():
            return None
        row = row.first
        read = {name: read_field(spec, row, values) if spec.set else "" for name, spec in find.fields.items()}
        return self._result_from(client_order_id, read, ticket)

    def _result_from(self, client_order_id: str, read: dict[str, str], ticket: OrderTicket | None) -> OrderResult:
        """A row's status, filled quantity and average price as the desk's OrderResult."""
        find, numbers = self.profile.find_order, self.profile.numbers
        status = read.get("status", "")
        state = find.venue_state(status)
        if state == VenueState.REJECTED:
            return OrderResult.failed(client_order_id, ErrorCode.REJECTED, f"the venue shows the order {status}")
        if not state:
            return OrderResult.unknown(client_order_id, f"the venue shows the order as {status!r}")
        filled = numbers.parse(read["filled"]) if read.get("filled") else None
        if filled is None and state == VenueState.FILLED and ticket is not None:
            filled = ticket.qty  # FILLED is all of it, whether or not the list has a filled column
        if filled is None and state == VenueState.OPEN:
            filled = Decimal("0")
        avg = numbers.parse(read["avg_price"]) if read.get("avg_price") else None
        return OrderResult(
            ResultStatus.SUCCESS,
            client_order_id,
            exchange_order_id=read.get("order_id", ""),
            venue_state=state,
            filled_qty=filled,
            avg_price=avg,
        )

    def _find_by_fields(
        self, client_order_id: str, ticket: OrderTicket | None, exchange_order_id: str
    ) -> OrderResult | None:
        find = self.profile.find_order
        snapshot = snapshot_read(self.name, client_order_id)
        ticket = ticket or (snapshot.ticket if snapshot else None)
        if ticket is None:
            return OrderResult.unknown(
                client_order_id,
                "the venue is searched by the order's fields and neither the order nor its snapshot was given",
                needs_review=True,
            )
        values = self._lookup_values(client_order_id, ticket, exchange_order_id)
        if exchange_order_id and "order_id" in find.columns:
            # The venue's own id is known (a placed order being followed): its row is certain.
            matcher = Matcher(self.profile, ticket, ticket.submitted_at)

            def ours(rows) -> bool:
                return any(row.get("order_id") == exchange_order_id for row in rows)

            found = self._search(matcher, values, None, ours)
            rows = [row for row in found if row.get("order_id") == exchange_order_id]
            return self._result_from(client_order_id, rows[0].values, ticket) if rows else None
        since = snapshot.taken_at if snapshot else ticket.submitted_at
        matcher = Matcher(self.profile, ticket, since)
        evidence: list[str] = []
        found = self._search(matcher, values, evidence)
        new = [row for row in found if snapshot is None or tuple(identity(row, find)) not in snapshot.rows]
        if snapshot is not None and len(new) == 1:
            return self._result_from(client_order_id, new[0].values, ticket)
        if not new:
            return None  # not at the venue (yet): the desk waits out the grace period, then asks a person
        if snapshot is None:
            why = f"{len(new)} matching order(s) and no snapshot from before the submit to tell ours from others"
        else:
            why = f"{len(new)} new orders match {ticket.side} {ticket.qty} {ticket.symbol}; which one is ours?"
        shots = [path for path in evidence if path]
        result = OrderResult.unknown(client_order_id, f"{why} Evidence: {', '.join(shots)}", needs_review=True)
        return replace(result, screenshot=shots[0] if shots else "")

    # Canceling.

    def cancel(
        self, client_order_id: str, ticket: OrderTicket | None, exchange_order_id: str, relogged: bool = False
    ) -> OrderResult:
        if not self.profile.cancel_order:
            return OrderResult.failed(
                client_order_id, ErrorCode.NOT_SUPPORTED, f"the {self.profile.name} profile has no cancel_order flow"
            )
        values = self._lookup_values(client_order_id, ticket, exchange_order_id)
        desk = self._desk(values) if "desk_side" in values else values
        self.ensure()
        self._page_trusted = False
        try:
            for index, step in enumerate(self.profile.cancel_order):
                if step.applies(desk):
                    self._run_step(step, values, f"cancel_order[{index}]")
        except FlowError as error:
            if error.code == ErrorCode.SESSION_EXPIRED and not relogged:
                self.login()
                return self.cancel(client_order_id, ticket, exchange_order_id, relogged=True)
            # No cancel button: the order may be final already. The venue's record says.
            found = self.find(client_order_id, ticket, exchange_order_id)
            if found is not None and found.is_final:
                return found
            return OrderResult.failed(client_order_id, error.code, error.message)
        deadline = time.monotonic() + self.profile.timeouts.cancel
        found = None
        while time.monotonic() < deadline:
            found = self.find(client_order_id, ticket, exchange_order_id)
            if found is not None and (found.venue_state in FINAL_VENUE_STATES or found.status != ResultStatus.SUCCESS):
                return found
            self._pause()
        return OrderResult.unknown(client_order_id, "the venue did not confirm the cancel in time; look it up")
