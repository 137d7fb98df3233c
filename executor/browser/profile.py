"""Exchange profiles: the declarative description of a venue's website (YAML).

See executor/profiles/paper.yaml and pro.yaml for the shipped examples and the README
("Exchange profile format") for every key. A profile is checked when loaded: a mistake is a
ProfileError naming the file and the key at fault, never a browser failure at the first order.
"""

from __future__ import annotations

import functools
import os
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.conf import settings

from executor.connectors.base import Instrument, VenueState
from tradedesk.formatting import decimal_text

ACTIONS = ("goto", "fill", "type", "click", "check", "select", "press", "wait", "snapshot")
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "profiles"
# How an element is found: CSS, or Playwright's role/label/text/placeholder/title locators.
LOCATOR_KINDS = ("css", "role", "label", "text", "placeholder", "title")
STEP_KEYS = {"value", "when", "submit", "reuse", "url", "selector", "within", "nth", "name", "exact", "has_text"}
STEP_KEYS |= {"dispatch"}
COLUMN_FIELDS = ("order_id", "time", "symbol", "side", "order_type", "price", "qty", "filled", "avg_price", "status")
MATCH_FIELDS = ("side", "symbol", "qty", "price", "order_type")
TRADE_FIELDS = ("trade_id", "order_id", "time", "symbol", "side", "price", "qty", "fee", "fee_asset")
TRADE_MATCH_FIELDS = ("side", "symbol")
VENUE_STATES = {state.value for state in VenueState}


