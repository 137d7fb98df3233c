"""The browser venue: a Connector that places orders through an exchange's website."""

from __future__ import annotations

import logging
from decimal import Decimal

from executor.browser.host import BrowserNotAllowed, host
from executor.browser.profile import load_profile
from executor.browser.session import BrowserSession
from executor.connectors.base import (
    AccountConfig,
    Balance,
    Connector,
    ErrorCode,
    OrderResult,
    OrderTicket,
    Position,
)

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
        from executor.services import venue_session_record

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
        try:
            return self._call(lambda session: session.place(ticket), self._bound)
        except BrowserNotAllowed as exc:  # refused before any browser opened: nothing was sent
            return OrderResult.failed(ticket.client_order_id, ErrorCode.CONNECTOR_ERROR, str(exc))

    def get_order(self, client_order_id: str, *, ticket=None, exchange_order_id: str = "") -> OrderResult | None:
        return self._call(lambda session: session.find(client_order_id), self._bound)

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
