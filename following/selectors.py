"""Reads for copy trading, scoped to the user asking, and the sync engine's reads."""

from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from executor.connectors.base import Position
from executor.models import ExchangeAccount
from following.models import FollowSettings, MasterAccount, SyncRun, TradeError
from orders.models import IN_FLIGHT_STATUSES, Order, OrderStatus


def follow_settings_get(*, user: User) -> FollowSettings | None:
    return (
        FollowSettings.objects.select_related("master_user", "master_credential", "follower_credential")
        .filter(user=user)
        .first()
    )


def trade_error_list(*, user: User, is_resolved: bool | None = None) -> QuerySet[TradeError]:
    rows = TradeError.objects.filter(user=user).select_related("trade_log", "resolved_by")
    if is_resolved is not None:
        rows = rows.filter(is_resolved=is_resolved)
    return rows


def unresolved_error_count(*, user_id: int) -> int:
    return TradeError.objects.filter(user_id=user_id, is_resolved=False).count()


def master_account_list() -> QuerySet[MasterAccount]:
    """Accounts open for following (any logged-in user may choose one)."""
    return (
        MasterAccount.objects.filter(is_open=True, credential__is_active=True)
        .select_related("credential__owner")
        .annotate(followers=Count("credential__followed_by", filter=Q(credential__followed_by__is_active=True)))
        .order_by("credential__owner__username", "credential__label")
    )


def own_account_list(*, user: User) -> QuerySet[ExchangeAccount]:
    """The user's accounts a follower may trade with: not the desk's own (the desk default, or one
    desk orders went to): copy trading there would trade against the desk's book."""
    desk_orders = Order.objects.filter(exchange_account=OuterRef("pk"), follow_settings__isnull=True)
    return (
        ExchangeAccount.objects.filter(owner=user, is_active=True, is_desk_default=False)
        .filter(~Exists(desk_orders))
        .order_by("label")
    )


def is_desk_account(account: ExchangeAccount) -> bool:
    return account.is_desk_default or account.orders.filter(follow_settings__isnull=True).exists()


def followers_to_sync() -> list[FollowSettings]:
    """Every active follower with no unresolved error, with what the engine needs, in one query."""
    open_error = TradeError.objects.filter(user_id=OuterRef("user_id"), is_resolved=False)
    return list(
        FollowSettings.objects.filter(is_active=True)
        .filter(~Exists(open_error))
        .select_related("user", "master_credential", "follower_credential")
        .order_by("master_credential_id", "id")
    )


def follower_symbols_in_flight(*, settings_ids: list[int]) -> dict[int, set[str]]:
    """Symbols each follower has an order in flight for (one query for all followers)."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = Order.objects.filter(follow_settings__isnull=False, status__in=IN_FLIGHT_STATUSES)
    if len(settings_ids) < 500:
        rows = rows.filter(follow_settings_id__in=settings_ids)
    for settings_id, symbol in rows.values_list("follow_settings_id", "symbol"):
        found[settings_id].add(symbol)
    return found


def ledger_positions(*, account_id: int) -> list[Position]:
    """A follower's positions as the desk placed them (filled follower orders), for accounts
    whose venue cannot be asked (a browser account without an API key)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    rows = (
        Order.objects.filter(exchange_account_id=account_id, follow_settings__isnull=False, status=OrderStatus.SUCCESS)
        .values("symbol", "side")
        .annotate(filled=Sum("filled_qty"), ordered=Sum("qty"))
    )
    for row in rows:
        qty = row["filled"] if row["filled"] is not None else row["ordered"]
        totals[row["symbol"]] += qty if row["side"] == "BUY" else -qty
    return [Position(symbol, qty) for symbol, qty in sorted(totals.items()) if qty]


def follower_overview() -> QuerySet[FollowSettings]:
    """Every follower with its status, for the admin page."""
    open_errors = Count("user__trade_errors", filter=Q(user__trade_errors__is_resolved=False))
    return (
        FollowSettings.objects.select_related("user", "master_user", "master_credential", "follower_credential")
        .annotate(open_errors=open_errors)
        .order_by("user__username")
    )


def sync_run_last() -> SyncRun | None:
    return SyncRun.objects.exclude(outcome=SyncRun.Outcome.SKIPPED).first()


def follower_orders(*, settings_id: int, limit: int = 20) -> list[Order]:
    return list(Order.objects.filter(follow_settings_id=settings_id).order_by("-created_at", "-id")[:limit])
