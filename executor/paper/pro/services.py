"""The pro site's own writes: its login sessions and its per-account 2FA switch.

Orders, cancels, matching and faults are the paper exchange's services; nothing here places
or fills anything.
"""

import logging
import secrets

from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import timezone

from executor.paper import selectors
from executor.paper import services as paper_services
from executor.paper.errors import LoginFailed
from executor.paper.models import FaultKind, PaperAccount, PaperFault, PaperSession
from executor.paper.services.accounts import SESSION_LIFETIME

logger = logging.getLogger(__name__)


def pro_session_open(*, account: PaperAccount) -> tuple[PaperSession, str]:
    """A login without a second factor (2FA off): a session and its cookie token."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        session = PaperSession.objects.create(
            account=account, token_hash=selectors.session_token_hash(token), expires_at=now + SESSION_LIFETIME
        )
        PaperAccount.objects.filter(pk=account.pk).update(last_login_at=now)
        # As on the classic pages: session_expired is a one-shot that a successful login ends.
        PaperFault.objects.filter(account=account, kind=FaultKind.SESSION_EXPIRED, is_active=True).update(
            is_active=False, fired_count=1
        )
    logger.info("paper pro login of %s: session %s", account.username, session.pk)
    return session, token


def pro_session_open_with_code(*, account: PaperAccount, code: str) -> tuple[PaperSession, str]:
    """The 2FA step: the paper exchange checks the TOTP code (and refuses a reused one)."""
    return paper_services.paper_login_complete(account=account, code=code)


def pro_two_factor_set(*, account: PaperAccount, enabled: bool, password: str) -> PaperAccount:
    """Turn the pro site's 2FA step on or off; the account's password confirms it.

    The TOTP seed is the account's own (printed once by paper_create_account), so turning it on
    needs no new enrolment.
    """
    if not check_password(password, account.password):
        raise LoginFailed("Wrong password; two-factor authentication was not changed.")
    PaperAccount.objects.filter(pk=account.pk).update(pro_two_factor=enabled)
    account.pro_two_factor = enabled
    logger.info("paper pro 2FA %s for %s", "on" if enabled else "off", account.username)
    return account
