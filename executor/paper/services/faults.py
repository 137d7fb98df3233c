"""Fault injection: switch a fault on or off for an account, and fire it.

Values: slow = delay in milliseconds (default 2000); lost_reply and lost_cancel_reply = hang in
seconds (default 30);
reject = CODE or CODE:reason (default INSUFFICIENT_BALANCE). The others take none.
"""

import logging
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from executor.paper.errors import PaperInvalid
from executor.paper.models import FaultKind, PaperAccount, PaperFault
from executor.paper.services.accounts import paper_sessions_revoke

logger = logging.getLogger(__name__)

DEFAULT_VALUES = {
    FaultKind.SLOW: "2000",
    FaultKind.LOST_REPLY: "30",
    FaultKind.LOST_CANCEL_REPLY: "30",
    FaultKind.REJECT: "INSUFFICIENT_BALANCE",
    FaultKind.RATE_LIMITED: "1",
}
REJECT_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,39}(:.{1,150})?$")


def _number(value: str, *, low: Decimal, high: Decimal, unit: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        raise PaperInvalid(f"must be a number of {unit} from {low} to {high}", field="value")
    return number


def fault_value_check(*, kind: str, value: str) -> str:
    """The value to store for `kind`: the default when empty, refused when it makes no sense."""
    value = value.strip() or DEFAULT_VALUES.get(kind, "")
    if kind == FaultKind.SLOW:
        _number(value, low=Decimal(0), high=Decimal(600_000), unit="milliseconds")
    elif kind in (FaultKind.LOST_REPLY, FaultKind.LOST_CANCEL_REPLY):
        _number(value, low=Decimal(0), high=Decimal(600), unit="seconds")
    elif kind == FaultKind.RATE_LIMITED:
        if not value.isdigit() or not 0 <= int(value) <= 3600:
            raise PaperInvalid("must be whole seconds from 0 to 3600 (the Retry-After header)", field="value")
    elif kind == FaultKind.REJECT and not REJECT_RE.match(value):
        raise PaperInvalid("must be CODE or CODE:reason, e.g. INSUFFICIENT_BALANCE", field="value")
    return value


def paper_fault_set(*, account: PaperAccount, kind: str, value: str = "", once: bool = False) -> PaperFault:
    if kind not in FaultKind.values:
        raise PaperInvalid(f"unknown fault; one of {', '.join(FaultKind.values)}", field="kind")
    value = fault_value_check(kind=kind, value=value)
    with transaction.atomic():
        fault, _ = PaperFault.objects.update_or_create(
            account=account,
            kind=kind,
            defaults={"value": value, "once": once, "is_active": True, "armed_at": timezone.now(), "fired_count": 0},
        )
        if kind == FaultKind.SESSION_EXPIRED:
            paper_sessions_revoke(account=account)
    logger.info("paper fault %s on for %s (value %r, once %s)", kind, account.username, value, once)
    return fault


def paper_fault_clear(*, account: PaperAccount, kind: str) -> bool:
    cleared = PaperFault.objects.filter(account=account, kind=kind, is_active=True).update(is_active=False)
    logger.info("paper fault %s off for %s", kind, account.username)
    return bool(cleared)


def paper_fault_fire(*, fault: PaperFault) -> bool:
    """Count one firing; a --once fault turns off. False if it was already off (another request won)."""
    changes = {"fired_count": F("fired_count") + 1}
    if fault.once:
        changes["is_active"] = False
    # A conditional UPDATE, so two requests racing for a --once fault fire it only once.
    fired = PaperFault.objects.filter(pk=fault.pk, is_active=True).update(**changes, updated_at=timezone.now())
    if fired:
        logger.info("paper fault %s fired for account %s", fault.kind, fault.account_id)
    return bool(fired)
