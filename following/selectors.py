"""Reads for copy trading, scoped to the user asking, and the sync engine's reads."""

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from executor.connectors.base import Position
from executor.models import ExchangeAccount
from following.models import FollowSettings, MasterAccount, SyncRun, TradeError
from orders.models import IN_FLIGHT_STATUSES, Order, OrderStatus, VenueState
from tradedesk.db import prepared_cursor
from tradedesk.ids import is_row_id


def follow_list(*, user: User, include_ended: bool = False) -> QuerySet[FollowSettings]:
    """The user's follows (one per master), oldest first."""
    rows = FollowSettings.objects.select_related("master_user", "master_credential", "follower_credential")
    rows = rows.filter(user=user)
    if not include_ended:
        rows = rows.filter(ended_at__isnull=True)
    return rows.order_by("id")


def follow_get(*, user: User, settings_id: int) -> FollowSettings | None:
    if not is_row_id(settings_id):
        return None
    return follow_list(user=user, include_ended=True).filter(pk=settings_id).first()


def follow_settings_get(*, user: User) -> FollowSettings | None:
    """The seed's one follow per user: the user's first open follow."""
    return follow_list(user=user).first()


def trade_error_list(*, user: User, is_resolved: bool | None = None) -> QuerySet[TradeError]:
    rows = TradeError.objects.filter(user=user).select_related("trade_log", "resolved_by")
    if is_resolved is not None:
        rows = rows.filter(is_resolved=is_resolved)
    return rows


def unresolved_error_count(*, user_id: int, settings_id: int | None = None) -> int:
    rows = TradeError.objects.filter(user_id=user_id, is_resolved=False)
    if settings_id is not None:
        rows = rows.filter(Q(follow_settings_id=settings_id) | Q(follow_settings__isnull=True))
    return rows.count()


def _open_error_of_follow():
    return TradeError.objects.filter(is_resolved=False).filter(
        Q(follow_settings_id=OuterRef("pk")) | Q(follow_settings__isnull=True, user_id=OuterRef("user_id"))
    )


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
        ExchangeAccount.objects.filter(owner=user, is_active=True, is_desk_default=False, is_desk_account=False)
        .filter(~Exists(desk_orders))
        .order_by("label")
    )


def is_desk_account(account: ExchangeAccount) -> bool:
    return (
        account.is_desk_default
        or account.is_desk_account
        or account.orders.filter(follow_settings__isnull=True).exists()
    )


def followers_to_sync(*, master_id: int | None = None, settings_ids: set[int] | None = None) -> list[FollowSettings]:
    """Every active follow with no unresolved error of its own, with what the engine needs, in
    one query. An unfollow with `close` stays active until its copied positions are closed.

    `master_id`: only the follows of the accounts following that master (with their follows of
    other masters: an account is evaluated as one). `settings_ids`: only those follows (a batch).
    Filtered in the query, so one master's sync or batch never reads every master's followers."""
    rows = FollowSettings.objects.filter(is_active=True)
    if master_id is not None:
        accounts = FollowSettings.objects.filter(master_credential_id=master_id, is_active=True)
        rows = rows.filter(follower_credential_id__in=accounts.values("follower_credential_id"))
    if settings_ids is not None:
        rows = rows.filter(pk__in=sorted(settings_ids))
    return list(
        rows.filter(~Exists(_open_error_of_follow()))
        .select_related("user", "master_credential", "follower_credential")
        .order_by("master_credential_id", "id")
    )


@dataclass(frozen=True)
class FollowState:
    followable: bool  # active, with no open error of its own
    evaluated_since: bool  # evaluated (or ended) since the row was read


def follow_state(row: FollowSettings) -> FollowState:
    """Where the follow stands now against `row` as this cycle read it (one statement, prepared
    on PostgreSQL: it runs once per follower evaluated): every evaluation writes last_checked_at,
    a pause clears is_active, an unfollow sets ended_at."""
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(_follow_state_statement(), [row.pk])
            found = cursor.fetchone()
    else:
        found = (
            FollowSettings.objects.filter(pk=row.pk)
            .annotate(open_error=Exists(_open_error_of_follow()))
            .values_list("is_active", "open_error", "last_checked_at", "ended_at")
            .first()
        )
    if found is None:
        return FollowState(followable=False, evaluated_since=True)
    active, open_error, checked, ended = found
    return FollowState(active and not open_error, (checked, ended) != (row.last_checked_at, row.ended_at))


@functools.cache
def _follow_state_statement() -> str:
    """follow_state's query as SQL (the ORM would build it anew for every follower)."""
    quote = connection.ops.quote_name
    follow, error = FollowSettings._meta, TradeError._meta
    f, e = quote(follow.db_table), quote(error.db_table)
    names = ("id", "is_active", "last_checked_at", "ended_at", "user")
    fid, active, checked, ended, owner = (f"{f}.{quote(follow.get_field(name).column)}" for name in names)
    resolved, of_follow, of_user = (
        f"{e}.{quote(error.get_field(name).column)}" for name in ("is_resolved", "follow_settings", "user")
    )
    where = f"NOT {resolved} AND ({of_follow} = {fid} OR ({of_follow} IS NULL AND {of_user} = {owner}))"
    open_error = f"EXISTS (SELECT 1 FROM {e} WHERE {where})"  # noqa: S608
    return f"SELECT {active}, {open_error}, {checked}, {ended} FROM {f} WHERE {fid} = %s"  # noqa: S608


