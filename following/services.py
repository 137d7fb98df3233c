"""Every write to copy trading: settings, masters open for following, the error ledger.

The sync engine (placing follower orders) is in following/sync.py.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from executor.models import ExchangeAccount
from following import selectors
from following.models import ErrorType, FollowSettings, MasterAccount, TradeError
from tradedesk import events
from tradedesk.exceptions import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)

# The venue's reject codes that name the follower's problem precisely.
_REJECT_TYPES = {"INSUFFICIENT_BALANCE": ErrorType.INSUFFICIENT_BALANCE}
_ORDER_ERROR_TYPES = {
    # The typed code of connectors that tell a balance refusal apart (ccxt's InsufficientFunds).
    "INSUFFICIENT_BALANCE": ErrorType.INSUFFICIENT_BALANCE,
    "REJECTED": ErrorType.REJECTED,
    "NOT_FOUND_AT_VENUE": ErrorType.NOT_FOUND_AT_VENUE,
    "SESSION_EXPIRED": ErrorType.SESSION,
    "CAPTCHA_REQUIRED": ErrorType.SESSION,
}


def _own_account(*, user: User, account_id: int, field: str) -> ExchangeAccount:
    account = ExchangeAccount.objects.filter(pk=account_id).first()
    if account is None or account.owner_id != user.pk:
        raise InvalidInput(f"exchange account {account_id} is not one of yours", field=field)
    if not account.is_active:
        raise InvalidInput(f"exchange account {account_id} is not active", field=field)
    if field == "follower_credential_id" and selectors.is_desk_account(account):
        raise InvalidInput(f"exchange account {account_id} is the desk's own account; choose another", field=field)
    return account


def _master_account(*, account_id: int, field: str = "master_credential_id") -> ExchangeAccount:
    listing = MasterAccount.objects.select_related("credential").filter(credential_id=account_id).first()
    if listing is None or not listing.is_open or not listing.credential.is_active:
        raise InvalidInput(f"exchange account {account_id} is not open for following", field=field)
    return listing.credential


def _check_ratio(ratio: Decimal) -> Decimal:
    if ratio <= 0:
        raise InvalidInput("must be greater than 0", field="follow_ratio")
    if ratio > settings.FOLLOW_MAX_RATIO:
        raise InvalidInput(f"must be at most {settings.FOLLOW_MAX_RATIO}", field="follow_ratio")
    return ratio


def _check_pair(*, user: User, master: ExchangeAccount, follower: ExchangeAccount) -> None:
    if master.owner_id == user.pk:
        raise InvalidInput("you cannot follow your own account", field="master_credential_id")
    if master.pk == follower.pk:
        raise InvalidInput("must differ from the master's account", field="follower_credential_id")


def follow_settings_create(
    *,
    user: User,
    master_credential_id: int,
    follower_credential_id: int,
    follow_ratio: Decimal,
    master_user_id: int | None = None,
    is_active: bool = True,
) -> FollowSettings:
    """A user's follow settings (one per user). The master user is the master account's owner."""
    _check_ratio(follow_ratio)
    master = _master_account(account_id=master_credential_id)
    if master_user_id is not None and master_user_id != master.owner_id:
        raise InvalidInput("is not the owner of master_credential_id", field="master_user_id")
    follower = _own_account(user=user, account_id=follower_credential_id, field="follower_credential_id")
    _check_pair(user=user, master=master, follower=follower)
    row = FollowSettings(
        user=user,
        master_user_id=master.owner_id,
        master_credential=master,
        follower_credential=follower,
        follow_ratio=follow_ratio,
        is_active=is_active,
    )
    row._change_reason = f"created by {user.get_username()}"
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict("you already have follow settings; change them with PUT", code="settings_exist") from None
    logger.info("follow settings %s created for user %s (master account %s)", row.pk, user.pk, master.pk)
    return row


def follow_settings_update(*, user: User, **changes) -> FollowSettings:
    """Change the caller's settings. Any change re-evaluates the follower on the next cycle.

    Turning following back on is refused while an error is unresolved: resolve it instead.
    """
    if "follow_ratio" in changes:
        _check_ratio(changes["follow_ratio"])
    master = follower = None
    current = FollowSettings.objects.filter(user=user).values_list("master_credential_id", flat=True).first()
    if "master_credential_id" in changes and changes["master_credential_id"] != current:
        # Only a new master must be open for following; a closed one keeps its followers.
        master = _master_account(account_id=changes["master_credential_id"])
    if "follower_credential_id" in changes:
        follower = _own_account(user=user, account_id=changes["follower_credential_id"], field="follower_credential_id")
    with transaction.atomic():
        row = FollowSettings.objects.select_for_update().filter(user=user).first()
        if row is None:
            raise NotFound("you have no follow settings yet; create them with POST")
        master = master or row.master_credential
        follower = follower or row.follower_credential
        if "master_user_id" in changes and changes["master_user_id"] != master.owner_id:
            raise InvalidInput("is not the owner of master_credential_id", field="master_user_id")
        _check_pair(user=user, master=master, follower=follower)
        if changes.get("is_active") and not row.is_active and _open_errors(user).exists():
            then = "resolving the last one resumes following" if row.paused_by_error else "then turn following on"
            raise Conflict(
                f"resolve your unresolved trade errors first; {then}", field="is_active", code="unresolved_errors"
            )
        old = {"ratio": row.follow_ratio, "active": row.is_active}
        row.master_credential, row.master_user_id, row.follower_credential = master, master.owner_id, follower
        for name in ("follow_ratio", "is_active"):
            if name in changes:
                setattr(row, name, changes[name])
        if row.is_active:
            row.paused_by_error = False
        row.sync_fingerprint = ""
        row._change_reason = f"changed by {user.get_username()}"
        row.save()
    logger.info("follow settings %s changed by user %s (was %s)", row.pk, user.pk, old)
    return row


def _open_errors(user: User):
    return TradeError.objects.filter(user=user, is_resolved=False)


def trade_error_record(
    *,
    settings_id: int,
    error_type: str,
    message: str,
    details: dict | None = None,
    order=None,
) -> TradeError:
    """Record a follower's failure and pause it (is_active False) in one transaction.

    Called inside the order's result transaction for a failed order, or on its own.
    """
    with transaction.atomic():
        row = FollowSettings.objects.select_for_update().select_related("user").get(pk=settings_id)
        error = TradeError.objects.create(
            user_id=row.user_id,
            trade_log=order,
            error_type=error_type,
            error_message=message,
            error_details=details or {},
        )
        was_active = row.is_active
        if was_active:
            # Paused by this error: resolving the last error turns following back on. A follower
            # already off by hand stays off (an order in flight may still fail after that).
            row.is_active = False
            row.paused_by_error = True
            row.sync_fingerprint = ""
            row._change_reason = f"paused by trade error {error.pk} ({error_type})"
            row.save()
        transaction.on_commit(lambda: _alert_paused(row, error, was_active))
        if was_active:
            # Desk staff see the pause live (a toast on the desk pages), as the alert goes out.
            events.publish_on_commit(
                events.ORDERS_GROUP,
                "follower_paused",
                {
                    "follow_settings_id": row.pk,
                    "follower": row.user.username,
                    "trade_error_id": error.pk,
                    "error_type": error_type,
                    "message": message[:300],
                },
            )
    logger.warning("follower %s: trade error %s %s; paused", row.pk, error.pk, error_type)
    return error


def trade_error_record_for_order(*, order) -> TradeError:
    """A follower's order failed at the venue (or was never found there)."""
    error_type = _ORDER_ERROR_TYPES.get(order.error_code, ErrorType.CONNECTOR)
    for code, mapped in _REJECT_TYPES.items():
        if order.error_code == "REJECTED" and order.error_message.startswith(code):
            error_type = mapped
    details = {
        "order_id": order.pk,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "qty": format(order.qty.normalize(), "f"),
        "venue": order.venue,
        "exchange_account_id": order.exchange_account_id,
        "error_code": order.error_code,
    }
    return trade_error_record(
        settings_id=order.follow_settings_id,
        error_type=error_type,
        message=order.error_message or order.error_code,
        details=details,
        order=order,
    )


