"""An exchange account's health (keys valid, clocks in step) and its browser session's state,
recorded from the account check and from the connectors themselves (a refused key, a clock out of
step or a logged-out session seen while trading).

Below the connectors: it imports only the models and ops' alerting, so a connector records what
it saw without importing the services (which pick connectors: executor.selectors)."""

import logging

from django.db import transaction
from django.utils import timezone

from executor.models import AccountHealth, ExchangeAccount, SessionState, VenueSession
from ops import alerts

logger = logging.getLogger(__name__)


def venue_session_record(*, account_id: int, state: str, detail: str = "") -> None:
    """Store the browser session's state; an alert is logged when a person is needed."""
    previous = VenueSession.objects.filter(account_id=account_id).values_list("state", flat=True).first()
    VenueSession.objects.update_or_create(account_id=account_id, defaults={"state": state, "detail": detail[:300]})
    if state != previous and state in (SessionState.CAPTCHA, SessionState.NEEDS_LOGIN):
        logger.error("ALERT exchange account %s needs a person: %s (%s)", account_id, state, detail)
    if state != previous:
        label = ExchangeAccount.objects.filter(pk=account_id).values_list("label", flat=True).first() or account_id
        transaction.on_commit(
            lambda: alerts.alert_session_state(account_id=account_id, label=str(label), state=state, detail=detail)
        )


ACCOUNT_NEEDS_PERSON = "account_needs_person"


def exchange_account_health_record(*, account_id: int, ok: bool, detail: str = "") -> None:
    """Store whether the account works (keys valid, clocks in step). A change is audited and
    alerts after commit: needing a person opens one incident per account, OK again resolves it.
    An unchanged state only moves health_checked_at (no audit row per scheduled check)."""
    health = AccountHealth.OK if ok else AccountHealth.NEEDS_PERSON
    detail = detail[:300]
    now = timezone.now()
    with transaction.atomic():
        account = ExchangeAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None:
            return
        if (account.health, account.health_detail) == (health, detail):
            ExchangeAccount.objects.filter(pk=account_id).update(health_checked_at=now)
            return
        was = account.health
        account.health, account.health_detail, account.health_checked_at = health, detail, now
        account._change_reason = f"health {health}: {detail}" if detail else f"health {health}"
        account.save(update_fields=["health", "health_detail", "health_checked_at", "updated_at"])
        if was != health:
            label = account.label
            transaction.on_commit(lambda: _alert_account_health(account_id, label, ok, detail))
    log = logger.info if ok else logger.error
    log("exchange account %s health %s: %s", account_id, health, detail)


def _alert_account_health(account_id: int, label: str, ok: bool, detail: str) -> None:
    title = f"Exchange account {label} needs a person"
    if ok:
        alerts.resolve_alert(
            event=ACCOUNT_NEEDS_PERSON, key=str(account_id), title=title, body=f"Account {label} works again."
        )
        return
    alerts.send_alert(
        event=ACCOUNT_NEEDS_PERSON,
        key=str(account_id),
        title=title,
        body=(
            f"{detail}\nOrders to {label} fail until this is fixed: check the API key, its permissions "
            f"(trade, no withdrawal) and the server's clock, then save the account's keys again in admin "
            f"(or wait for the next account check)."
        ),
    )
