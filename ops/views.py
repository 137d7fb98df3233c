"""The probes and the metrics: /healthz (in ops.middleware), /readyz, /metrics."""

import hmac
import logging
import threading

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from ops import alerts, health, metrics
from tradedesk import roles
from tradedesk.auth import UserTokenAuthentication

logger = logging.getLogger(__name__)


def _is_operator(request: HttpRequest) -> bool:
    """The metrics token (Prometheus), or a desk admin by session or personal bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        token = settings.METRICS_TOKEN
        if token and hmac.compare_digest(credentials.strip().encode(), token.encode()):
            return True
        try:
            found = UserTokenAuthentication().authenticate(Request(request))
        except AuthenticationFailed:
            return False
        return found is not None and roles.has_role(found[0], roles.ADMIN)
    return roles.has_role(getattr(request, "user", None), roles.ADMIN)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. Normally answered by ops.middleware before anything else."""
    return JsonResponse({"status": "ok"})


_alerting = threading.Lock()


def _alert(checks: dict) -> None:
    try:
        alerts.alert_readiness(checks=checks)
    except Exception:
        logger.exception("readiness alerts could not be sent")
    finally:
        _alerting.release()


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, else 503. Anyone (a load balancer) gets the verdict per
    check; the details (hosts, errors, queue depths) only go to an operator."""
    report = health.readiness()
    if settings.ALERT_URLS and _alerting.acquire(blocking=False):
        # Whoever probes first reports an outage the watchdog cannot see (its own worker or beat
        # dead, Redis down); in the background, so the probe is answered at once. One at a time
        # per process: a burst of probes (anyone may call /readyz) starts no burst of threads.
        threading.Thread(target=_alert, args=(report["checks"],), name="readyz-alerts", daemon=True).start()
    checks = report["checks"]
    if not _is_operator(request):
        checks = {name: {"ok": check["ok"]} for name, check in checks.items()}
    body = {"status": "ok" if report["ok"] else "fail", "env": settings.DESK_ENV, "checks": checks}
    response = JsonResponse(body, status=200 if report["ok"] else 503)
    # A 503 here is the answer, not a server error: the failed checks are logged (as warnings)
    # by ops.health, so Django's "Service Unavailable" error line for every probe is left out.
    response._has_been_logged = True
    return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _is_operator(request):
        response = JsonResponse(
            {
                "code": "not_authenticated",
                "message": "metrics need 'Authorization: Bearer <METRICS_TOKEN>' or a desk admin login",
                "fields": {},
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