def trade_error_resolve(*, user: User, error_id: int, resolved_by: User | None = None) -> tuple[TradeError, bool]:
    """Mark one of `user`'s errors resolved (by them, or by an admin as `resolved_by`). When none
    is left unresolved, following resumes (is_active True) if an error is what turned it off
    (seed 000: the error pauses, resolving resumes); a follower who had turned following off by
    hand before the error stays off. Returns the error and whether following resumed."""
    resolved_by = resolved_by or user
    with transaction.atomic():
        row = FollowSettings.objects.select_for_update().filter(user=user).first()
        error = TradeError.objects.select_for_update().filter(pk=error_id, user=user).first()
        if error is None:
            raise NotFound(f"trade error {error_id} does not exist", field="error_id")
        if error.is_resolved:
            raise Conflict(f"trade error {error_id} is already resolved", code="already_resolved")
        error.is_resolved = True
        error.resolved_at = timezone.now()
        error.resolved_by = resolved_by
        error._change_reason = f"resolved by {resolved_by.get_username()}"
        error.save()
        resumed = False
        if row is not None and row.paused_by_error and not row.is_active and not _open_errors(user).exists():
            row.is_active = True
            row.paused_by_error = False
            row.sync_fingerprint = ""
            row._change_reason = f"resumed: trade error {error.pk} resolved, none left"
            row.save()
            resumed = True
            transaction.on_commit(lambda: _alert_resumed(row, error))
    logger.info("trade error %s resolved by user %s (resumed: %s)", error.pk, resolved_by.pk, resumed)
    return error, resumed


