"""Every write to copy trading: settings, masters open for following, the error ledger.

The sync engine (placing follower orders) is in following/sync.py.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from executor.models import ExchangeAccount
from following import notify, selectors, sizing, venue
from following.models import (
    DEFAULT_MAX_SLIPPAGE,
    ErrorType,
    FollowSettings,
    JoinMode,
    MasterAccount,
    SizingMode,
    TradeError,
    UnfollowMode,
)
from ops import alerts
from tradedesk import events
from tradedesk.exceptions import Conflict, InvalidInput, NotFound
from tradedesk.formatting import decimal_text
from tradedesk.ids import is_row_id
from tradedesk.symbols import normalize_symbol

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
    single: bool = False,
    **options,
) -> FollowSettings:
    """A follow of one master (the master user is the master account's owner). `single`: the
    seed's one-follow endpoint, refused when the user already follows anyone. `options`: sizing,
    joining, slippage and caps (see FOLLOW_OPTIONS); joining with changes only records the
    master's current positions as the baseline that is never copied."""
    _check_ratio(follow_ratio)
    options = _check_options(options)
    if options.get("max_slippage") is None:
        options["max_slippage"] = Decimal(DEFAULT_MAX_SLIPPAGE)
    master = _master_account(account_id=master_credential_id)
    if master_user_id is not None and master_user_id != master.owner_id:
        raise InvalidInput("is not the owner of master_credential_id", field="master_user_id")
    follower = _own_account(user=user, account_id=follower_credential_id, field="follower_credential_id")
    _check_pair(user=user, master=master, follower=follower)
    if options.get("join_mode") == JoinMode.CHANGES:
        options["join_baseline"] = _master_positions(master)
    row = FollowSettings(
        user=user,
        master_user_id=master.owner_id,
        master_credential=master,
        follower_credential=follower,
        follow_ratio=follow_ratio,
        is_active=is_active,
        **options,
    )
    row._change_reason = f"created by {user.get_username()}"
    try:
        with transaction.atomic():
            if single and FollowSettings.objects.filter(user=user, ended_at__isnull=True).exists():
                raise IntegrityError("one follow per user on this endpoint")
            row.save()
    except IntegrityError:
        if single:
            raise Conflict("you already have follow settings; change them with PUT", code="settings_exist") from None
        raise Conflict(
            f"you already follow master account {master.pk}; change that follow instead",
            field="master_credential_id",
            code="already_following",
        ) from None
    logger.info("follow settings %s created for user %s (master account %s)", row.pk, user.pk, master.pk)
    return row


def _the_follow(*, user: User, settings_id: int | None):
    """The follow a change is for: the one named, or the seed endpoint's only open follow."""
    rows = FollowSettings.objects.filter(user=user, ended_at__isnull=True)
    if settings_id is not None:
        return rows.filter(pk=settings_id) if is_row_id(settings_id) else rows.none()
    if rows.count() > 1:
        raise Conflict(
            "you follow several masters; change one with /api/v1/follow-config/follows/<id>", code="several_follows"
        )
    return rows


def follow_settings_update(
    *, user: User, settings_id: int | None = None, confirm: bool = False, **changes
) -> FollowSettings:
    """Change one follow (`settings_id`, or the user's only one). Any change re-evaluates the
    follow on the next cycle.

    Turning following back on is refused while an error is unresolved: resolve it instead. A
    change of ratio or sizing that would make a target the master holds round to zero or fall
    below the venue minimum is refused (409 confirm_required, naming the field) unless
    `confirm` is true: the seed sold a whole position on a tiny ratio without a word.
    """
    if "follow_ratio" in changes:
        _check_ratio(changes["follow_ratio"])
    options = _check_options({k: changes.pop(k) for k in list(changes) if k in FOLLOW_OPTIONS})
    master = follower = None
    current_row = _the_follow(user=user, settings_id=settings_id).first()
    if current_row is None:
        raise NotFound("you have no follow settings yet; create them with POST")
    current = current_row.master_credential_id
    if not confirm and ({"follow_ratio", "sizing_mode", "fixed_notional"} & (set(changes) | set(options))):
        _confirm_targets(current_row, changes, options)
    if "master_credential_id" in changes and changes["master_credential_id"] != current:
        # Only a new master must be open for following; a closed one keeps its followers.
        master = _master_account(account_id=changes["master_credential_id"])
    if "follower_credential_id" in changes:
        follower = _own_account(user=user, account_id=changes["follower_credential_id"], field="follower_credential_id")
    with transaction.atomic():
        row = _the_follow(user=user, settings_id=settings_id).select_for_update().first()
        if row is None:
            raise NotFound("you have no follow settings yet; create them with POST")
        master = master or row.master_credential
        follower = follower or row.follower_credential
        if "master_user_id" in changes and changes["master_user_id"] != master.owner_id:
            raise InvalidInput("is not the owner of master_credential_id", field="master_user_id")
        _check_pair(user=user, master=master, follower=follower)
        if changes.get("is_active") and not row.is_active and _open_errors(row).exists():
            then = "resolving the last one resumes following" if row.paused_by_error else "then turn following on"
            raise Conflict(
                f"resolve your unresolved trade errors first; {then}", field="is_active", code="unresolved_errors"
            )
        old = {"ratio": row.follow_ratio, "active": row.is_active}
        row.master_credential, row.master_user_id, row.follower_credential = master, master.owner_id, follower
        for name in ("follow_ratio", "is_active"):
            if name in changes:
                setattr(row, name, changes[name])
        for name, value in options.items():
            setattr(row, name, value)
        if row.is_active:
            row.paused_by_error = False
        row.sync_fingerprint = ""
        row._change_reason = f"changed by {user.get_username()}"
        row.save()
    logger.info("follow settings %s changed by user %s (was %s)", row.pk, user.pk, old)
    return row


def _open_errors(row: FollowSettings):
    """The follow's own unresolved errors (and a user-wide one from before several masters)."""
    return TradeError.objects.filter(is_resolved=False).filter(
        Q(follow_settings=row) | Q(follow_settings__isnull=True, user_id=row.user_id)
    )


FOLLOW_OPTIONS = (
    "sizing_mode",
    "fixed_notional",
    "join_mode",
    "max_slippage",
    "max_order_notional",
    "max_position_notional",
    "max_trades_per_day",
    "max_loss",
    "allowed_symbols",
)


def _check_options(options: dict) -> dict:
    unknown = set(options) - set(FOLLOW_OPTIONS)
    if unknown:
        raise InvalidInput("is not a follow option", field=sorted(unknown)[0])
    mode = options.get("sizing_mode")
    if mode is not None and mode not in SizingMode.values:
        raise InvalidInput(f"must be one of {', '.join(SizingMode.values)}", field="sizing_mode")
    if mode == SizingMode.FIXED_NOTIONAL and not options.get("fixed_notional"):
        raise InvalidInput("is required for the fixed_notional sizing mode", field="fixed_notional")
    if options.get("join_mode") is not None and options["join_mode"] not in JoinMode.values:
        raise InvalidInput(f"must be one of {', '.join(JoinMode.values)}", field="join_mode")
    slippage = options.get("max_slippage")
    if slippage is not None and not Decimal("0") <= slippage < Decimal("0.1"):
        raise InvalidInput("must be at least 0 and under 0.1 (10%)", field="max_slippage")
    for name in ("fixed_notional", "max_order_notional", "max_position_notional"):
        if options.get(name) is not None and options[name] <= 0:
            raise InvalidInput("must be greater than 0", field=name)
    if options.get("max_loss") is not None and not Decimal("0") < options["max_loss"] < 1:
        raise InvalidInput("must be between 0 and 1 (0.2 = 20%)", field="max_loss")
    if options.get("max_trades_per_day") is not None and options["max_trades_per_day"] < 1:
        raise InvalidInput("must be at least 1", field="max_trades_per_day")
    if options.get("allowed_symbols") is not None:
        symbols = options["allowed_symbols"]
        if not isinstance(symbols, list) or not all(isinstance(x, str) and 0 < len(x) <= 40 for x in symbols):
            raise InvalidInput("must be a list of symbols like BTC/USDT", field="allowed_symbols")
        try:
            # The desk's spelling (BTC/USDT), the one positions and orders use: "btc-usdt" as typed
            # would otherwise match nothing and block every trade.
            options["allowed_symbols"] = sorted({normalize_symbol(x) for x in symbols})
        except InvalidInput:
            raise InvalidInput("must be a list of symbols like BTC/USDT", field="allowed_symbols") from None
    return options


def _master_positions(master: ExchangeAccount) -> dict[str, str]:
    """The master's positions now (the changes-only baseline); the venue must answer."""
    try:
        return {p.symbol: decimal_text(p.qty) for p in venue.read_positions(master) if p.qty}
    except Exception as exc:
        raise Conflict(
            f"the master's positions could not be read to start from them ({exc}); try again",
            field="join_mode",
            code="master_unavailable",
        ) from None


def follow_target_preview(*, row: FollowSettings, ratio: Decimal, sizing_mode: str) -> list[dict]:
    """What the follow's targets would be for the master's positions now: per symbol the
    unrounded and rounded target and whether it rounds to zero or falls below the venue minimum.
    Equity and fixed notional targets depend on prices at trade time: only ratio is previewed."""
    if sizing_mode != SizingMode.RATIO:
        return []
    try:
        positions = {p.symbol: p.qty for p in venue.read_positions(row.master_credential) if p.qty}
    except Exception:
        logger.warning("follow %s: master positions unavailable for the preview", row.pk)
        return []
    instruments = venue.instruments_for(row.follower_credential)
    lines = []
    for symbol, master_qty in sorted(positions.items()):
        baseline = Decimal((row.join_baseline or {}).get(symbol, "0"))
        copied = sizing.effective_master(master_qty, baseline)
        if not copied:
            continue
        instrument = instruments.get(symbol)
        lot = instrument.lot_size if instrument else settings.FOLLOW_DEFAULT_LOT_SIZE
        min_qty = instrument.min_qty if instrument else lot
        raw = copied * ratio
        target = sizing.round_target(raw, lot)
        problem = "rounds_to_zero" if not target else "below_min" if abs(target) < min_qty else ""
        lines.append({"symbol": symbol, "target_unrounded": _t(raw), "target": _t(target), "problem": problem})
    return lines


def _t(value: Decimal) -> str:
    return decimal_text(value) if value else "0"


def _confirm_targets(row: FollowSettings, changes: dict, options: dict) -> None:
    ratio = changes.get("follow_ratio", row.follow_ratio)
    mode = options.get("sizing_mode", row.sizing_mode)
    bad = [line for line in follow_target_preview(row=row, ratio=ratio, sizing_mode=mode) if line["problem"]]
    if bad:
        text = "; ".join(
            f"{line['symbol']} {line['target_unrounded']} -> {line['target']} ({line['problem'].replace('_', ' ')})"
            for line in bad
        )
        raise Conflict(
            f"with this ratio a target is too small for the venue: {text}. Your copied position there would be "
            "closed or never opened; send confirm=true to change it anyway",
            field="follow_ratio",
            code="confirm_required",
            figures={"targets": bad},
        )


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
            follow_settings=row,
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
        # The follower's own notification, queued after commit.
        notify.notify_trade_error(
            user_id=row.user_id, error_type=error_type, message=message, paused=was_active, master=str(row.master_user)
        )
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
        "qty": decimal_text(order.qty),
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
        error = TradeError.objects.select_for_update().filter(pk=error_id, user=user).first()
        if error is None:
            raise NotFound(f"trade error {error_id} does not exist", field="error_id")
        rows = FollowSettings.objects.select_for_update().filter(user=user)
        if error.follow_settings_id is not None:
            rows = rows.filter(pk=error.follow_settings_id)
        row = rows.order_by("id").first()
        if error.is_resolved:
            raise Conflict(f"trade error {error_id} is already resolved", code="already_resolved")
        error.is_resolved = True
        error.resolved_at = timezone.now()
        error.resolved_by = resolved_by
        error._change_reason = f"resolved by {resolved_by.get_username()}"
        error.save()
        resumed = False
        if error.error_type == ErrorType.CAP_MAX_LOSS and row is not None:
            row.equity_high_water = None  # a new high-water mark from the equity now
            FollowSettings.objects.filter(pk=row.pk).update(equity_high_water=None)
        if row is not None and row.paused_by_error and not row.is_active and not _open_errors(row).exists():
            row.is_active = True
            row.paused_by_error = False
            row.sync_fingerprint = ""
            row._change_reason = f"resumed: trade error {error.pk} resolved, none left"
            row.save()
            resumed = True
            transaction.on_commit(lambda: _alert_resumed(row, error))
            notify.notify_resumed(user_id=row.user_id, master=str(row.master_user))
    logger.info("trade error %s resolved by user %s (resumed: %s)", error.pk, resolved_by.pk, resumed)
    return error, resumed


def follow_end(*, user: User, settings_id: int | None = None, mode: str) -> FollowSettings:
    """Unfollow. `keep`: the copied positions stay the follower's and are never synced again
    (off at once). `close`: the engine sells (or buys back) what this follow copied, at limit
    prices within its max slippage, then turns it off; its row stays for its orders and
    statistics. Either way the master may be followed again later as a new follow."""
    if mode not in UnfollowMode.values:
        raise InvalidInput(f"must be one of {', '.join(UnfollowMode.values)}", field="positions")
    with transaction.atomic():
        row = _the_follow(user=user, settings_id=settings_id).select_for_update().first()
        if row is None:
            raise NotFound("you have no such follow", field="settings_id")
        row.ended_at = timezone.now()
        row.unfollow_mode = mode
        row.sync_fingerprint = ""
        if mode == UnfollowMode.KEEP:
            # What this follow copied: its own orders' fills (the venue is not asked inside this
            # transaction, and a sync's last read may be mid-order).
            held = selectors.follow_ledger(settings_ids=[row.pk]).get(row.pk, {})
            row.kept_positions = {symbol: decimal_text(qty) for symbol, qty in held.items() if qty}
            row.is_active = False
        else:
            # Closing needs the engine: on until every copied position is closed, errors or not.
            row.is_active = not _open_errors(row).exists()
        row.paused_by_error = False
        row._change_reason = f"unfollowed by {user.get_username()} ({mode} positions)"
        row.save()
    logger.info("follow %s ended by user %s (%s)", row.pk, user.pk, mode)
    return row


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
    if not is_row_id(credential_id):  # from the URL: the driver would overflow
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
            f"{settings.ALERT_DEDUP_SECONDS}s are not sent again: see /follow/admin/."
        )
    else:
        key = f"{row.pk}:{error.pk}"
        more = "Resolve the error to resume following."
    try:
        alerts.send_alert(
            event="follow_paused",
            key=key,
            title=f"Copy trading paused for {row.user.get_username()}",
            body=f"{message}\n{more}",
        )
    except Exception:
        logger.exception("alert for paused follower %s failed", row.pk)


def _alert_resumed(row: FollowSettings, error: TradeError) -> None:
    try:
        alerts.send_alert(
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
