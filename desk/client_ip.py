"""The client's address for login throttling, correct behind a reverse proxy."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N proxies in front, the address the outermost
    trusted proxy saw: the N-th entry from the right of X-Forwarded-For.

    Entries further left are written by the client and can be forged, so they are never used;
    with no trusted proxy the header is ignored altogether.
    """
    # None when there is no address at all (a login made in code, e.g. force_login), as axes's own
    # fallback answers: axes stores it as an IP address column, which takes no made-up text.
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        # Fewer hops than proxies: the request did not come through all of them.
        return remote
    return forwarded[-count]
