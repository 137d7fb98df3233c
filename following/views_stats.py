"""The statistics panel of the copy-trading dashboard (an HTMX fragment, loaded after the page).

Its own request: the last prices for unrealized P&L are venue reads, which must not hold up the
dashboard itself."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from following import stats
from following.models import MasterAccount


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
