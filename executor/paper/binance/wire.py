"""How a Binance request is read and answered: parameters, API key, signature, timestamp, weight.

Parameters come from the query string and the form body; a name in both takes the query's value
(Binance: "If a parameter sent in both the query string and request body, the query string
parameter will be used"). A SIGNED call needs X-MBX-APIKEY, `timestamp` and `signature` =
hex HMAC-SHA256, keyed with the secret, of the query string followed directly by the body, both
as sent and without the signature itself. Checked in this order: API key (-2014 malformed or
missing, -2015 unknown), mandatory signature and timestamp (-1102), recvWindow (-1131 over
60000), signature (-1022), timestamp (-1021: 1000 ms or more ahead of the server, or older than
recvWindow, default 5000).
"""

import hashlib
import hmac
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from executor.paper import guards, selectors, services
from executor.paper.binance import errors
from executor.paper.binance.errors import BinanceError
from executor.paper.models import FaultKind, PaperAccount, PaperFault

API_KEY_RE = re.compile(r"^[A-Za-z0-9]{64}$")
SIGNATURE_RE = re.compile(r"^[0-9a-fA-F]{64}$")
LONG_RE = re.compile(r"^[0-9]{1,19}$")
LONG_LEGAL = "^[0-9]{1,19}$"
LONG_MAX = 2**63 - 1  # Binance's LONG, and what PostgreSQL's bigint ids hold
DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
DECIMAL_LEGAL = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
MAX_DECIMALS = 8
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000


@dataclass
class Call:
    """One request: its parameters and, for a signed one, the account and its active faults."""

    params: dict[str, str]
    account: PaperAccount | None = None
    faults: dict[str, PaperFault] = field(default_factory=dict)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.params.get(name, "")
        if value == "":
            if required:
                raise errors.mandatory(name)
            return None
        return value

    def long(self, name: str, *, required: bool = False) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if not LONG_RE.match(value) or int(value) > LONG_MAX:
            raise errors.illegal_chars(name, LONG_LEGAL)
        return int(value)

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if not DECIMAL_RE.match(value):
            raise errors.illegal_chars(name, DECIMAL_LEGAL)
        number = Decimal(value)
        if -number.normalize().as_tuple().exponent > MAX_DECIMALS:
            raise BinanceError(-1111, f"Parameter '{name}' has too much precision.")
        return number


def now_ms() -> int:
    return int(time.time() * 1000)


def _pairs(raw: str) -> dict[str, str]:
    pairs = parse_qsl(raw, keep_blank_values=True)
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise errors.too_many_parameters()
    return dict(pairs)


def _without_signature(raw: str) -> str:
    return "&".join(piece for piece in raw.split("&") if not piece.startswith("signature="))


def _raw_body(request: HttpRequest) -> str:
    if request.method == "GET":
        return ""
    try:
        body = request.body
    except RequestDataTooBig:
        raise BinanceError(-1000, "The request body is too large.", 413) from None
    return body.decode("utf-8", errors="replace")


def read_params(request: HttpRequest) -> dict[str, str]:
    query = request.META.get("QUERY_STRING", "")
    return {**_pairs(_raw_body(request)), **_pairs(query)}


def authenticate(request: HttpRequest, call: Call) -> None:
    payload = _without_signature(request.META.get("QUERY_STRING", "")) + _without_signature(_raw_body(request))
    verify_signed(call, api_key=request.headers.get("X-MBX-APIKEY", ""), payload=payload)


def verify_signed(call: Call, *, api_key: str, payload: str) -> None:
    """A SIGNED request's checks, in Binance's order, for the REST API and the WebSocket API alike:
    `payload` is what the signature signs (REST: query then body; WebSocket: the sorted params).
    Sets the call's account."""
    if not API_KEY_RE.match(api_key):
        raise errors.bad_api_key_format()
    key = selectors.binance_key_get(api_key=api_key)
    if key is None:
        raise errors.rejected_api_key()
    signature = call.text("signature", required=True)
    timestamp = call.long("timestamp", required=True)
    recv_window = call.long("recvWindow")
    recv_window = DEFAULT_RECV_WINDOW if recv_window is None else recv_window
    if recv_window > MAX_RECV_WINDOW:
        raise errors.bad_recv_window()
    expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not (SIGNATURE_RE.match(signature) and hmac.compare_digest(expected, signature.lower())):
        raise errors.bad_signature()
    server_time = now_ms()
    if timestamp >= server_time + 1000:
        raise errors.timestamp_ahead()
    if server_time - timestamp > recv_window:
        raise errors.timestamp_outside_window()
    call.account = key.account


class _Weights:
    """Request weight used per client address in the current minute (X-MBX-USED-WEIGHT-1M), and
    Binance's limit on it: a request that would go over PAPER_BINANCE_WEIGHT_LIMIT is refused
    with 429 and Retry-After (the seconds left in the minute), before anything is done.

    Counted per process, as Binance counts per IP (every account behind one address shares it).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.minute = 0
        self.used: dict[str, int] = {}

    def take(self, address: str, weight: int, limit: int) -> int:
        """The weight used after this request's; raises the 429 if it would go over the limit."""
        now = time.time()
        minute = int(now // 60)
        with self.lock:
            if minute != self.minute:
                self.minute, self.used = minute, {}
            used = self.used.get(address, 0) + weight
            if used > limit:
                raise errors.too_much_weight(limit, retry_after=max(1, math.ceil((minute + 1) * 60 - now)))
            self.used[address] = used
            return used

    def clear(self) -> None:
        with self.lock:
            self.used = {}


weights = _Weights()


def _rate_limited(faults: dict[str, PaperFault]) -> None:
    """The `rate_limited` fault: this signed call is refused with 429 before it is acted on."""
    fault = faults.get(FaultKind.RATE_LIMITED)
    if fault is not None and services.paper_fault_fire(fault=fault):
        raise errors.too_much_weight(settings.PAPER_BINANCE_WEIGHT_LIMIT, retry_after=int(fault.value or 1))


def endpoint(*, weight: int | Callable[[Call], int], signed: bool) -> Callable:
    """A Binance endpoint: reads the parameters, counts the request's weight against the limit,
    checks a signed call, applies the `rate_limited` and `slow` faults, matches resting orders, and
    answers JSON (a BinanceError as Binance's error body)."""

    def decorate(view: Callable[..., object]) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest) -> HttpResponse:
            call = Call(params={})
            used = None
            try:
                call.params = read_params(request)
                address = request.META.get("REMOTE_ADDR", "")
                used = weights.take(
                    address, weight(call) if callable(weight) else weight, settings.PAPER_BINANCE_WEIGHT_LIMIT
                )
                if signed:
                    authenticate(request, call)
                    call.faults = selectors.faults_active(account=call.account)
                    _rate_limited(call.faults)
                    guards.slow_down(call.faults)
                services.paper_match_open_orders()
                answer = view(call)
                response = answer if isinstance(answer, HttpResponse) else JsonResponse(answer, safe=False)
            except BinanceError as exc:
                response = exc.response()
            if used is not None:
                response["X-MBX-USED-WEIGHT-1M"] = str(used)
            return response

        return wrapped

    return decorate


def route(**handlers: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """One path, a handler per HTTP method (GET=..., POST=..., DELETE=...)."""

    @csrf_exempt
    def dispatch(request: HttpRequest) -> HttpResponse:
        handler = handlers.get(request.method)
        if handler is None:
            response = JsonResponse({"code": -1000, "msg": f"Method {request.method} is not allowed here."}, status=405)
            response["Allow"] = ", ".join(handlers)
            return response
        return handler(request)

    return dispatch