def follower_symbols_in_flight(*, settings_ids: list[int]) -> dict[int, set[str]]:
    """Symbols each follow has an order in flight for (one query for all followers): being
    placed or unknown, or accepted and still resting at the venue (a slippage-capped limit)."""
    found: dict[int, set[str]] = defaultdict(set)
    resting = Q(status=OrderStatus.SUCCESS, venue_state__in=[VenueState.OPEN, VenueState.PARTIALLY_FILLED])
    rows = Order.objects.filter(follow_settings__isnull=False).filter(Q(status__in=IN_FLIGHT_STATUSES) | resting)
    if len(settings_ids) < 500:
        rows = rows.filter(follow_settings_id__in=settings_ids)
    for settings_id, symbol in rows.values_list("follow_settings_id", "symbol"):
        found[settings_id].add(symbol)
    return found


def resting_follower_orders(*, settings_id: int) -> list[Order]:
    """A follow's accepted orders still open at the venue (limits not yet filled)."""
    return list(
        Order.objects.filter(
            follow_settings_id=settings_id,
            status=OrderStatus.SUCCESS,
            venue_state__in=[VenueState.OPEN, VenueState.PARTIALLY_FILLED],
        ).order_by("id")
    )


def follow_ledger(*, settings_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """Each follow's copied position per symbol: the signed fills of its accepted orders."""
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = (
        Order.objects.filter(follow_settings_id__in=settings_ids, status=OrderStatus.SUCCESS)
        .values("follow_settings_id", "symbol", "side")
        .annotate(filled=Sum("filled_qty"), ordered=Sum("qty"))
    )
    for row in rows:
        qty = row["filled"] if row["filled"] is not None else row["ordered"]
        totals[row["follow_settings_id"]][row["symbol"]] += qty if row["side"] == "BUY" else -qty
    return {key: dict(value) for key, value in totals.items()}


@dataclass
class Share:
    """What one follow owns of its follower account. The account's first open follow (lowest id)
    is `primary`: it owns what the account holds minus `offsets` (the other follows' copied and
    kept positions), as the seed's one follow owned the whole account; the others own their
    `ledger` (their own orders' fills)."""

    primary: bool
    offsets: dict[str, Decimal] = field(default_factory=dict)
    ledger: dict[str, Decimal] = field(default_factory=dict)
    siblings: list[int] = field(default_factory=list)


def follow_shares(*, rows: list[FollowSettings]) -> dict[int, Share]:
    """Shares of the follows in `rows`, for accounts followed with more than one follow; a
    follow missing from the answer is alone on its account (the seed's case: no query)."""
    accounts = {row.follower_credential_id for row in rows}
    everyone = list(
        FollowSettings.objects.filter(follower_credential_id__in=accounts)
        .filter(Q(ended_at__isnull=True) | Q(is_active=True) | Q(unfollow_mode="keep"))
        .values("id", "follower_credential_id", "ended_at", "is_active")
        .order_by("id")
    )
    by_account: dict[int, list[dict]] = defaultdict(list)
    for item in everyone:
        by_account[item["follower_credential_id"]].append(item)
    shared = {account: items for account, items in by_account.items() if len(items) > 1}
    if not shared:
        return {}
    ids = [item["id"] for items in shared.values() for item in items]
    ledgers = follow_ledger(settings_ids=ids)
    shares: dict[int, Share] = {}
    for items in shared.values():
        open_ids = [item["id"] for item in items if item["ended_at"] is None]
        primary = open_ids[0] if open_ids else None
        offsets: dict[str, Decimal] = defaultdict(Decimal)
        for item in items:
            if item["id"] == primary:
                continue
            # Copied and kept positions alike are the follow's own orders' fills, read now: an order
            # still in flight when it was unfollowed counts once it settles (its symbol waits).
            held = ledgers.get(item["id"], {})
            for symbol, qty in held.items():
                offsets[symbol] += qty
        siblings = [item["id"] for item in items]
        for item in items:
            is_primary = item["id"] == primary
            shares[item["id"]] = Share(
                primary=is_primary,
                offsets=dict(offsets) if is_primary else {},
                ledger=ledgers.get(item["id"], {}),
                siblings=[other for other in siblings if other != item["id"]],
            )
    return shares


def follow_trades_today(*, settings_id: int, since) -> int:
    """A follow's orders that reached (or may have reached) the venue since `since`."""
    return (
        Order.objects.filter(follow_settings_id=settings_id, created_at__gte=since)
        .exclude(status__in=[OrderStatus.FAILED, OrderStatus.CANCELED])
        .count()
    )


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
