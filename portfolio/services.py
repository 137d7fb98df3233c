"""Writes of the portfolio app: the record of every refused confirm."""

import functools
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from portfolio.models import ConfirmRefusal, RefusalCategory
from signals.models import Signal
from tradedesk.exceptions import ApplicationError, Conflict, NotFound, RiskRejected
from tradedesk.formatting import decimal_text
from tradedesk.ids import is_row_id

logger = logging.getLogger(__name__)


def refusal_category(error: ApplicationError) -> str:
    """Risk rule, venue check (the venue's rules or balances), illegal state, or bad input."""
    explicit = getattr(error, "refusal_category", "")
    if explicit in RefusalCategory.values:
        return explicit
    if isinstance(error, RiskRejected):
        return RefusalCategory.RISK
    if isinstance(error, Conflict | NotFound):
        return RefusalCategory.STATE
    return RefusalCategory.INPUT


def confirm_refusal_record(
    *,
    error: ApplicationError,
    user: User | None,
    signal_id: int | None,
    qty: Decimal | None = None,
    price: Decimal | None = None,
    order_type: str = "",
    side: str | None = None,
) -> ConfirmRefusal:
    """Store a refused confirm: who, when, the signal, what was asked, the rule and its figures.

    Called after the refused transaction has rolled back, in its own transaction, so the record
    is kept even though nothing else of the confirm is.
    """
    signal_ref = signal_id if signal_id is not None and is_row_id(signal_id) else None
    signal = Signal.objects.filter(pk=signal_ref).first() if signal_ref else None
    with transaction.atomic():
        refusal = ConfirmRefusal.objects.create(
            user=user if user is not None and user.is_authenticated else None,
            signal=signal,
            signal_ref=signal_ref,
            symbol=signal.symbol if signal else "",
            side=side or (signal.side if signal else ""),
            order_type=order_type or "",
            qty=qty,
            price=price,
            category=refusal_category(error),
            rule=error.code,
            field=error.field or "",
            message=error.message,
            http_status=error.http_status,
            figures=_jsonable(error.figures),
        )
    logger.info("confirm of signal %s refused: %s (refusal %s)", signal_ref, error.code, refusal.pk)
    return refusal


def refusals_recorded(confirm: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a confirm service (orders.services.order_create) so each refusal it raises is kept.

    The wrapper sits outside the service's own transaction: by the time it records, the refused
    transaction has rolled back, and the record is written on its own. Recording never hides the
    refusal itself: a failure to record is logged and the original error still raised.
    """

    @functools.wraps(confirm)
    def wrapped(**kwargs: Any) -> Any:
        try:
            return confirm(**kwargs)
        except ApplicationError as error:
            try:
                confirm_refusal_record(
                    error=error,
                    user=kwargs.get("user"),
                    signal_id=kwargs.get("signal_id"),
                    qty=kwargs.get("qty"),
                    price=kwargs.get("price"),
                    order_type=kwargs.get("order_type") or "",
                    side=kwargs.get("side"),
                )
            except Exception:
                logger.exception("the refusal of signal %s could not be recorded", kwargs.get("signal_id"))
            raise

    return wrapped


def _jsonable(figures: dict) -> dict:
    """Decimals as exact strings (JSON has no decimal type; a float would round them)."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, Decimal):
            out[str(key)] = decimal_text(value)
        elif value is None or isinstance(value, bool | int | str):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out
