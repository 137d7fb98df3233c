"""Desk users' access: deactivating a user ends every way in, bearer tokens included."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tradedesk.models import UserToken

logger = logging.getLogger(__name__)


def user_tokens_revoke(*, user: AbstractBaseUser, reason: str) -> int:
    """Revoke every bearer token of `user` (for good: a revoked token cannot be restored)."""
    revoked = 0
    with transaction.atomic():
        for token in UserToken.objects.select_for_update().filter(user=user, revoked=False):
            token.revoked = True
            token._change_reason = reason
            token.save(update_fields=["revoked"])
            revoked += 1
    logger.info("revoked %s bearer token(s) of user %s: %s", revoked, user.pk, reason)
    return revoked


def user_deactivate(*, user: AbstractBaseUser, by: AbstractBaseUser | None = None) -> int:
    """Deactivate a desk user: no login, no session (sockets close on their next ping) and every
    bearer token revoked, so reactivating the user later does not bring old tokens back."""
    model = type(user)
    with transaction.atomic():
        row = model.objects.select_for_update().get(pk=user.pk)
        row.is_active = False
        row.save(update_fields=["is_active"])
        who = f"by {by.get_username()}" if by is not None else "by a command"
        return user_tokens_revoke(user=row, reason=f"user deactivated {who}")
