"""Copy-trading pages: the follower's own dashboard (live status, settings, errors) and the
admins' list of every follower. Thin: every write goes through following.services."""

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from following import selectors, services
from following.forms import FollowSettingsForm, SignupForm, UnfollowForm
from following.status import follow_status
from tradedesk import roles
from tradedesk.exceptions import ApplicationError

REFRESH_SECONDS = 3


OPTION_FIELDS = (
    "sizing_mode",
    "fixed_notional",
    "max_slippage",
    "max_order_notional",
    "max_position_notional",
    "max_trades_per_day",
    "max_loss",
)


def _selected(request: HttpRequest):
    """The follow the page shows: ?follow=<id> (one of yours), ?new=1 for none, else the first."""
    if request.GET.get("new") or request.POST.get("new"):
        return None
    wanted = request.GET.get("follow") or request.POST.get("settings_id")
    if wanted and wanted.isdigit():
        row = selectors.follow_get(user=request.user, settings_id=int(wanted))
        if row is None or row.ended_at is not None:
            raise Http404("no such follow of yours")
        return row
    return selectors.follow_settings_get(user=request.user)


def _dashboard_context(request: HttpRequest, form: FollowSettingsForm | None = None, row=False, **extra) -> dict:
    row = _selected(request) if row is False else row
    if form is None:
        initial = (
            {
                "master_credential_id": row.master_credential_id,
                "follower_credential_id": row.follower_credential_id,
                "follow_ratio": row.follow_ratio.normalize(),
                "is_active": row.is_active,
                "allowed_symbols": ", ".join(row.allowed_symbols),
                **{name: getattr(row, name) for name in OPTION_FIELDS},
            }
            if row
            else {}
        )
        form = FollowSettingsForm(user=request.user, initial=initial, current_master=_master_of(row))
    return {
        "row": row,
        "follows": list(selectors.follow_list(user=request.user)),
        "unfollow_form": UnfollowForm(),
        "form": form,
        "errors": list(selectors.trade_error_list(user=request.user)[:50]),
        "refresh_seconds": REFRESH_SECONDS,
        "is_admin": roles.has_role(request.user, roles.ADMIN),
        **extra,
    }


def _master_of(row):
    return row.master_credential if row is not None else None


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request: HttpRequest) -> HttpResponse:
    """GET: the dashboard. POST: create or change the settings (form errors shown in place)."""
    if request.method == "GET":
        return render(request, "following/dashboard.html", _dashboard_context(request))
    row = _selected(request)
    form = FollowSettingsForm(request.POST, user=request.user, current_master=_master_of(row))
    if form.is_valid():
        values = dict(form.cleaned_data)
        confirm = values.pop("confirm", False)
        try:
            if row is None:
                row = services.follow_settings_create(user=request.user, **values)
            else:
                values.pop("join_mode", None)
                row = services.follow_settings_update(user=request.user, settings_id=row.pk, confirm=confirm, **values)
            return redirect(f"{reverse('following:dashboard')}?follow={row.pk}")
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            if exc.code == "confirm_required":
                # Shown with the targets in the message; saving again confirms.
                form.fields["confirm"].widget = forms.CheckboxInput()
    return render(request, "following/dashboard.html", _dashboard_context(request, form=form, row=row), status=400)


@login_required
@require_POST
def unfollow(request: HttpRequest, settings_id: int) -> HttpResponse:
    """Unfollow one of your follows, keeping or closing what it copied."""
    form = UnfollowForm(request.POST)
    if not form.is_valid():
        return render(
            request, "following/dashboard.html", _dashboard_context(request, unfollow_error="choose keep or close"),
            status=400,
        )  # fmt: skip
    try:
        services.follow_end(user=request.user, settings_id=settings_id, mode=form.cleaned_data["positions"])
    except ApplicationError as exc:
        if exc.http_status == 404:
            raise Http404(exc.message) from None
        raise
    return redirect("following:dashboard")


@login_required
def status_fragment(request: HttpRequest) -> HttpResponse:
    """The live part of the dashboard (positions, drift, last sync), polled by htmx."""
    row = _selected(request)
    context = {"status": follow_status(row=row) if row else None, "row": row}
    context["errors"] = list(selectors.trade_error_list(user=request.user)[:50])
    return render(request, "following/_status.html", context)


@login_required
@require_POST
def error_resolve(request: HttpRequest, error_id: int) -> HttpResponse:
    message = ""
    try:
        _, resumed = services.trade_error_resolve(user=request.user, error_id=error_id)
        message = "Resolved; following resumed." if resumed else "Resolved."
    except ApplicationError as exc:
        if exc.http_status == 404:
            raise Http404(exc.message) from None
        message = exc.message
    row = selectors.follow_settings_get(user=request.user)
    context = {"status": follow_status(row=row) if row else None, "row": row, "message": message}
    context["errors"] = list(selectors.trade_error_list(user=request.user)[:50])
    if request.headers.get("HX-Request"):
        return render(request, "following/_status.html", context)
    return redirect("following:dashboard")


@login_required
def admin_overview(request: HttpRequest) -> HttpResponse:
    """Every follower with its status (admins only)."""
    if not roles.has_role(request.user, roles.ADMIN):
        raise PermissionDenied
    context = {
        "followers": selectors.follower_overview(),
        "last_cycle": selectors.sync_run_last(),
        "refresh_seconds": REFRESH_SECONDS,
    }
    if request.headers.get("HX-Request"):
        return render(request, "following/_admin_rows.html", context)
    return render(request, "following/admin.html", context)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Open sign-up for followers, only when FOLLOW_SIGNUP_OPEN is on (else 404)."""
    if not settings.FOLLOW_SIGNUP_OPEN:
        raise Http404("sign-up is closed; ask an admin for an account")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.follower_signup(**form.cleaned_data)
        except ApplicationError as exc:
            form.add_error("username" if exc.field == "username" else None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("following:dashboard")
    return render(request, "following/signup.html", {"form": form}, status=400 if form.errors else 200)
