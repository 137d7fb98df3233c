"""What stands in front of every pro page and JSON endpoint: its own session cookie and the faults.

The pro site's login is its own: the `pro_session` cookie (signed with its own salt, path
/paper/pro/) names a PaperSession row. The classic paper pages' `paper_session` cookie is never
read here, and a pro cookie is never sent to them (its path), so one login opens one site.
Faults are the paper exchange's (executor.paper.services.faults); slow and lost_reply reuse
its guards, captcha and session expiry answer in this site's own way.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from executor.paper import guards as paper_guards
from executor.paper import selectors, services
from executor.paper.models import FaultKind, PaperAccount, PaperFault

SESSION_COOKIE = "pro_session"
PENDING_COOKIE = "pro_login"  # between the password and the 2FA step
COOKIE_PATH = "/paper/pro/"
SALT = "executor.paper.pro.session"
PENDING_MAX_AGE = 300
CODE_ATTEMPTS = 5  # wrong 2FA codes before the password has to be entered again


def session_token(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(SESSION_COOKIE, default=None, salt=SALT)


def set_session_cookie(request: HttpRequest, response: HttpResponse, token: str) -> None:
    response.set_signed_cookie(
        SESSION_COOKIE, token, salt=SALT, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=request.is_secure()
    )


def clear_session_cookie(response: HttpResponse) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, samesite="Lax")


@dataclass(frozen=True)
class PendingLogin:
    """Between the password and the 2FA code: which account, how many wrong codes, since when."""

    account: PaperAccount
    attempts: int
    issued: int


def set_pending_login(
    request: HttpRequest, response: HttpResponse, account: PaperAccount, *, attempts: int = 0, issued: int | None = None
) -> None:
    value = f"{account.pk}:{attempts}:{issued if issued is not None else int(time.time())}"
    response.set_signed_cookie(
        PENDING_COOKIE,
        value,
        salt=SALT + ".pending",
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def pending_login(request: HttpRequest) -> PendingLogin | None:
    """The pending login, or None: none, forged, older than PENDING_MAX_AGE or out of attempts."""
    try:
        value = request.get_signed_cookie(PENDING_COOKIE, salt=SALT + ".pending", max_age=PENDING_MAX_AGE)
        account_id, attempts, issued = (int(part) for part in value.split(":"))
    except (KeyError, ValueError, signing.BadSignature):
        return None
    # The age counts from the password step: a wrong code re-signs the cookie but adds no time.
    if time.time() - issued > PENDING_MAX_AGE or attempts >= CODE_ATTEMPTS:
        return None
    account = PaperAccount.objects.filter(pk=account_id, is_active=True).first()
    return PendingLogin(account, attempts, issued) if account is not None else None


def clear_pending_login(response: HttpResponse) -> None:
    response.delete_cookie(PENDING_COOKIE, path=COOKIE_PATH, samesite="Lax")


def login_url(next_path: str = "") -> str:
    url = reverse("paper:pro:login")
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def captcha_fires(faults: dict[str, PaperFault]) -> bool:
    fault = faults.get(FaultKind.CAPTCHA)
    return fault is not None and services.paper_fault_fire(fault=fault)


def captcha_page(request: HttpRequest) -> HttpResponse:
    return render(request, "paper/pro/captcha.html", status=403)


def json_error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"success": False, "code": code, "message": message, **extra}, status=status)


def _open(request: HttpRequest) -> tuple[PaperAccount, dict[str, PaperFault]] | None:
    session = selectors.session_get(token=session_token(request))
    if session is None:
        return None
    request.pro_session = session
    request.pro_account = session.account
    request.pro_faults = selectors.faults_active(account=session.account)
    return session.account, request.pro_faults


def pro_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for a logged-in account; a missing or ended session goes to the login page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        opened = _open(request)
        if opened is None:
            response = HttpResponseRedirect(login_url(request.get_full_path() if request.method == "GET" else ""))
            clear_session_cookie(response)
            return response
        _, faults = opened
        paper_guards.slow_down(faults)
        if captcha_fires(faults):
            return captcha_page(request)
        services.paper_match_open_orders()
        return view(request, *args, **kwargs)

    return wrapped


def pro_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A JSON endpoint (or page fragment) the site's own script calls: errors are JSON.

    401 SESSION_EXPIRED (the script then goes to the login page), 403 CAPTCHA_REQUIRED (the
    script shows the challenge).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        opened = _open(request)
        if opened is None:
            response = json_error(
                401,
                "SESSION_EXPIRED",
                "Your session has expired. Please log in again.",
                login_url=login_url(request.headers.get("X-Page-Path", "")),
            )
            clear_session_cookie(response)
            return response
        _, faults = opened
        paper_guards.slow_down(faults)
        if captcha_fires(faults):
            return json_error(403, "CAPTCHA_REQUIRED", "Please complete the security verification to continue.")
        services.paper_match_open_orders()
        return view(request, *args, **kwargs)

    return wrapped
