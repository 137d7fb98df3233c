"""The pro site's pages: login (password, then an optional 2FA code), trade, orders, account.

The trade page is a shell for the order ticket script (static/paper/pro/pro.js): the ticket
posts JSON to api.order_place_api and shows the outcome as a toast or an inline error.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.static import serve

from executor.paper import selectors as paper_selectors
from executor.paper.errors import LoginFailed
from executor.paper.models import FaultKind
from executor.paper.pro import display, guards, markup, selectors, services
from executor.paper.pro.display import Precision
from executor.paper.pro.forms import CodeForm, LoginForm, TwoFactorForm
from executor.paper.services import paper_fault_fire, paper_login_check_password, paper_logout

logger = logging.getLogger(__name__)

ASSETS_DIR = settings.BASE_DIR / "static" / "paper" / "pro"
TOAST_MS = 4000  # how long "Order placed · #123" stays on the page
TICKER_MS = 5000  # how often the trade page reads the last price


def _next_url(request: HttpRequest) -> str:
    # Only paths inside this site, so the login cannot bounce anywhere else.
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/paper/pro/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return reverse("paper:pro:home")


def _logged_in(request: HttpRequest, token: str) -> HttpResponse:
    response = redirect(_next_url(request))
    guards.set_session_cookie(request, response, token)
    guards.clear_pending_login(response)
    return response


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if paper_selectors.session_get(token=guards.session_token(request)) is not None:
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = paper_login_check_password(**form.cleaned_data)
        except LoginFailed:
            error = "Incorrect username or password."
        else:
            faults = paper_selectors.faults_active(account=account)
            if guards.captcha_fires(faults):
                return guards.captcha_page(request)
            if account.pro_two_factor:
                response = redirect(reverse("paper:pro:login-verify") + "?" + urlencode({"next": _next_url(request)}))
                guards.set_pending_login(request, response, account)
                return response
            _, token = services.pro_session_open(account=account)
            return _logged_in(request, token)
    elif request.method == "POST":
        error = "Please enter your username and password."
    status = 401 if error and request.method == "POST" else 200
    context = {"form": form, "error": error, "next": _next_url(request)}
    return render(request, "paper/pro/login.html", context, status=status)


@require_http_methods(["GET", "POST"])
def login_verify_view(request: HttpRequest) -> HttpResponse:
    pending = guards.pending_login(request)
    if pending is None:
        response = redirect(guards.login_url(_next_url(request)))
        guards.clear_pending_login(response)
        return response
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, token = services.pro_session_open_with_code(account=pending.account, code=form.cleaned_data["code"])
        except LoginFailed:
            error = "Invalid or expired code. Please try again."
        else:
            return _logged_in(request, token)
    elif request.method == "POST":
        error = "Please enter the 6-digit code from your authenticator app."
    context = {"form": form, "error": error, "next": _next_url(request), "username": pending.account.username}
    response = render(request, "paper/pro/verify.html", context, status=401 if error else 200)
    if error:
        # Each wrong code counts; after CODE_ATTEMPTS the password step starts over.
        guards.set_pending_login(
            request, response, pending.account, attempts=pending.attempts + 1, issued=pending.issued
        )
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session = paper_selectors.session_get(token=guards.session_token(request))
    if session is not None:
        paper_logout(session=session)
    response = redirect("paper:pro:login")
    guards.clear_session_cookie(response)
    return response


@require_GET
@guards.pro_page
def home_view(request: HttpRequest) -> HttpResponse:
    first = paper_selectors.instrument_list().first()
    if first is None:
        return redirect("paper:pro:orders")
    return redirect("paper:pro:trade", pair=display.pair_slug(first.symbol))


@require_GET
@guards.pro_page
def trade_view(request: HttpRequest, pair: str) -> HttpResponse:
    instrument = paper_selectors.instrument_get(symbol=pair[:20])
    if instrument is None:
        return render(request, "paper/pro/not_found.html", {"pair": pair[:20]}, status=404)
    if display.pair_slug(instrument.symbol) != pair:
        return redirect("paper:pro:trade", pair=display.pair_slug(instrument.symbol))
    account = request.pro_account
    layout = request.pro_faults.get(FaultKind.LAYOUT_CHANGED)
    look = markup.RENAMED if layout is not None and paper_fault_fire(fault=layout) else markup.NORMAL
    precision = Precision.of(instrument)
    balances = {row.asset: row.free for row in paper_selectors.balance_list(account=account)}
    available = {
        "BUY": display.number(balances.get(instrument.quote_asset), precision.price),
        "SELL": display.number(balances.get(instrument.base_asset), precision.amount),
    }
    mark = paper_selectors.mark_price(instrument=instrument).price
    words = {key: text.format(base=instrument.base_asset) for key, text in look.words.items()}
    context = {
        "instrument": instrument,
        "pair": display.pair_label(instrument.symbol),
        "pairs": [
            (display.pair_label(i.symbol), display.pair_slug(i.symbol)) for i in paper_selectors.instrument_list()
        ],
        "mark": display.number(mark, precision.price),
        "c": look.css,
        "ids": look.ids,
        "words": words,
        "state": _ticket_state(instrument, precision, look, words, available, mark),
        "quote_available": available["BUY"],
        "table": selectors.table_get(account=account, tab="open"),
        "open_count": selectors.open_order_count(account=account),
        "time_zone": display.TIME_ZONE_LABEL,
    }
    return render(request, "paper/pro/trade.html", context)


def _ticket_state(instrument, precision: Precision, look: markup.Markup, words: dict, available: dict, mark) -> dict:
    """What the ticket script needs, in #__APP_STATE__: the element ids of this layout, urls, decimals."""
    pair = display.pair_slug(instrument.symbol)
    return {
        "pair": pair,
        "base": instrument.base_asset,
        "quote": instrument.quote_asset,
        "priceDecimals": precision.price,
        "amountDecimals": precision.amount,
        "ids": look.ids,
        "words": words,
        "urls": {
            **_panel_urls(),
            "place": reverse("paper:pro:api-order-place"),
            "ticker": reverse("paper:pro:api-ticker", kwargs={"pair": pair}),
            "balances": reverse("paper:pro:api-balances", kwargs={"pair": pair}),
        },
        "css": {"buy": look.css["buy"], "sell": look.css["sell"]},
        "available": available,
        "lastPrice": display.plain(mark),
        "toastMs": TOAST_MS,
        "tickerMs": TICKER_MS,
    }


