"""One logged-in browser per exchange account, driven by the account's exchange profile.

A BrowserSession is only ever used from the browser thread (see host.py): Playwright's sync
API belongs to the thread that started it. The rules it keeps:
- every step has a timeout (the profile's);
- before the submit click a failure may be retried (the whole flow, `retries` times), and an
  expired session is logged in again once;
- after the submit click nothing is retried: an answer that does not come is UNKNOWN and the
  order is looked up at the venue (by its client order id, or by its fields against the
  snapshot of the venue's rows taken before the click: see rows.py and lookup.py);
- the answer is this submit's only: a notice that was on the page before the click, or that
  names an order this session placed before, never counts;
- every failure leaves a screenshot and a Playwright trace.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from executor.browser.chromium import BrowserProcess, chromium_rss
from executor.browser.click import quick_click, quick_fill
from executor.browser.errors import CAPTCHA, DOWN, LOGGED_IN, NEEDS_LOGIN, FlowError
from executor.browser.locate import FRESH_JS, MARK_SEEN_JS, error_text, json_path, locate, read_field
from executor.browser.lock import AccountInUse, AccountLock
from executor.browser.lookup import Armed, LookupMixin
from executor.browser.profile import FieldSpec, Locator, Profile, ProfileError, Step, render
from executor.browser.rows import snapshot_forget
from executor.connectors.base import AccountConfig, ErrorCode, OrderResult, OrderTicket, ResultStatus, VenueState

logger = logging.getLogger(__name__)

# How often the page is read for this submit's answer: a round is one call to the browser, and
# the answer of a page that updates in place comes some tens of milliseconds after the click
# (each round's wait is time the answer may already be there: 4 ms costs a few calls more).
RESULT_POLL_MS = 4
# A 403 at the submit waits this long for the venue's challenge to show before it is a refusal.
CHALLENGE_WAIT_S = 1.5


def _same_page(current: str, target: str) -> bool:
    """Same scheme, host and path; the query string (e.g. a result notice) does not matter."""
    a, b = urlsplit(current), urlsplit(target)
    return (a.scheme, a.netloc, a.path.rstrip("/")) == (b.scheme, b.netloc, b.path.rstrip("/"))


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class BrowserSession(LookupMixin):
    def __init__(self, account: AccountConfig, profile: Profile, browsers: BrowserProcess | None = None) -> None:
        self.account = account
        self.profile = profile
        self.state = DOWN
        self.detail = ""
        self.page: Page | None = None
        # A second tab for reading order lists (snapshots, lookups): the order page stays as it is.
        self._side_page: Page | None = None
        self._front: Page | None = None  # the tab in front (see _to_front)
        # The host's shared Chromium (one per browser thread), or one of its own when used alone
        # (executor_login): either way this session only ever opens a context in it.
        self._browsers = browsers or BrowserProcess()
        self._own_browsers = browsers is None
        self._lock = AccountLock(self.name, account.key or account.label)
        self._browser = None
        self._context = None
        self.orders_placed = 0
        self._baseline_rss: int | None = None
        self.recorded: tuple[str, str] | None = None  # the state last written to the database
        # The page may be reused (goto with reuse) only after a clean success on it.
        self._page_trusted = False
        # Venue ids this session's orders got: a notice naming one of them is not a new order's.
        self._recent_ids: deque[str] = deque(maxlen=200)
        # The current placement's step log: (step, milliseconds), written to one line per order.
        self._timings: list[tuple[str, float]] | None = None
        self._last_totp = ""  # the code of this session's last login (never sent twice)

    @property
    def base_url(self) -> str:
        return (self.account.base_url or self.profile.base_url).rstrip("/")

    @property
    def name(self) -> str:
        return f"{self.profile.name}-{self.account.key or self.account.label}"

    @property
    def storage_path(self) -> Path:
        return private_dir(Path(settings.BROWSER_STATE_DIR)) / f"{self.name}.json"

    def ensure(self) -> Page:
        """Open the account's context once; reuse the same page for every order after that."""
        if self.page is not None and not self.page.is_closed() and self._browser and self._browser.is_connected():
            return self.page
        self.close()
        try:
            self._lock.acquire()
        except AccountInUse as exc:
            self._set_state(DOWN, str(exc))
            raise FlowError(ErrorCode.ACCOUNT_IN_USE, str(exc)) from None
        try:
            self._browser = self._browsers.browser()
        except Exception as exc:
            self._lock.release()
            self._set_state(DOWN, f"the browser did not start: {exc}")
            raise FlowError(ErrorCode.NETWORK, f"the browser did not start: {exc}") from exc
        storage = self.storage_path
        self._context = self._browser.new_context(storage_state=str(storage) if storage.exists() else None)
        self._context.set_default_timeout(self.profile.timeouts.step * 1000)
        self._context.set_default_navigation_timeout(self.profile.timeouts.navigation * 1000)
        self.page = self._front = self._context.new_page()
        self._baseline_rss = None
        self._set_state(LOGGED_IN if storage.exists() else NEEDS_LOGIN, "browser started")
        return self.page

    def close(self) -> None:
        try:
            if self._context is not None:
                self._context.close()
        except Exception:  # the browser may already be gone; closing is best effort
            logger.debug("closing the browser context failed", exc_info=True)
        if self._own_browsers:
            self._browsers.stop()
        self._browser = self._context = self.page = self._side_page = self._front = None
        self._page_trusted = False
        self._lock.release()
        self._set_state(DOWN, "browser closed")

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state, self.detail = state, detail

    # Placing an order.

    def place(self, ticket: OrderTicket, called_at: float | None = None) -> OrderResult:
        listed = self.profile.instruments()
        if listed and ticket.symbol not in listed:
            # The profile's rules list what the venue trades: no browser for a symbol it has not.
            return OrderResult.failed(
                ticket.client_order_id,
                ErrorCode.SYMBOL_NOT_FOUND,
                f"{self.profile.name} does not list {ticket.symbol} (rules.symbols of {self.profile.source})",
            )
        values = self._values(ticket)
        relogged = False
        attempt = 0
        result: OrderResult | None = None
        try:
            self.ensure()
        except FlowError as error:
            return OrderResult.failed(ticket.client_order_id, error.code, error.message)
        self._timings, started_at, started = [], time.time(), time.monotonic()
        self._trace_start()
        try:
            while result is None:
                try:
                    self.ensure()
                    result = self._place_once(ticket, values)
                except FlowError as error:
                    if error.code == ErrorCode.SESSION_EXPIRED and not relogged:
                        relogged = True
                        try:
                            self.login()
                            continue
                        except FlowError as login_error:
                            error = login_error
                    self._page_trusted = False
                    retryable = error.code in (ErrorCode.ELEMENT_NOT_FOUND, ErrorCode.TIMEOUT, ErrorCode.NETWORK)
                    if retryable and attempt < self.profile.retries:
                        attempt += 1
                        logger.info(
                            "order %s: retrying before submit (%s: %s)",
                            ticket.client_order_id,
                            error.code,
                            error.message,
                        )
                        continue
                    result = OrderResult.failed(ticket.client_order_id, error.code, error.message)
        finally:
            result = self._with_artifacts(ticket.client_order_id, result)
        self.orders_placed += 1
        self._page_trusted = result.status == ResultStatus.SUCCESS
        if result.status == ResultStatus.SUCCESS and result.exchange_order_id:
            self._recent_ids.append(result.exchange_order_id)
        if result.status != ResultStatus.UNKNOWN:
            snapshot_forget(self.name, ticket.client_order_id)  # settled: no lookup will need it
        result = self._timed("fills", self._placed_fills, ticket, result)
        self._log_timings(ticket.client_order_id, result, started_at, started, called_at)
        return result

    def _timed(self, name: str, work, *args):
        started = time.monotonic()
        try:
            return work(*args)
        finally:
            if self._timings is not None:
                self._timings.append((name, round((time.monotonic() - started) * 1000, 1)))

    def _log_timings(
        self, client_order_id: str, result: OrderResult, started_at: float, started: float, called_at: float | None
    ) -> None:
        """One line per order with the time of each step (bench/order_placement.py reads them);
        `called_at` is when the connector handed the order to the browser thread."""
        steps, self._timings = self._timings or [], None
        total = round((time.monotonic() - started) * 1000, 1)
        logger.info(
            "order %s: browser flow %s in %.0f ms (%s)",
            client_order_id,
            result.status,
            total,
            ", ".join(f"{name} {ms:.0f}" for name, ms in steps),
            extra={
                "browser_flow_ms": total,
                "browser_flow_started": started_at,
                "browser_called": called_at,
                "browser_steps": steps,
            },
        )

    def _placed_fills(self, ticket: OrderTicket, result: OrderResult) -> OrderResult:
        """An order the submit's answer shows (partly) filled already (a MARKET order) is final or
        nearly so and may never be refreshed: its fills, average price and fees are read now from
        the venue's lists. Only a read after the placement; if it fails, the placement stands."""
        if (
            self.profile.trades is None
            or result.status != ResultStatus.SUCCESS
            or not result.exchange_order_id
            or result.venue_state not in (VenueState.FILLED, VenueState.PARTIALLY_FILLED)
        ):
            return result
        filled = self._fills_of_filled_answer(ticket, result)
        if filled is not None:
            return filled
        try:
            found = self.find(ticket.client_order_id, ticket, result.exchange_order_id)
        except Exception:  # noqa: BLE001 - a failed read never undoes an accepted order
            logger.warning("order %s: fills not read after the placement", ticket.client_order_id, exc_info=True)
            return result
        if found is None or found.status != ResultStatus.SUCCESS or found.exchange_order_id != result.exchange_order_id:
            return result
        return replace(
            result,
            venue_state=found.venue_state or result.venue_state,
            filled_qty=found.filled_qty,
            avg_price=found.avg_price,
            fee=found.fee,
            fee_asset=found.fee_asset,
            fills=found.fills,
        )

    def _fills_of_filled_answer(self, ticket: OrderTicket, result: OrderResult) -> OrderResult | None:
        """An answer saying FILLED, from a venue whose trade history names the order: the order
        list has nothing to add (all of the ticket's quantity is filled), so only the trade
        history is read, one page load instead of two. Its totals come from the fills, and only
        when they add up to the whole quantity; otherwise (None) the order list is read as well."""
        if result.venue_state != VenueState.FILLED or self.profile.trades.by != "order_id":
            return None
        try:
            read = self._with_trades(replace(result, filled_qty=ticket.qty), ticket)
        except Exception:  # noqa: BLE001 - a failed read never undoes an accepted order
            logger.warning("order %s: fills not read after the placement", ticket.client_order_id, exc_info=True)
            return None
        fills = read.fills if read is not None else ()
        if sum((fill.qty for fill in fills), Decimal("0")) != ticket.qty:
            return None
        cost = sum((fill.qty * fill.price for fill in fills), Decimal("0"))
        return replace(read, filled_qty=ticket.qty, avg_price=cost / ticket.qty)

    def _values(self, ticket: OrderTicket) -> dict[str, Any]:
        maps, numbers = self.profile.values, self.profile.numbers
        base, _, quote = ticket.symbol.partition("/")
        side = maps.get("side", {}).get(ticket.side, ticket.side)
        return {
            "base_url": self.base_url,
            "symbol": self.profile.venue_symbol(ticket.symbol),
            "base": base,
            "quote": quote,
            "side": side,
            "side_lower": side.lower(),
            "desk_side": ticket.side,
            "order_type": maps.get("order_type", {}).get(ticket.order_type, ticket.order_type),
            "desk_order_type": ticket.order_type,
            "qty": numbers.format(ticket.qty),
            "price": numbers.format(ticket.price) if ticket.price is not None else "",
            "client_order_id": ticket.client_order_id,
            "exchange_order_id": "",
        }

    @staticmethod
    def _desk(values: dict[str, Any]) -> dict[str, Any]:
        """What `when` compares: the desk's own side and type (BUY, LIMIT), not the venue's words."""
        return {**values, "side": values["desk_side"], "order_type": values["desk_order_type"]}

    def _place_once(self, ticket: OrderTicket, values: dict[str, Any]) -> OrderResult:
        desk = self._desk(values)
        for index, step in enumerate(self.profile.place_order):
            if not step.applies(desk):
                continue
            where = f"place_order[{index}]"
            if step.action == "snapshot":
                self._snapshot(step, ticket, values, where)
                continue
            if step.submit:
                armed = self._timed("arm", self._arm_result, values)
                try:
                    self._run_step(step, values, where=where)
                except FlowError:
                    armed.disarm()
                    raise
                return self._timed("answer", self._read_result, values, armed)
            self._run_step(step, values, where=where)
        raise AssertionError("a profile always has a submit step")  # parse_profile guarantees it

    def _run_step(self, step: Step, values: dict[str, Any], where: str, page: Page | None = None) -> None:
        started = time.monotonic()
        try:
            self._do_step(step, values, where, page or self.page)
        finally:
            elapsed = (time.monotonic() - started) * 1000
            logger.debug("%s %s %s: %.0f ms", where, step.action, step.target, elapsed)
            if self._timings is not None:
                self._timings.append((f"{where} {step.action} {step.target}", round(elapsed, 1)))

    def _do_step(self, step: Step, values: dict[str, Any], where: str, page: Page) -> None:
        try:
            if step.action == "goto":
                url = render(self.profile.urls[step.target], values)
                if step.reuse and self._page_trusted and _same_page(page.url, url):
                    return  # already there (the last order's page): a person would not reload
                response = page.goto(url, wait_until="domcontentloaded")
                self._raise_for_state(values, page)
                if response is not None and response.status == 404 and "{symbol}" in self.profile.urls[step.target]:
                    # The venue has no page for this symbol: a fast typed answer, not a layout error.
                    raise FlowError(ErrorCode.SYMBOL_NOT_FOUND, f"the venue does not list {values.get('symbol')}")
                return
            self._to_front(page)
            target = locate(page, step.locator, values)
            if step.action in ("fill", "type"):
                text = render(step.value, values)
                if step.action == "fill":
                    if not (settings.BROWSER_QUICK_STEPS and quick_fill(page, target, text)):
                        target.fill(text)
                else:
                    # For inputs that format as you type (thousands separators): key by key.
                    target.fill("")
                    target.press_sequentially(text)
                self._check_filled(step, target, text, where)
            elif step.action == "click":
                # A click never waits for the navigation it starts: the next step waits for
                # what it needs, and after the submit click _read_result's timeout decides
                # SUCCESS, FAILED or UNKNOWN. (A slow page must not fail a click that happened.)
                if step.dispatch:
                    # The element's own click event: for a control a floating notice covers
                    # (a person would click it just the same, beside the notice).
                    target.dispatch_event("click")
                elif not (settings.BROWSER_QUICK_STEPS and quick_click(page, target)):
                    # Playwright's own click: it waits until the element can take the click.
                    target.click(no_wait_after=True)
            elif step.action == "check":
                target.check()
            elif step.action == "select":
                target.select_option(render(step.value, values))
            elif step.action == "press":
                target.press(render(step.value, values))
            elif step.action == "wait":
                # A wait usually follows a click that loads a page: it gets the page-load budget.
                target.first.wait_for(state="visible", timeout=self.profile.timeouts.navigation * 1000)
        except PlaywrightTimeout as exc:
            self._raise_for_state(values, page)
            if step.action == "goto":
                raise FlowError(ErrorCode.TIMEOUT, f"{where}: the page did not load in time") from None
            waited = self.profile.timeouts.navigation if step.action == "wait" else self.profile.timeouts.step
            covered = [line.strip() for line in str(exc).splitlines() if "intercepts pointer events" in line]
            why = f"it is covered: {covered[-1]}" if covered else "has the page layout changed?"
            raise FlowError(
                ErrorCode.ELEMENT_NOT_FOUND,
                f"{where}: {step.action} '{self._describe(step, values)}' found nothing within {waited:g}s ({why})",
            ) from None
        except PlaywrightError as exc:
            if "net::" in str(exc):
                raise FlowError(ErrorCode.NETWORK, f"{where}: {str(exc).splitlines()[0]}") from None
            if not page.is_closed() and self._browser and self._browser.is_connected():
                raise FlowError(ErrorCode.ELEMENT_NOT_FOUND, f"{where}: {str(exc).splitlines()[0]}") from None
            self._set_state(DOWN, str(exc).splitlines()[0])
            raise FlowError(ErrorCode.NETWORK, f"{where}: the browser went away") from None

    def _to_front(self, page: Page) -> None:
        """Chromium draws only the tab in front: behind it, a page's animation frames come a second
        or two apart, and Playwright's clicks wait for two of them (the element must be stable):
        1.5 s per click on the order page once the second tab had read a list. So a page is
        brought to the front before it is acted on; reading a list needs no frames, and the
        switch is made once, not per step."""
        if self._front is not page:
            page.bring_to_front()
            self._front = page

    def _check_filled(self, step: Step, target, text: str, where: str) -> None:
        """A quantity or price must read back as typed: a site that cuts or rounds what it is
        given (0.00015 becomes 0.0001) would otherwise place an order nobody asked for."""
        if not any(name in step.value for name in ("{qty}", "{price}")):
            return
        wanted, shown = self.profile.numbers.parse(text), self.profile.numbers.parse(target.input_value())
        if wanted != shown:
            raise FlowError(
                ErrorCode.REJECTED,
                f"{where}: the venue's field took {shown} for {wanted} (more decimals than it allows?); "
                "nothing was sent",
            )

    @staticmethod
    def _describe(step: Step, values: dict[str, Any]) -> str:
        try:
            return render(step.target, values)
        except Exception:
            return step.target

    def _current_state(self, values: dict[str, Any] | None = None, page: Page | None = None) -> str | None:
        page = page or self.page
        for state in ("captcha", "logged_out", "symbol_not_found"):
            locator = self.profile.states.get(state)
            try:
                if locator is not None and locate(page, locator, values or {}).count():
                    return state
            except PlaywrightError:
                return None
            except ProfileError:
                continue  # a placeholder this flow has no value for (e.g. {symbol} while logging in)
        return None

    def _raise_for_state(self, values: dict[str, Any] | None = None, page: Page | None = None) -> None:
        page = page or self.page
        state = self._current_state(values, page)
        if state == "captcha":
            self._set_state(CAPTCHA, f"a challenge page at {page.url}")
            raise FlowError(ErrorCode.CAPTCHA_REQUIRED, "the venue shows a captcha; a person must solve it")
        if state == "logged_out":
            self._set_state(NEEDS_LOGIN, "the venue logged the session out")
            raise FlowError(ErrorCode.SESSION_EXPIRED, "the venue session has expired")
        if state == "symbol_not_found":
            symbol = (values or {}).get("symbol", "")
            raise FlowError(ErrorCode.SYMBOL_NOT_FOUND, f"the venue does not list {symbol} ({page.url})")

    # The result of this submit, and only this one.

    def _arm_result(self, values: dict[str, Any]) -> Armed:
        """Before the submit click: mark the notices already on the page (they are not this
        order's answer) and start listening for the form's HTTP response."""
        spec = self.profile.result
        notices = locate(self.page, spec["success"], values).or_(locate(self.page, spec["error"], values))
        try:
            notices.evaluate_all(MARK_SEEN_JS)  # both kinds in one call
        except PlaywrightError:
            logger.debug("could not mark the notices", exc_info=True)
        return Armed(self.page, spec.get("response"))

    def _read_result(self, values: dict[str, Any], armed: Armed) -> OrderResult:
        try:
            return self._wait_for_result(values, armed)
        finally:
            armed.disarm()

    def _wait_for_result(self, values: dict[str, Any], armed: Armed) -> OrderResult:
        spec = self.profile.result
        client_order_id = values["client_order_id"]
        success, error = locate(self.page, spec["success"], values), locate(self.page, spec["error"], values)
        notices = success.or_(error)
        deadline = time.monotonic() + self.profile.timeouts.result
        while time.monotonic() < deadline:
            try:
                answer = armed.answer()
                if answer == "dropped":
                    return OrderResult.unknown(client_order_id, "the connection dropped after the submit click")
                if answer is not None:
                    decided = self._answered(client_order_id, answer, values)
                    if decided is not None:
                        return decided
                if armed.spec is not None and answer is None:
                    # Tied to the response: nothing on the page decides before it comes (an
                    # inline "network error" is the page's guess, not the venue's answer).
                    self._pause(RESULT_POLL_MS)
                    continue
                if armed.spec is None and not notices.evaluate_all(FRESH_JS):
                    # No new notice of either kind yet: one call per round while waiting.
                    self._pause(RESULT_POLL_MS)
                    continue
                fresh = error.evaluate_all(FRESH_JS)
                if fresh:
                    element = error.nth(fresh[0])
                    code = self._text(spec.get("error_code"), values)
                    message = self._text(spec.get("error_message"), values) or element.inner_text().strip()
                    if code in spec["duplicate_codes"]:
                        return OrderResult.unknown(client_order_id, f"the venue already has this order ({code})")
                    return self._rejected(client_order_id, f"{code}: {message}".strip(": "), values)
                if armed.spec is None or (answer is not None and answer[0] < 300):
                    found = self._success(success, values, answer)
                    if found is not None:
                        self._set_state(LOGGED_IN)
                        return OrderResult(
                            ResultStatus.SUCCESS,
                            client_order_id,
                            exchange_order_id=found,
                            venue_state=self._answered_state(answer),
                        )
            except PlaywrightError as exc:
                logger.debug("result not readable yet: %s", str(exc).splitlines()[0])  # e.g. mid-navigation
            self._pause(RESULT_POLL_MS)
        logger.debug("no result at %s; success locator %s", self.page.url, spec["success"].describe())
        return OrderResult.unknown(
            client_order_id, f"no result on the page within {self.profile.timeouts.result:g}s after the submit click"
        )

    def _answered(self, client_order_id: str, answer: tuple[int, str], values: dict[str, Any]) -> OrderResult | None:
        """What the submit's HTTP response alone says (None: read the page)."""
        status, body = answer
        if status == 401:
            # The venue refused the session before looking at the order: nothing was placed,
            # so logging in again and placing it is safe (the place loop does it once).
            self._set_state(NEEDS_LOGIN, "the venue refused the session at the submit")
            raise FlowError(ErrorCode.SESSION_EXPIRED, "the venue session has expired (HTTP 401 at the submit)")
        if status == 403 and self._challenge_shown(values):
            self._raise_for_state(values)
        if 400 <= status < 500:
            return self._rejected(client_order_id, error_text(body), values)
        if status >= 500:
            # A gateway timeout or a crash: the venue may have stored the order. Look it up.
            return OrderResult.unknown(client_order_id, f"the venue answered HTTP {status} after the submit click")
        accepted = self.profile.result["response"].get("accepted")
        if accepted and json_path(body, accepted).lower() in ("false", "0", ""):
            return self._rejected(client_order_id, error_text(body), values)
        return None

    def _challenge_shown(self, values: dict[str, Any]) -> bool:
        """Whether a 403 answer is the venue's challenge: a page's script may draw it a moment
        after the response (the response event comes first), so look for up to CHALLENGE_WAIT_S."""
        deadline = time.monotonic() + CHALLENGE_WAIT_S
        while True:
            if self._current_state(values) == "captcha":
                return True
            if time.monotonic() > deadline:
                return False
            self._pause()

    def _answered_state(self, answer: tuple[int, str] | str | None) -> str:
        """The venue state the submit's JSON answer gives (result.state), else '' (not known)."""
        spec = self.profile.result.get("state")
        if spec is None or not isinstance(answer, tuple):
            return ""
        status = json_path(answer[1], spec["json"])
        return spec["map"].get(status) or spec["map"].get(status.strip().casefold(), "")

    def _pause(self, ms: int = 20) -> None:
        # Playwright delivers page events (the response listener) while a call is in progress.
        try:
            self.page.wait_for_timeout(ms)
        except PlaywrightError:
            time.sleep(ms / 1000)

    def _rejected(self, client_order_id: str, reason: str, values: dict[str, Any]) -> OrderResult:
        self._set_state(LOGGED_IN)
        return OrderResult.failed(client_order_id, ErrorCode.REJECTED, reason or "the venue refused the order")

    def _success(self, success, values: dict[str, Any], answer: tuple[int, str] | None) -> str | None:
        """The venue id of this submit's success, or None while there is none (yet)."""
        spec: FieldSpec = self.profile.result["order_id"]
        if spec.json and answer is not None:
            found = json_path(answer[1], spec.json)
            if found:
                return found
        for index in success.evaluate_all(FRESH_JS):
            element = success.nth(index)
            if spec.json:
                return ""  # the response had no id: an accepted order without one
            order_id = read_field(spec, self.page, values, element=element) if spec.set and not spec.source else ""
            if order_id and order_id in self._recent_ids:
                # A notice shown again for an earlier order (a stale toast): not this submit.
                element.evaluate("el => { el.__tradedeskSeen = true; }")
                logger.warning("order %s: ignored a notice of earlier order %s", values["client_order_id"], order_id)
                continue
            if spec.source == "history":
                return self._newest_id(values) or ""
            return order_id
        return None

    def _text(self, locator: Locator | None, values: dict[str, Any]) -> str:
        if locator is None:
            return ""
        found = locate(self.page, locator, values)
        return found.first.inner_text().strip() if found.count() else ""

    # Logging in.

    def login(self) -> None:
        secrets = self.account.secrets
        if not secrets.get("web_username") or not secrets.get("web_password"):
            self._set_state(NEEDS_LOGIN, "no web login stored for this account")
            raise FlowError(
                ErrorCode.SESSION_EXPIRED,
                f"logged out, and the account has no web username/password; "
                f"run `manage.py executor_login {self.account.label}` to log in by hand",
            )
        values = {
            "base_url": self.base_url,
            "username": secrets["web_username"],
            "password": secrets["web_password"],
            "totp": self._fresh_totp(secrets["totp_secret"]) if secrets.get("totp_secret") else "",
        }
        self.ensure()
        for index, step in enumerate(self.profile.login):
            if "{totp}" in step.value and not values["totp"]:
                raise FlowError(ErrorCode.SESSION_EXPIRED, "the venue asks for a TOTP code and no secret is stored")
            self._run_step_for_login(step, values, f"login[{index}]")
        self.save_login()
        logger.info("logged in to %s as account %s", self.profile.name, self.account.label)

    def _fresh_totp(self, secret: str) -> str:
        """The current code, or the next one when the current one was used by this session's last
        login: venues refuse a code twice (replay protection), so a login again within the same
        30 s (an order that met an ended session right after a login) waits for the next code."""
        totp = pyotp.TOTP(secret)
        code = totp.now()
        if code == self._last_totp:
            wait = totp.interval - time.time() % totp.interval + 0.2
            logger.info("waiting %.0f s for the next TOTP code (the current one was used)", wait)
            time.sleep(wait)
            code = totp.now()
        self._last_totp = code
        return code

    def _run_step_for_login(self, step: Step, values: dict[str, Any], where: str) -> None:
        try:
            self._run_step(step, values, where)
        except FlowError as error:
            if error.code == ErrorCode.SESSION_EXPIRED and step.action == "goto":
                return  # the login page itself is "logged out": that is where we want to be
            if error.code == ErrorCode.CAPTCHA_REQUIRED:
                raise
            raise FlowError(ErrorCode.SESSION_EXPIRED, f"login failed at {error.message}") from None

    def save_login(self) -> None:
        path = self.storage_path
        self._context.storage_state(path=str(path))
        os.chmod(path, 0o600)
        self._set_state(LOGGED_IN, "logged in")

    # Finding and canceling orders: see lookup.py.

    # Evidence and upkeep.

    def _trace_start(self) -> None:
        if settings.BROWSER_TRACE and self._context is not None:
            try:
                self._context.tracing.start(screenshots=True, snapshots=True)
            except PlaywrightError:
                logger.debug("tracing did not start", exc_info=True)

    def _with_artifacts(self, client_order_id: str, result: OrderResult | None) -> OrderResult:
        if result is None:  # an exception escaped: the caller treats the outcome as unknown
            result = OrderResult.unknown(client_order_id, "the browser flow stopped unexpectedly")
        keep = result.status != ResultStatus.SUCCESS
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        directory = private_dir(Path(settings.BROWSER_ARTIFACTS_DIR))
        screenshot = trace = ""
        if keep and self.page is not None and not self.page.is_closed():
            path = directory / f"{client_order_id}-{stamp}.png"
            try:
                self.page.screenshot(path=str(path), full_page=True, timeout=5000)
                screenshot = str(path)
            except PlaywrightError:
                logger.warning("no screenshot for %s", client_order_id)
        if settings.BROWSER_TRACE and self._context is not None:
            path = directory / f"{client_order_id}-{stamp}-trace.zip"
            try:
                if keep:
                    self._context.tracing.stop(path=str(path))
                    trace = str(path)
                else:
                    self._context.tracing.stop()
            except PlaywrightError:
                logger.debug("tracing did not stop cleanly", exc_info=True)
        if not keep:
            return result
        return replace(result, screenshot=screenshot or result.screenshot, trace=trace)

    def browser_rss(self) -> int:
        return chromium_rss()

    def recycle_if_grown(self) -> bool:
        """Called when idle: restart the browser if its memory grew past the allowed share."""
        if self._browser is None or self.orders_placed < 10:
            return False
        rss = self.browser_rss()
        if self._baseline_rss is None:
            self._baseline_rss = rss
            return False
        if rss > self._baseline_rss * (1 + settings.BROWSER_RECYCLE_GROWTH):
            logger.info(
                "recycling the browser for %s: %d MB > baseline %d MB",
                self.account.label,
                rss >> 20,
                self._baseline_rss >> 20,
            )
            self.close()
            self.ensure()
            return True
        return False
