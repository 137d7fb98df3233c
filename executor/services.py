"""Writes to exchange accounts (credentials)."""

import logging

from django.db import transaction

from executor.models import ExchangeAccount

logger = logging.getLogger(__name__)


def exchange_account_save(*, account: ExchangeAccount, secrets: dict[str, str] | None = None) -> ExchangeAccount:
    """Create or update an account; `secrets` holds only the secret fields being changed."""
    with transaction.atomic():
        if secrets:
            account.set_secrets(**secrets)
            account._change_reason = f"secrets changed: {', '.join(sorted(secrets))}"
        account.save()
    logger.info("exchange account %s saved (secrets changed: %s)", account.pk, sorted(secrets or {}))
    return account


def exchange_accounts_rotate_key() -> int:
    """Re-encrypt every account's secrets with the newest CREDENTIALS_KEYS key."""
    from executor import crypto

    count = 0
    with transaction.atomic():
        for account in ExchangeAccount.objects.select_for_update().exclude(secrets_encrypted=""):
            account.secrets_encrypted = crypto.rotate(account.secrets_encrypted)
            account._change_reason = "credentials key rotated"
            account.save(update_fields=["secrets_encrypted", "updated_at"])
            count += 1
    return count


def venue_session_record(*, account_id: int, state: str, detail: str = "") -> None:
    """Store the browser session's state; an alert is logged when a person is needed."""
    from executor.models import SessionState, VenueSession

    previous = VenueSession.objects.filter(account_id=account_id).values_list("state", flat=True).first()
    VenueSession.objects.update_or_create(account_id=account_id, defaults={"state": state, "detail": detail[:300]})
    if state != previous and state in (SessionState.CAPTCHA, SessionState.NEEDS_LOGIN):
        logger.error("ALERT exchange account %s needs a person: %s (%s)", account_id, state, detail)
    if state != previous:
        from ops.alerts import alert_session_state

        label = ExchangeAccount.objects.filter(pk=account_id).values_list("label", flat=True).first() or account_id
        transaction.on_commit(
            lambda: alert_session_state(account_id=account_id, label=str(label), state=state, detail=detail)
        )