def master_account_open(*, user: User, credential_id: int) -> MasterAccount:
    """Open one of the caller's exchange accounts for following."""
    account = _own_account(user=user, account_id=credential_id, field="credential_id")
    with transaction.atomic():
        listing, _ = MasterAccount.objects.select_for_update().get_or_create(credential=account)
        if not listing.is_open:
            listing.is_open = True
            listing._change_reason = f"opened by {user.get_username()}"
            listing.save()
    return listing


def master_account_close(*, user: User, credential_id: int) -> MasterAccount:
    """Close an account for new followers; those already following keep following it."""
    if not 0 < credential_id < 2**63:  # from the URL: the driver would overflow
        raise NotFound(f"exchange account {credential_id} is not one of your master accounts")
    with transaction.atomic():
        listing = (
            MasterAccount.objects.select_for_update().select_related("credential").filter(credential_id=credential_id)
        )
        listing = listing.first()
        if listing is None or listing.credential.owner_id != user.pk:
            raise NotFound(f"exchange account {credential_id} is not one of your master accounts")
        listing.is_open = False
        listing._change_reason = f"closed by {user.get_username()}"
        listing.save()
    return listing


# Causes outside any one follower (the venue or its session down, positions unreadable): an
# outage pauses every follower on that venue at once, and should page someone once, not per
# follower. Balance and refusals are each follower's own and are sent per follower.
_VENUE_WIDE_ERRORS = {
    ErrorType.CONNECTOR,
    ErrorType.SESSION,
    ErrorType.POSITIONS_UNAVAILABLE,
    ErrorType.INSTRUMENT_UNKNOWN,
    ErrorType.NOT_FOUND_AT_VENUE,
    ErrorType.INTERNAL,
}


def _alert_paused(row: FollowSettings, error: TradeError, was_active: bool) -> None:
    from django.conf import settings as django_settings

    from ops.alerts import send_alert

    if not was_active:
        return
    message = error.error_message
    if not message.startswith(error.error_type):
        message = f"{error.error_type}: {message}"
    if error.error_type in _VENUE_WIDE_ERRORS:
        account = row.follower_credential
        key = f"venue:{account.venue}:{account.base_url}:{error.error_type}"
        more = (
            f"Other followers paused by {error.error_type} on this venue in the next "
            f"{django_settings.ALERT_DEDUP_SECONDS}s are not sent again: see /follow/admin/."
        )
    else:
        key = f"{row.pk}:{error.pk}"
        more = "Resolve the error to resume following."
    try:
        send_alert(
            event="follow_paused",
            key=key,
            title=f"Copy trading paused for {row.user.get_username()}",
            body=f"{message}\n{more}",
        )
    except Exception:
        logger.exception("alert for paused follower %s failed", row.pk)


def _alert_resumed(row: FollowSettings, error: TradeError) -> None:
    from ops.alerts import send_alert

    try:
        send_alert(
            event="follow_resumed",
            key=f"{row.pk}:{error.pk}",
            title=f"Copy trading resumed for {row.user.get_username()}",
            body=f"Trade error {error.pk} was resolved and none is left; following again.",
        )
    except Exception:
        logger.exception("alert for resumed follower %s failed", row.pk)


def follower_signup(*, username: str, password: str) -> User:
    """A new desk user with no desk role (they can follow, not trade); only with FOLLOW_SIGNUP_OPEN."""
    if not settings.FOLLOW_SIGNUP_OPEN:
        raise Conflict("sign-up is closed; ask an admin for an account", code="signup_closed")
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
    except IntegrityError:
        raise InvalidInput("is taken", field="username") from None
    logger.info("user %s signed up for copy trading", user.pk)
    return user
