from django.conf import settings

from executor.connectors import get_connector
from executor.connectors.base import Connector
from executor.models import AccountHealth, ConnectorKind, ExchangeAccount, SessionState


def desk_account_get() -> ExchangeAccount | None:
    """The exchange account desk orders go to when EXECUTOR=exchange."""
    return ExchangeAccount.objects.filter(is_desk_default=True, is_active=True).first()


def connector_for(account: ExchangeAccount | None) -> Connector:
    """The one place that picks a connector: the account's own, or the dry run for no account."""
    if account is None:
        return get_connector("dry_run")
    return get_connector(account.connector, account.config())


def task_queue_for(account: ExchangeAccount | None) -> str:
    """The Celery queue for any task that touches this account's venue (place, look up, refresh,
    cancel). A browser account is served only by the one browser worker that owns it, so its
    tasks go to that worker's queue; everything else goes to the regular workers."""
    if account is not None and account.connector == "browser":
        return account.browser_queue or settings.BROWSER_QUEUE
    return "celery"


def executor_health() -> dict:
    """Each active browser account's last known session state, and each account's health (keys
    valid, clock in step: API and ccxt accounts). Not ok when the account desk orders go to is a
    browser account that is not logged in, or an account whose check says it needs a person."""
    accounts = ExchangeAccount.objects.filter(is_active=True).select_related("venue_session").order_by("label")
    rows, ok = [], True
    for account in accounts:
        session = getattr(account, "venue_session", None)
        state = session.state if session else SessionState.DOWN
        if account.connector == ConnectorKind.BROWSER and account.is_desk_default and state != SessionState.LOGGED_IN:
            ok = False
        if account.is_desk_default and account.health == AccountHealth.NEEDS_PERSON:
            ok = False
        rows.append(
            {
                "label": account.label,
                "venue": account.venue,
                "connector": account.connector,
                "is_desk_default": account.is_desk_default,
                "state": state if account.connector == ConnectorKind.BROWSER else "n/a",
                "detail": session.detail if session else "",
                "updated_at": session.updated_at if session else None,
                "health": account.health,
                "health_detail": account.health_detail,
            }
        )
    return {"ok": ok, "accounts": rows}


# Accounts reached through an API: a browser account's session has its own checks.
API_KINDS = (ConnectorKind.CCXT, ConnectorKind.API)


def api_account_ids() -> list[int]:
    """The active accounts the scheduled checks and instrument refreshes reach through an API."""
    return list(ExchangeAccount.objects.filter(is_active=True, connector__in=API_KINDS).values_list("pk", flat=True))
