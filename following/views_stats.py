"""The statistics panel and the follower's own notification settings of the copy-trading
dashboard (HTMX fragments, loaded after the page).

Its own request: the last prices for unrealized P&L are venue reads, which must not hold up the
dashboard itself."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from following import notify, stats
from following.models import MasterAccount, NotifyEvent
from tradedesk.exceptions import ApplicationError


@login_required
@require_GET
def stats_fragment(request: HttpRequest) -> HttpResponse:
    """The caller's statistics as a follower, and as the owner of each master account they list."""
    mine = stats.follower_stats(user=request.user)
    masters = [
        (listing.credential, stats.master_stats(credential_id=listing.credential_id))
        for listing in MasterAccount.objects.filter(credential__owner=request.user).select_related("credential")
    ]
    return render(request, "following/_stats.html", {"mine": mine, "masters": masters})


@login_required
@require_http_methods(["GET", "POST"])
def notifications_fragment(request: HttpRequest) -> HttpResponse:
    """The caller's own notification settings (following.notify): GET the form, POST saves it.
    The channels are shown masked; an empty field keeps the saved one, "remove" clears it."""
    problem, saved = None, False
    if request.method == "POST":
        changes: dict = {"events": request.POST.getlist("events")}
        for name in ("apprise_url", "email"):
            if request.POST.get(f"remove_{name}"):
                changes[name] = ""
            elif value := request.POST.get(name, "").strip():
                changes[name] = value
        try:
            notify.notify_settings_update(user=request.user, **changes)
            saved = True
        except ApplicationError as exc:
            problem = exc
    row = notify.notify_settings_get(user=request.user)
    context = {
        "shown": notify.masked_channels(row),
        "chosen": set(row.events) if row else set(),
        "events": NotifyEvent.choices,
        "problem": problem,
        "saved": saved,
        "email_available": bool(settings.FOLLOW_NOTIFY_EMAIL_URL),
    }
    return render(request, "following/_notifications.html", context, status=400 if problem else 200)
