"""Reads for the pro site's tables: orders and fills as display rows, ten to a page, newest first."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from executor.paper import selectors as paper_selectors
from executor.paper.models import OrderStatus, OrderType, PaperAccount, PaperOrder, PaperTrade
from executor.paper.pro import display
from executor.paper.pro.display import Precision

PAGE_SIZE = 10
TABS = ("open", "history", "trades")


@dataclass(frozen=True)
class OrderRow:
    number: int
    time: str
    pair: str
    side: str
    side_class: str
    type: str
    price: str
    avg_price: str
    amount: str
    filled: str
    status: str
    can_cancel: bool


@dataclass(frozen=True)
class TradeRow:
    number: int
    order_number: int
    time: str
    pair: str
    side: str
    side_class: str
    type: str
    price: str
    amount: str
    fee: str
    total: str
    role: str


def _precisions() -> dict[str, Precision]:
    return {row.symbol: Precision.of(row) for row in paper_selectors.instrument_list()}


def order_row(order: PaperOrder, precision: Precision) -> OrderRow:
    return OrderRow(
        number=order.pk,
        time=display.local_time(order.created_at),
        pair=display.pair_label(order.symbol),
        side=display.SIDE_LABELS.get(order.side, order.side),
        side_class=display.SIDE_CLASSES.get(order.side, ""),
        type=display.TYPE_LABELS.get(order.order_type, order.order_type),
        # A market order has no price of its own: the dash, as exchanges show it.
        price=display.number(order.price if order.order_type == OrderType.LIMIT else None, precision.price),
        avg_price=display.number(order.avg_price, precision.price),
        amount=display.number(order.qty, precision.amount),
        filled=display.number(order.filled_qty, precision.amount),
        status=display.STATUS_LABELS.get(order.status, order.status.replace("_", " ").capitalize()),
        can_cancel=order.is_open,
    )


def trade_row(trade: PaperTrade, precision: Precision) -> TradeRow:
    return TradeRow(
        number=trade.pk,
        order_number=trade.order_id,
        time=display.local_time(trade.created_at),
        pair=display.pair_label(trade.symbol),
        side=display.SIDE_LABELS.get(trade.side, trade.side),
        side_class=display.SIDE_CLASSES.get(trade.side, ""),
        type=display.TYPE_LABELS.get(trade.order.order_type, trade.order.order_type),
        price=display.number(trade.price, precision.price),
        amount=display.number(trade.qty, precision.amount),
        fee=f"{display.number(trade.fee, 8).rstrip('0').rstrip('.')} {trade.fee_asset}",
        total=display.number(trade.quote_qty, precision.price),
        role="Maker" if trade.is_maker else "Taker",
    )


@dataclass(frozen=True)
class Table:
    tab: str
    rows: list
    page: Page | None  # None for open orders: all of them, on one page

    @property
    def page_numbers(self) -> list:
        """1 2 … 7 8 9 … 20: the current page with two either side, and the ends."""
        if self.page is None:
            return []
        pages = self.page.paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1)
        return [number if isinstance(number, int) else "…" for number in pages]


def table_get(*, account: PaperAccount, tab: str, page: int = 1) -> Table:
    precisions = _precisions()
    fallback = Precision.of(None)
    if tab == "open":
        orders = paper_selectors.order_list_open(account=account)
        return Table(tab, [order_row(o, precisions.get(o.symbol, fallback)) for o in orders], None)
    if tab == "history":
        # Refused orders never reached the book, so the site does not list them, as exchanges do not.
        source = paper_selectors.order_list(account=account).exclude(status=OrderStatus.REJECTED)
        make = order_row
    else:
        source = paper_selectors.trade_list(account=account)
        make = trade_row
    current = Paginator(source, PAGE_SIZE).get_page(page)
    return Table(tab, [make(item, precisions.get(item.symbol, fallback)) for item in current.object_list], current)


def open_order_count(*, account: PaperAccount) -> int:
    return paper_selectors.order_list_open(account=account).count()


def previous_order(*, account: PaperAccount, before: PaperOrder | None) -> PaperOrder | None:
    """The newest order that was placed (not refused) before `before`: the stale toast shows it."""
    orders = paper_selectors.order_list(account=account).exclude(status=OrderStatus.REJECTED)
    if before is not None:
        orders = orders.exclude(pk=before.pk).filter(pk__lt=before.pk)
    return orders.order_by("-pk").first()