def _panel_urls() -> dict[str, str]:
    return {
        "panel": reverse("paper:pro:panel", kwargs={"tab": "TAB"}),
        "cancel": reverse("paper:pro:api-order-cancel", kwargs={"number": 0}),
        "login": reverse("paper:pro:login"),
    }


def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else None


@require_GET
@guards.pro_page
def orders_view(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "open")
    page = _page_number(request)
    if tab not in selectors.TABS or page is None:
        return render(request, "paper/pro/bad_request.html", {"message": "Unknown tab or page."}, status=400)
    account = request.pro_account
    state = {
        "tab": tab,
        "ids": {"panel": "_o_p_"},
        "urls": _panel_urls(),
        "toastMs": TOAST_MS,
    }
    context = {
        "state": state,
        "tab": tab,
        "table": selectors.table_get(account=account, tab=tab, page=page),
        "open_count": selectors.open_order_count(account=account),
        "time_zone": display.TIME_ZONE_LABEL,
    }
    return render(request, "paper/pro/orders.html", context)


@require_http_methods(["GET", "POST"])
@guards.pro_page
def account_view(request: HttpRequest) -> HttpResponse:
    account = request.pro_account
    form = TwoFactorForm(request.POST or None)
    message, error = "", ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.pro_two_factor_set(account=account, **form.cleaned_data)
            except LoginFailed as exc:
                error = exc.message
            else:
                state = "on" if account.pro_two_factor else "off"
                message = f"Two-factor authentication is {state}."
        else:
            error = "Enter your password to change two-factor authentication."
    context = {
        "balances": _balance_rows(account),
        "positions": _position_rows(account),
        "two_factor": account.pro_two_factor,
        "message": message,
        "error": error,
    }
    return render(request, "paper/pro/account.html", context, status=400 if error else 200)


def _balance_rows(account) -> list[dict]:
    rows = []
    for balance in paper_selectors.balance_list(account=account):
        decimals = 2 if balance.asset in {"USDT", "USD", "USDC"} else 8
        rows.append(
            {
                "asset": balance.asset,
                "total": display.number(balance.free + balance.locked, decimals),
                "available": display.number(balance.free, decimals),
                "in_orders": display.number(balance.locked, decimals),
            }
        )
    return rows


def _position_rows(account) -> list[dict]:
    instruments = {i.symbol: i for i in paper_selectors.instrument_list()}
    rows = []
    for position in paper_selectors.position_list(account=account):
        instrument = instruments.get(position.symbol)
        precision = Precision.of(instrument)
        mark = paper_selectors.mark_price(instrument=instrument).price if instrument else None
        pnl = (mark - position.avg_price) * position.qty if mark is not None and position.avg_price else None
        rows.append(
            {
                "pair": display.pair_label(position.symbol),
                "amount": display.number(position.qty, precision.amount),
                "entry": display.number(position.avg_price, precision.price),
                "mark": display.number(mark, precision.price),
                "pnl": display.number(pnl, 2),
            }
        )
    return rows


@require_GET
def rules_view(request: HttpRequest) -> HttpResponse:
    """Public, as exchanges publish them: each pair's tick, amount step, minimum and minimum value."""
    rows = []
    for instrument in paper_selectors.instrument_list():
        precision = Precision.of(instrument)
        rows.append(
            {
                "pair": display.pair_label(instrument.symbol),
                "base": instrument.base_asset,
                "quote": instrument.quote_asset,
                "tick": display.number(instrument.tick_size, precision.price),
                "step": display.number(instrument.lot_size, precision.amount),
                "min_amount": display.number(instrument.min_qty, precision.amount),
                "min_total": display.number(instrument.min_notional, precision.price),
            }
        )
    return render(request, "paper/pro/rules.html", {"rules": rows})


@require_GET
def asset_view(request: HttpRequest, name: str) -> HttpResponse:
    # Served by the site itself (as the classic pages' assets are), so it works under uvicorn.
    if name.startswith("."):
        raise Http404("no such asset")
    response = serve(request, name, document_root=ASSETS_DIR)
    response["Cache-Control"] = "max-age=300"
    return response
