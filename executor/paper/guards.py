"""What stands in front of every paper page and API call: the paper session cookie and the faults.

The paper exchange has its own identity: the `paper_session` cookie (signed, path /paper/)
names a PaperSession row. Django's session and auth are never consulted, so a desk login does
not open these pages and a paper login opens nothing else.
"""

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from executor.paper import selectors, services
from executor.paper.models import FaultKind, PaperAccount, PaperFault

logger = logging.getLogger(__name__)

SESSION_COOKIE = "paper_session"
PENDING_COOKIE = "paper_login"  # between the password and the TOTP step
COOKIE_PATH = "/paper/"
SALT = "executor.paper.session"
PENDING_MAX_AGE = 300

# Tests replace this to see the delay asked for without waiting for it.
sleep = time.sleep


def session_token(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(SESSION_COOKIE, default=None, salt=SALT)


def set_session_cookie(request: HttpRequest, response: HttpResponse, token: str) -> None:
    response.set_signed_cookie(
        SESSION_COOKIE, token, salt=SALT, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=request.is_secure()
    )


def clear_session_cookie(response: HttpResponse) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, samesite="Lax")


def set_pending_login(request: HttpRequest, response: HttpResponse, account: PaperAccount) -> None:
    response.set_signed_cookie(
        PENDING_COOKIE,
        str(account.pk),
        salt=SALT + ".pending",
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def pending_login(request: HttpRequest) -> PaperAccount | None:
    try:
        account_id = request.get_signed_cookie(PENDING_COOKIE, salt=SALT + ".pending", max_age=PENDING_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None
    return PaperAccount.objects.filter(pk=account_id, is_active=True).first()


def clear_pending_login(response: HttpResponse) -> None:
    response.delete_cookie(PENDING_COOKIE, path=COOKIE_PATH, samesite="Lax")


def login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    url = reverse("paper:login")
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    response = HttpResponseRedirect(url)
    clear_session_cookie(response)
    return response


def login_required(request: HttpRequest) -> HttpResponse:
    """The answer to the page's script when the session has ended: 401 (nothing was done), and
    where to log in; the script sends the person there (a redirect would be followed silently)."""
    response = HttpResponse("Your session has ended: log in again.", status=401, content_type="text/plain")
    response["X-Paper-Login"] = reverse("paper:login") + "?" + urlencode({"next": request.path})
    clear_session_cookie(response)
    return response


def slow_down(faults: dict[str, PaperFault]) -> None:
    fault = faults.get(FaultKind.SLOW)
    if fault is not None and services.paper_fault_fire(fault=fault):
        sleep(int(Decimal(fault.value)) / 1000)


def captcha_page(request: HttpRequest, faults: dict[str, PaperFault]) -> HttpResponse | None:
    fault = faults.get(FaultKind.CAPTCHA)
    if fault is None or not services.paper_fault_fire(fault=fault):
        return None
    return render(request, "paper/captcha.html", status=403)


def lost_reply(faults: dict[str, PaperFault], kind: str = FaultKind.LOST_REPLY) -> Decimal | None:
    """If the reply to an order (or, with LOST_CANCEL_REPLY, a cancel) is to be lost: hang for the
    fault's seconds; returns them."""
    fault = faults.get(kind)
    if fault is None or not services.paper_fault_fire(fault=fault):
        return None
    seconds = Decimal(fault.value)
    logger.info("paper fault %s: hanging %ss for account %s", kind, seconds, fault.account_id)
    sleep(int(seconds * 1000) / 1000)
    return seconds


def paper_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for a logged-in paper account: sets request.paper_account and request.paper_faults."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        session = selectors.session_get(token=session_token(request))
        if session is None:
            if request.headers.get("X-Requested-With") == "fetch":
                return login_required(request)
            return login_redirect(request)
        account = session.account
        faults = selectors.faults_active(account=account)
        slow_down(faults)
        challenge = captcha_page(request, faults)
        if challenge is not None:
            return challenge
        services.paper_match_open_orders()
        request.paper_session = session
        request.paper_account = account
        request.paper_faults = faults
        return view(request, *args, **kwargs)

    return wrapped