class ProfileError(ValueError):
    """A profile file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Locator:
    """One way to find elements: kind is css/role/label/text/placeholder/title; `value` is the
    CSS selector, the ARIA role, or the label/text to look for; `name` the role's accessible
    name. Every string may hold {placeholders}."""

    kind: str = "css"
    value: str = ""
    name: str = ""
    exact: bool = False
    has_text: str = ""
    nth: int | None = None  # 0 first, -1 last; None = all matches
    within: Locator | None = None

    def describe(self) -> str:
        inner = f"{self.within.describe()} >> " if self.within else ""
        if self.kind == "css":
            return f"{inner}{self.value}"
        name = f" name={self.name!r}" if self.name else ""
        return f"{inner}{self.kind}={self.value!r}{name}"

    @property
    def empty(self) -> bool:
        return not self.value


@dataclass(frozen=True)
class Step:
    action: str
    target: str  # for goto: the name of a URL; for the others: the locator's description
    value: str = ""
    when: dict[str, str] = field(default_factory=dict)
    submit: bool = False
    reuse: bool = False  # goto only: stay on the page if the browser is already there
    locator: Locator = field(default_factory=Locator)
    page: Any = None  # snapshot only: the PageSpec of the list to read
    dispatch: bool = False  # click only: fire the element's click event (it may be under a notice)

    def applies(self, values: dict[str, str]) -> bool:
        """`when` compares the desk's own values (BUY, LIMIT), not the venue's spellings."""
        return all(str(values.get(key, "")) == str(expected) for key, expected in self.when.items())


@dataclass(frozen=True)
class FieldSpec:
    """Where to read a value: an element's text or attribute, optionally through a pattern
    (a regular expression; its first group, or the whole match)."""

    locator: Locator = field(default_factory=Locator)
    attribute: str = ""
    pattern: str = ""
    json: str = ""  # a key path in the submit's JSON response ("order.id")
    source: str = ""  # "history": the newest row of find_order's first page

    @property
    def selector(self) -> str:  # kept for profiles and callers of the first format
        return self.locator.value if self.locator.kind == "css" else self.locator.describe()

    @property
    def set(self) -> bool:
        return bool(not self.locator.empty or self.attribute or self.pattern or self.json or self.source)


@dataclass(frozen=True)
class PageSpec:
    """One list of orders to search: where it is, how to reach it, its rows, its pagination."""

    name: str
    goto: str = ""  # a URL name; empty = the page the browser is on
    steps: tuple[Step, ...] = ()
    rows: Locator = field(default_factory=Locator)
    next: Locator | None = None
    max_pages: int = 1


@dataclass(frozen=True)
class Numbers:
    decimal: str = "."
    thousands: str = ","
    group_input: bool = False  # type quantities and prices with thousands separators

    def format(self, value: Decimal) -> str:
        text = decimal_text(value)
        whole, _, fraction = text.partition(".")
        if self.group_input:
            sign = "-" if whole.startswith("-") else ""
            digits = whole.lstrip("-")
            whole = sign + f"{int(digits):,}".replace(",", self.thousands)
        return f"{whole}{self.decimal}{fraction}" if fraction else whole

    def parse(self, text: str) -> Decimal | None:
        """'$50.25', '1,234.5', '66.000,00 €' (with decimal ','), '—' -> Decimal or None."""
        cleaned = (text or "").strip().replace(self.thousands, "").replace("\u00a0", "").replace(" ", "")
        if self.decimal != ".":
            cleaned = cleaned.replace(self.decimal, ".")
        match = re.search(r"-?\d+(?:\.\d+)?", cleaned)
        if not match:
            return None
        try:
            return Decimal(match.group(0))
        except InvalidOperation:
            return None


@dataclass(frozen=True)
class FindOrder:
    by: str  # "client_order_id" (the venue keeps our id) or "fields" (side, symbol, qty...)
    # by client_order_id (the first format): a page, a row locator and fields read in the row
    goto: str = ""
    row: Locator = field(default_factory=Locator)
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # by fields: pages of rows, read as columns
    pages: tuple[PageSpec, ...] = ()
    columns: dict[str, int | str] = field(default_factory=dict)
    match: tuple[str, ...] = MATCH_FIELDS
    identity: tuple[str, ...] = ()
    time_format: str = "%Y-%m-%d %H:%M:%S"
    time_zone: str = "UTC"
    time_slack: float = 120.0
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    status_map: dict[str, str] = field(default_factory=dict)

    def venue_state(self, status: str) -> str:
        """The VenueState for a status as the venue writes it ('' when the profile does not say)."""
        mapped = self.status_map.get(status) or self.status_map.get(status.strip().casefold(), "")
        # The first format mapped to SUCCESS/FAILED: an accepted order, or a refused one.
        return {"SUCCESS": VenueState.OPEN, "FAILED": VenueState.REJECTED}.get(mapped, mapped)


@dataclass(frozen=True)
class Trades:
    """The venue's trade history (fills): its pages, columns by header, and how a row is tied to
    an order (its venue order id, or when the venue shows none, the order's side/symbol and time)."""

    pages: tuple[PageSpec, ...]
    columns: dict[str, int | str]
    # rows_from keeps a row only when one of these is filled (an "empty table" row fills none)
    match: tuple[str, ...] = ("price", "qty")
    by: str = "order_id"  # or "fields": side, symbol (when a column) and time from the submit on
    time_format: str = "%Y-%m-%d %H:%M:%S"
    time_zone: str = "UTC"
    time_slack: float = 120.0


@dataclass(frozen=True)
class Rules:
    symbols: tuple[str, ...] = ()
    qty_step: Decimal | None = None
    min_qty: Decimal | None = None
    price_tick: Decimal | None = None
    min_notional: Decimal | None = None
    per_symbol: dict[str, dict[str, Decimal]] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeouts:
    step: float = 5.0
    navigation: float = 15.0
    result: float = 10.0
    cancel: float = 10.0


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str
    symbol_format: str
    timeouts: Timeouts
    retries: int
    urls: dict[str, str]
    states: dict[str, Locator]
    login: tuple[Step, ...]
    place_order: tuple[Step, ...]
    result: dict[str, Any]
    find_order: FindOrder
    cancel_order: tuple[Step, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    numbers: Numbers = field(default_factory=Numbers)
    symbols: dict[str, str] = field(default_factory=dict)
    rules: Rules | None = None
    source: str = ""
    trades: Trades | None = None  # the trade history: fills with fees (None: the order list's totals only)

    def venue_symbol(self, symbol: str) -> str:
        if symbol in self.symbols:
            return self.symbols[symbol]
        base, _, quote = symbol.partition("/")
        return self.symbol_format.format(base=base, quote=quote)

    @property
    def lookup_is_certain(self) -> bool:
        return self.find_order.by == "client_order_id"

    def instruments(self) -> dict[str, Instrument]:
        """The venue rules written in the profile, by desk symbol (empty: no rules)."""
        if self.rules is None:
            return {}
        rules = self.rules
        found = {}
        for symbol in rules.symbols:
            own = rules.per_symbol.get(symbol, {})
            step = own.get("qty_step", rules.qty_step) or Decimal("0")
            base, _, quote = symbol.partition("/")
            found[symbol] = Instrument(
                symbol=symbol,
                lot_size=step,
                min_qty=own.get("min_qty", rules.min_qty) or step,
                tick_size=own.get("price_tick", rules.price_tick),
                min_notional=own.get("min_notional", rules.min_notional),
                base=base,
                quote=quote,
            )
        return found


def render(template: str, values: dict[str, Any]) -> str:
    """Fill {placeholders}; a placeholder with no value is a profile error, not a blank."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [name for name in names if name not in values]
    if missing:
        raise ProfileError(f"unknown placeholder(s) {missing} in {template!r}")
    return template.format_map(values)


_ENV_RE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str) -> str:
    """${NAME} and ${NAME:-default} in a profile value come from the environment."""
    return _ENV_RE.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text)


def load_profile(name: str) -> Profile:
    for directory in [*map(Path, settings.EXCHANGE_PROFILE_DIRS), BUILTIN_DIR]:
        path = directory / f"{name}.yaml"
        if path.exists():
            text = path.read_text()
            # Parsed once per text and environment (a connector is made per order; parsing the
            # YAML each time cost ~10 ms an order): an edited file or variable is parsed again.
            variables = tuple(os.environ.get(match.group(1)) for match in _ENV_RE.finditer(text))
            return _parsed(text, str(path), variables)
    raise ProfileError(f"no exchange profile named {name!r} (looked in EXCHANGE_PROFILE_DIRS and {BUILTIN_DIR})")


# Placeholders a place_order/cancel_order step may use (find_order adds none of its own).
ORDER_PLACEHOLDERS = (
    "base_url",
    "symbol",
    "base",
    "quote",
    "side",
    "side_lower",
    "desk_side",
    "order_type",
    "desk_order_type",
    "qty",
    "price",
    "client_order_id",
    "exchange_order_id",
)
LOGIN_PLACEHOLDERS = ("base_url", "username", "password", "totp")


@functools.lru_cache(maxsize=64)
def _parsed(text: str, source: str, variables: tuple) -> Profile:
    return parse_profile(text, source=source)


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping of keys")

    def need(key: str, kind: type) -> Any:
        if not isinstance(data.get(key), kind):
            raise ProfileError(f"{source}: '{key}' is required and must be a {kind.__name__}")
        return data[key]

    urls = {str(k): str(v) for k, v in need("urls", dict).items()}
    find = _find_order(need("find_order", dict), urls, f"{source}: find_order")
    place = _steps(need("place_order", list), f"{source}: place_order", urls, find)
    if sum(step.submit for step in place) != 1:
        raise ProfileError(f"{source}: place_order needs exactly one step marked 'submit: true'")
    submit_at = next(i for i, step in enumerate(place) if step.submit)
    if find.by == "fields" and not any(step.action == "snapshot" for step in place[:submit_at]):
        raise ProfileError(
            f"{source}: place_order needs a 'snapshot' step before the submit step when find_order is "
            "by fields (the venue's matching rows before the click tell a new order from an old one)"
        )
    cancel = _steps(data.get("cancel_order") or [], f"{source}: cancel_order", urls, find)
    if cancel and sum(step.submit for step in cancel) != 1:
        raise ProfileError(f"{source}: cancel_order needs exactly one step marked 'submit: true'")
    values = _value_maps(data.get("values"), f"{source}: values")
    _check_placeholders(place, ORDER_PLACEHOLDERS, f"{source}: place_order")
    _check_placeholders(cancel, ORDER_PLACEHOLDERS, f"{source}: cancel_order")
    login = _steps(data.get("login") or [], f"{source}: login", urls, find)
    _check_placeholders(login, LOGIN_PLACEHOLDERS, f"{source}: login")
    try:
        timeouts = Timeouts(**{str(k): float(v) for k, v in (data.get("timeouts") or {}).items()})
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{source}: timeouts: {exc} (keys: step, navigation, result, cancel; seconds)") from None
    symbol_format = str(data.get("symbol_format", "{base}/{quote}"))
    try:
        symbol_format.format(base="BTC", quote="USDT")
    except (KeyError, IndexError, ValueError) as exc:
        raise ProfileError(f"{source}: symbol_format: only {{base}} and {{quote}} may be used ({exc})") from None
    return Profile(
        name=need("name", str),
        base_url=expand_env(str(data.get("base_url", ""))).rstrip("/"),
        symbol_format=symbol_format,
        timeouts=timeouts,
        retries=_int(data.get("retries", 1), f"{source}: retries"),
        urls=urls,
        states={str(k): _locator(v, f"{source}: states.{k}") for k, v in (data.get("states") or {}).items()},
        login=login,
        place_order=place,
        result=_result(need("result", dict), f"{source}: result"),
        find_order=find,
        cancel_order=cancel,
        values=values,
        numbers=_numbers(data.get("numbers"), f"{source}: numbers"),
        symbols={str(k): str(v) for k, v in (data.get("symbols") or {}).items()},
        rules=_rules(data.get("rules"), f"{source}: rules"),
        source=source,
        trades=_trades(data.get("trades"), urls, f"{source}: trades"),
    )


def _int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ProfileError(f"{where}: must be a whole number, got {value!r}") from None


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ProfileError(f"{where}: must be a number, got {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise ProfileError(f"{where}: must be above 0, got {value!r}")
    return number


def _locator(spec: Any, where: str) -> Locator:
    """A string is CSS; a mapping names one kind (css/role/label/text/placeholder/title)."""
    if isinstance(spec, str):
        if not spec.strip():
            raise ProfileError(f"{where}: an empty selector")
        return Locator("css", spec)
    if not isinstance(spec, dict):
        raise ProfileError(f"{where}: a locator is a CSS selector or a mapping like {{role: button, name: Buy}}")
    spec = {("css" if k == "selector" else k): v for k, v in spec.items()}
    kinds = [kind for kind in LOCATOR_KINDS if spec.get(kind) not in (None, "")]
    if len(kinds) != 1:
        raise ProfileError(f"{where}: name exactly one of {', '.join(LOCATOR_KINDS)} (got {kinds or 'none'})")
    nth = spec.get("nth")
    if nth is not None:
        nth = {"first": 0, "last": -1}.get(nth, nth)
        nth = _int(nth, f"{where}.nth")
    within = _locator(spec["within"], f"{where}.within") if spec.get("within") is not None else None
    if spec.get("name") and kinds[0] != "role":
        raise ProfileError(f"{where}: 'name' goes with 'role' (the accessible name of a button, link, option...)")
    return Locator(
        kind=kinds[0],
        value=str(spec[kinds[0]]),
        name=str(spec.get("name", "")),
        exact=bool(spec.get("exact", False)),
        has_text=str(spec.get("has_text", "")),
        nth=nth,
        within=within,
    )


def _field(spec: Any, where: str) -> FieldSpec:
    if spec is None:
        return FieldSpec()
    if isinstance(spec, str):
        return FieldSpec(locator=_locator(spec, where))
    if not isinstance(spec, dict):
        raise ProfileError(f"{where}: a field is a locator or {{selector, attribute, pattern}}")
    rest = {k: v for k, v in spec.items() if k not in ("attribute", "pattern", "json", "from")}
    locator = _locator(rest, where) if any(rest.get(kind) for kind in (*LOCATOR_KINDS, "selector")) else Locator()
    pattern = str(spec.get("pattern", ""))
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ProfileError(f"{where}.pattern: not a regular expression: {exc}") from None
    source = str(spec.get("from", ""))
    if source not in ("", "history"):
        raise ProfileError(f"{where}.from: only 'history' (the newest row of find_order's first page)")
    return FieldSpec(
        locator=locator,
        attribute=str(spec.get("attribute", "")),
        pattern=pattern,
        json=str(spec.get("json", "")),
        source=source,
    )


def _steps(raw: Any, where: str, urls: dict[str, str], find: FindOrder | None) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        raise ProfileError(f"{where}: a list of steps")
    steps = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise ProfileError(f"{at}: a step is one action, e.g. {{click: '#submit'}}")
        action, spec = next(iter(item.items()))
        if action not in ACTIONS:
            raise ProfileError(f"{at}: unknown action '{action}'; use one of {', '.join(ACTIONS)}")
        if action == "snapshot":
            if not isinstance(spec, dict):
                raise ProfileError(f"{at}: snapshot is a list of orders read on the current page: {{rows: ...}}")
            steps.append(Step(action, "snapshot", page=_page(spec, f"{at}.snapshot", urls, find)))
            continue
        if isinstance(spec, str):
            spec = {"url": spec} if action == "goto" else {"css": spec}
        if not isinstance(spec, dict):
            raise ProfileError(f"{at}: '{action}' needs a locator")
        unknown = set(spec) - STEP_KEYS - set(LOCATOR_KINDS)
        if unknown:
            raise ProfileError(f"{at}: unknown key(s) {sorted(unknown)}")
        if action == "goto":
            target = str(spec.get("url") or spec.get("css") or spec.get("selector") or "")
            if target not in urls:
                raise ProfileError(f"{at}: goes to '{target}', which is not in urls")
            steps.append(Step(action, target, reuse=bool(spec.get("reuse", False)), when=_when(spec, at)))
            continue
        locator_spec = {k: v for k, v in spec.items() if k in (*LOCATOR_KINDS, "selector", "within", "nth", "name")}
        locator_spec.update({k: spec[k] for k in ("exact", "has_text") if k in spec})
        locator = _locator(locator_spec, at)
        if action in ("fill", "type", "select", "press") and "value" not in spec:
            raise ProfileError(f"{at}: '{action}' needs a value")
        steps.append(
            Step(
                action=action,
                target=locator.describe(),
                value=str(spec.get("value", "")),
                when=_when(spec, at),
                submit=bool(spec.get("submit", False)),
                locator=locator,
                dispatch=bool(spec.get("dispatch", False)),
            )
        )
    return tuple(steps)


def _when(spec: dict, where: str) -> dict[str, str]:
    when = spec.get("when") or {}
    if not isinstance(when, dict):
        raise ProfileError(f"{where}.when: a mapping like {{order_type: LIMIT}}")
    return {str(k): str(v) for k, v in when.items()}


def _check_placeholders(steps: tuple[Step, ...], allowed: tuple[str, ...], where: str) -> None:
    for index, step in enumerate(steps):
        texts = [step.value, step.locator.value, step.locator.name, step.locator.has_text]
        inner = step.locator.within
        while inner is not None:
            texts += [inner.value, inner.name, inner.has_text]
            inner = inner.within
        for text in texts:
            try:
                names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
            except ValueError as exc:
                raise ProfileError(f"{where}[{index}]: {exc} in {text!r}") from None
            unknown = sorted(set(names) - set(allowed))
            if unknown:
                raise ProfileError(
                    f"{where}[{index}]: unknown placeholder(s) {unknown} in {text!r}; use {', '.join(allowed)}"
                )


def _value_maps(raw: Any, where: str) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a mapping per field, e.g. order_type: {{MARKET: MKT, LIMIT: LMT}}")
    maps = {}
    for name, mapping in raw.items():
        if name not in ("side", "order_type"):
            raise ProfileError(f"{where}.{name}: only side and order_type have value maps")
        if not isinstance(mapping, dict):
            raise ProfileError(f"{where}.{name}: a mapping from the desk's value to the venue's")
        allowed = {"side": {"BUY", "SELL"}, "order_type": {"MARKET", "LIMIT"}}[name]
        unknown = set(map(str, mapping)) - allowed
        if unknown:
            raise ProfileError(f"{where}.{name}: unknown desk value(s) {sorted(unknown)}; use {sorted(allowed)}")
        maps[name] = {str(k): str(v) for k, v in mapping.items()}
    return maps


def _numbers(raw: Any, where: str) -> Numbers:
    if raw is None:
        return Numbers()
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: {{decimal: '.', thousands: ','}}")
    unknown = set(raw) - {"decimal", "thousands", "group_input"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {sorted(unknown)}")
    numbers = Numbers(
        decimal=str(raw.get("decimal", ".")),
        thousands=str(raw.get("thousands", ",")),
        group_input=bool(raw.get("group_input", False)),
    )
    if len(numbers.decimal) != 1 or numbers.decimal == numbers.thousands:
        raise ProfileError(f"{where}: decimal is one character, different from thousands")
    return numbers


def _rules(raw: Any, where: str) -> Rules | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("symbols"), list) or not raw["symbols"]:
        raise ProfileError(f"{where}.symbols: the list of desk symbols the venue trades (e.g. [BTC/USDT])")
    number_keys = ("qty_step", "min_qty", "price_tick", "min_notional")
    unknown = set(raw) - {"symbols", "per_symbol", *number_keys}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {sorted(unknown)}")
    symbols = tuple(str(s) for s in raw["symbols"])
    per_symbol = {}
    for symbol, own in (raw.get("per_symbol") or {}).items():
        if str(symbol) not in symbols:
            raise ProfileError(f"{where}.per_symbol.{symbol}: not in rules.symbols")
        if not isinstance(own, dict) or set(own) - set(number_keys):
            raise ProfileError(f"{where}.per_symbol.{symbol}: a mapping of {', '.join(number_keys)}")
        per_symbol[str(symbol)] = {k: _decimal(v, f"{where}.per_symbol.{symbol}.{k}") for k, v in own.items()}
    return Rules(
        symbols=symbols,
        per_symbol=per_symbol,
        **{k: _decimal(raw[k], f"{where}.{k}") if raw.get(k) is not None else None for k in number_keys},
    )


def _result(raw: dict, where: str) -> dict[str, Any]:
    for key in ("success", "error"):
        if raw.get(key) is None:
            raise ProfileError(f"{where}.{key} (a locator) is required")
    response = raw.get("response")
    if response is not None:
        if not isinstance(response, dict) or not response.get("url"):
            raise ProfileError(f"{where}.response: {{url: '**/api/order', method: POST}}")
        response = {
            "url": str(response["url"]),
            "method": str(response.get("method", "POST")).upper(),
            # A key of the JSON answer that is true only for an accepted order ("success").
            "accepted": str(response.get("accepted", "")),
        }
    order_id = _field(raw.get("order_id"), f"{where}.order_id")
    if order_id.json and response is None:
        raise ProfileError(f"{where}.order_id.json reads the submit's response: set result.response too")
    state = raw.get("state")
    if state is not None:
        # The accepted order's venue state in the submit's JSON answer (a MARKET order FILLED at once).
        if not isinstance(state, dict) or not state.get("json") or response is None:
            raise ProfileError(f"{where}.state: {{json: data.status, map: {{NEW: OPEN}}}} with result.response")
        state = {"json": str(state["json"]), "map": _status_map(state.get("map"), f"{where}.state.map")}
    return {
        "success": _locator(raw["success"], f"{where}.success"),
        "error": _locator(raw["error"], f"{where}.error"),
        "error_code": _locator(raw["error_code"], f"{where}.error_code") if raw.get("error_code") else None,
        "error_message": _locator(raw["error_message"], f"{where}.error_message") if raw.get("error_message") else None,
        "order_id": order_id,
        "state": state,
        "response": response,
        "duplicate_codes": [str(code) for code in raw.get("duplicate_codes", [])],
    }


def _page(raw: Any, where: str, urls: dict[str, str], find: FindOrder | None) -> PageSpec:
    if not isinstance(raw, dict) or raw.get("rows") is None:
        raise ProfileError(f"{where}: needs 'rows' (a locator of the order rows)")
    goto = str(raw.get("goto", ""))
    if goto and goto not in urls:
        raise ProfileError(f"{where}.goto: '{goto}' is not in urls")
    unknown = set(raw) - {"name", "goto", "steps", "rows", "next", "max_pages"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {sorted(unknown)}")
    return PageSpec(
        name=str(raw.get("name", goto or "snapshot")),
        goto=goto,
        steps=_steps(raw.get("steps") or [], f"{where}.steps", urls, None),
        rows=_locator(raw["rows"], f"{where}.rows"),
        next=_locator(raw["next"], f"{where}.next") if raw.get("next") is not None else None,
        max_pages=_int(raw.get("max_pages", 1), f"{where}.max_pages"),
    )


def _status_map(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw or {}, dict):
        raise ProfileError(f"{where}: a mapping from the venue's status text to {', '.join(sorted(VENUE_STATES))}")
    mapped = {}
    for status, state in (raw or {}).items():
        if str(state) not in VENUE_STATES | {"SUCCESS", "FAILED"}:
            raise ProfileError(f"{where}.{status}: '{state}' is not one of {', '.join(sorted(VENUE_STATES))}")
        mapped[str(status)] = str(state)
        mapped.setdefault(str(status).strip().casefold(), str(state))
    return mapped


def _find_order(raw: dict, urls: dict[str, str], where: str) -> FindOrder:
    by = str(raw.get("by", "client_order_id"))
    status_map = _status_map(raw.get("status_map"), f"{where}.status_map")
    if by == "client_order_id":
        for key in ("goto", "row", "status"):
            if key not in raw:
                raise ProfileError(f"{where}.{key} is required")
        if str(raw["goto"]) not in urls:
            raise ProfileError(f"{where}.goto: '{raw['goto']}' is not in urls")
        fields = {"order_id": _field(raw.get("order_id"), f"{where}.order_id")}
        fields["status"] = _field(raw["status"], f"{where}.status")
        for name in ("filled", "avg_price"):
            if raw.get(name) is not None:
                fields[name] = _field(raw[name], f"{where}.{name}")
        return FindOrder(
            by=by, goto=str(raw["goto"]), row=_locator(raw["row"], f"{where}.row"), fields=fields, status_map=status_map
        )
    if by != "fields":
        raise ProfileError(f"{where}.by: 'client_order_id' or 'fields', got {by!r}")
    pages = raw.get("pages")
    if not isinstance(pages, list) or not pages:
        raise ProfileError(f"{where}.pages: the order lists to search (open orders, history...), at least one")
    columns = raw.get("columns")
    if not isinstance(columns, dict):
        raise ProfileError(f"{where}.columns: where each field is in a row, e.g. {{side: Side, qty: Amount}}")
    unknown = set(columns) - set(COLUMN_FIELDS)
    if unknown:
        raise ProfileError(f"{where}.columns: unknown field(s) {sorted(unknown)}; use {', '.join(COLUMN_FIELDS)}")
    match = tuple(raw.get("match") or MATCH_FIELDS)
    missing = [name for name in (*match, "status") if name not in columns]
    if missing:
        raise ProfileError(f"{where}.columns: {missing} must be mapped (matched or read)")
    if set(match) - set(MATCH_FIELDS):
        raise ProfileError(f"{where}.match: only {', '.join(MATCH_FIELDS)}")
    identity = tuple(raw.get("identity") or (["order_id"] if "order_id" in columns else [*match, "time"]))
    if set(identity) - set(columns):
        raise ProfileError(f"{where}.identity: {sorted(set(identity) - set(columns))} are not in columns")
    time_zone = str(raw.get("time_zone", "UTC"))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(f"{where}.time_zone: unknown time zone {time_zone!r} (e.g. UTC, Europe/Berlin)") from None
    return FindOrder(
        by=by,
        pages=tuple(_page(page, f"{where}.pages[{i}]", urls, None) for i, page in enumerate(pages)),
        columns={str(k): (v if isinstance(v, int) else str(v)) for k, v in columns.items()},
        match=match,
        identity=identity,
        time_format=str(raw.get("time_format", "%Y-%m-%d %H:%M:%S")),
        time_zone=time_zone,
        time_slack=float(raw.get("time_slack", 120)),
        values=_value_maps(raw.get("values"), f"{where}.values"),
        status_map=status_map,
    )


def _time_zone(raw: Any, where: str) -> str:
    time_zone = str(raw or "UTC")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(f"{where}: unknown time zone {time_zone!r} (e.g. UTC, Europe/Berlin)") from None
    return time_zone


def _trades(raw: Any, urls: dict[str, str], where: str) -> Trades | None:
    """`trades:` the venue's trade history, read for an order's fills and fees."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a mapping with pages and columns (see the README, Exchange profile format)")
    unknown = set(raw) - {"pages", "columns", "time_format", "time_zone", "time_slack"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {sorted(unknown)}")
    pages = raw.get("pages")
    if not isinstance(pages, list) or not pages:
        raise ProfileError(f"{where}.pages: the trade history lists to read, at least one")
    columns = raw.get("columns")
    if not isinstance(columns, dict):
        raise ProfileError(f"{where}.columns: where each field is in a row, e.g. {{price: Price, qty: Qty, fee: Fee}}")
    unknown = set(map(str, columns)) - set(TRADE_FIELDS)
    if unknown:
        raise ProfileError(f"{where}.columns: unknown field(s) {sorted(unknown)}; use {', '.join(TRADE_FIELDS)}")
    missing = [name for name in ("price", "qty") if name not in columns]
    by = "order_id" if "order_id" in columns else "fields"
    if by == "fields":
        missing += [name for name in ("side", "time") if name not in columns]
    if missing:
        raise ProfileError(
            f"{where}.columns: {missing} must be mapped (without an order_id column, a fill is tied to "
            "its order by side and time)"
        )
    for name, column in columns.items():
        if not isinstance(column, (int, str)) or isinstance(column, bool) or column == "":
            raise ProfileError(f"{where}.columns.{name}: a header text or a 0-based column index")
    time_format = str(raw.get("time_format", "%Y-%m-%d %H:%M:%S"))
    try:
        slack = float(raw.get("time_slack", 120))
    except (TypeError, ValueError):
        raise ProfileError(f"{where}.time_slack: seconds, got {raw.get('time_slack')!r}") from None
    return Trades(
        pages=tuple(_page(page, f"{where}.pages[{i}]", urls, None) for i, page in enumerate(pages)),
        columns={str(k): v for k, v in columns.items()},
        by=by,
        time_format=time_format,
        time_zone=_time_zone(raw.get("time_zone"), f"{where}.time_zone"),
        time_slack=slack,
    )
