"""The browser venue: a Connector that places orders through an exchange's website."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from executor.browser.host import BrowserNotAllowed, host
from executor.browser.profile import load_profile
from executor.browser.session import BrowserSession
from executor.connectors.base import (
    AccountConfig,
    Balance,
    Connector,
    ErrorCode,
    Instrument,
    OrderResult,
    OrderTicket,
    Position,
)
from executor.health import venue_session_record

logger = logging.getLogger(__name__)


class BrowserConnector(Connector):
    name = "browser"

    def __init__(self, account: AccountConfig | None = None) -> None:
        super().__init__(account)
        self.profile = load_profile(self.account.venue)
        self.key = f"{self.profile.name}:{self.account.key or self.account.label}"

    def _make(self, browsers) -> BrowserSession:
        return BrowserSession(self.account, self.profile, browsers)

    def _call(self, work, timeout: float):
        try:
            return host.call(self.key, self._make, work, timeout=timeout)
        finally:
            self._record_state()

    def _record_state(self) -> None:
        if not self.account.key.isdigit():
            return  # not an ExchangeAccount row (ad-hoc configs in scripts and benches)
        if host.refused:
            return  # not the owner: the browser worker's state stays as it wrote it
        session = host.sessions().get(self.key)
        state, detail = (session.state, session.detail) if session else ("down", "not started in this process")
        if session is not None and session.recorded == (state, detail):
            return  # unchanged since this session last wrote it: no database write on every order
        try:
            venue_session_record(account_id=int(self.account.key), state=state, detail=detail)
            if session is not None:
                session.recorded = (state, detail)
        except Exception:
            logger.exception("could not record the session state of account %s", self.account.key)

    @property
    def _bound(self) -> float:
        # The longest a whole flow can take: retries, a login, the result wait, plus slack.
        t = self.profile.timeouts
        return (self.profile.retries + 2) * (t.navigation + 10 * t.step) + t.result + 30

    def place_order(self, ticket: OrderTicket) -> OrderResult:
        called_at = time.time()  # the step log tells the wait for the browser thread from the rest
        try:
            return self._call(lambda session: session.place(ticket, called_at=called_at), self._bound)
        except BrowserNotAllowed as exc:  # refused before any browser opened: nothing was sent
            return OrderResult.failed(ticket.client_order_id, ErrorCode.CONNECTOR_ERROR, str(exc))

    @property
    def lookup_is_certain(self) -> bool:  # type: ignore[override]
        # Certain only where the venue keeps our client order id; a search by fields is not.
        return self.profile.lookup_is_certain

    @property
    def _lookup_bound(self) -> float:
        # A search by fields may read several lists, each over a few pages.
        pages = sum(page.max_pages for page in self.profile.find_order.pages) or 1
        if self.profile.trades is not None:  # and the trade history, for the fills
            pages += sum(page.max_pages for page in self.profile.trades.pages)
        t = self.profile.timeouts
        return self._bound + pages * (t.navigation + 5 * t.step) + t.cancel

    def get_order(
        self, client_order_id: str, *, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult | None:
        return self._call(lambda session: session.find(client_order_id, ticket, exchange_order_id), self._lookup_bound)

    def cancel_order(
        self, client_order_id: str, *, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult:
        return self._call(
            lambda session: session.cancel(client_order_id, ticket, exchange_order_id), self._lookup_bound * 2
        )

    def instruments(self) -> dict[str, Instrument]:
        """The venue rules of the profile (no browser: the desk checks them at confirm)."""
        return self.profile.instruments()

    def login(self) -> str:
        """Log in (or check the stored login) and return the session state."""

        def work(session: BrowserSession) -> str:
            session.login()
            return session.state

        return self._call(work, self._bound)

    def get_positions(self) -> list[Position]:
        raise NotImplementedError("positions are read through the venue's API connector")

    def get_balances(self) -> list[Balance]:
        raise NotImplementedError("balances are read through the venue's API connector")

    def last_price(self, symbol: str) -> Decimal | None:
        return None
