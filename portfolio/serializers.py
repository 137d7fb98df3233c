"""The shapes of positions, balances, journal rows and strategy summaries in the API."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolio.selectors import balances_of
from tradedesk.formatting import decimal_text


@extend_schema_field({"type": "string", "format": "decimal", "example": "61000.5"})
class DecimalString(serializers.Field):
    """An exact decimal as a string without trailing zeros ("61000", "0.5"); null when unknown."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal | None) -> str | None:
        if value is None:
            return None
        return decimal_text(Decimal(value))


class PositionOutput(serializers.Serializer):
    symbol = serializers.CharField(source="pnl.symbol")
    base = serializers.CharField(source="pnl.base")
    quote = serializers.CharField(source="pnl.quote")
    qty = DecimalString(source="pnl.qty", help_text="From the desk's fills; negative for a short.")
    avg_entry = DecimalString(source="pnl.avg_entry", allow_null=True, help_text="Average cost of the open qty.")
    last_price = DecimalString(source="pnl.last_price", allow_null=True)
    market_value = DecimalString(source="pnl.market_value", allow_null=True)
    realized_pnl = DecimalString(source="pnl.realized_pnl", help_text="After fees, in the quote currency.")
    unrealized_pnl = DecimalString(source="pnl.unrealized_pnl", allow_null=True)
    fees = DecimalString(source="pnl.fees", help_text="Quote- and base-currency fees, valued in the quote currency.")
    other_fees = serializers.SerializerMethodField(help_text="Fees in other assets, per asset; not in the P&L.")
    fills = serializers.IntegerField(source="pnl.fills")
    venue_qty = DecimalString(allow_null=True, help_text="The venue's position; null when it could not be read.")
    venue_avg_price = DecimalString(allow_null=True)
    drift = DecimalString(allow_null=True, help_text="venue_qty - qty; non-zero means the fills do not explain it.")

    def get_other_fees(self, row) -> dict[str, str]:
        return {asset: DecimalString().to_representation(fee) for asset, fee in row.pnl.other_fees.items()}


class BalanceOutput(serializers.Serializer):
    asset = serializers.CharField()
    free = DecimalString()
    locked = DecimalString()

    total = DecimalString()


class AccountOutput(serializers.Serializer):
    account_id = serializers.IntegerField(allow_null=True, help_text="Null for the dry run.")
    label = serializers.CharField()
    venue = serializers.CharField()
    connector = serializers.CharField()


class AccountPositionsOutput(AccountOutput):
    positions = PositionOutput(source="rows", many=True)
    venue_error = serializers.CharField(source="venue_positions.error", help_text="Why the venue was not read.")
    drift = serializers.SerializerMethodField(help_text="True when a venue position disagrees with the fills.")
    totals = serializers.SerializerMethodField(help_text="Per quote currency: realized, unrealized P&L and fees.")

    def get_drift(self, portfolio) -> bool:
        return bool(portfolio.drifts)

    def get_totals(self, portfolio) -> dict[str, dict[str, str | None]]:
        to_text = DecimalString().to_representation
        return {
            quote: {name: to_text(value) for name, value in figures.items()}
            for quote, figures in portfolio.totals_by_quote().items()
        }


class AccountBalancesOutput(AccountOutput):
    balances = serializers.SerializerMethodField()
    error = serializers.CharField(source="balances.error")
    read_at = serializers.DateTimeField(source="balances.read_at", allow_null=True)

    def get_balances(self, portfolio) -> list[dict]:
        return BalanceOutput(balances_of(portfolio), many=True).data


class JournalFillOutput(serializers.Serializer):
    """A journal row: one fill with its order."""

    id = serializers.IntegerField()
    time = serializers.DateTimeField()
    trade_id = serializers.CharField()
    qty = DecimalString()
    price = DecimalString()
    fee = DecimalString()
    fee_asset = serializers.CharField()
    order_id = serializers.IntegerField()
    signal_id = serializers.IntegerField(source="order.signal_id", allow_null=True)
    strategy = serializers.CharField(source="order.signal.strategy_name", default="")
    account = serializers.CharField(source="order.exchange_account.label", default="dry run")
    symbol = serializers.CharField(source="order.symbol")
    side = serializers.CharField(source="order.side")
    order_type = serializers.CharField(source="order.order_type")
    order_qty = DecimalString(source="order.qty")
    order_status = serializers.CharField(source="order.status")
    venue_state = serializers.CharField(source="order.venue_state")


class StrategySummaryOutput(serializers.Serializer):
    strategy = serializers.CharField()
    signals = serializers.IntegerField()
    orders = serializers.IntegerField(help_text="Desk orders confirmed from the strategy's signals.")
    orders_accepted = serializers.IntegerField(help_text="Of them, accepted by the venue (status SUCCESS).")
    orders_filled = serializers.IntegerField(help_text="Of them, FILLED at the venue.")
    ordered_qty = DecimalString(help_text="Qty of the accepted orders.")
    filled_qty = DecimalString()
    fill_rate = DecimalString(allow_null=True, help_text="filled_qty / ordered_qty.")
    realized_pnl = serializers.SerializerMethodField(help_text="Per quote currency, after fees (average cost).")
    fees = serializers.SerializerMethodField()
    slippage_bps = DecimalString(allow_null=True, help_text="Fill vs suggest_price; positive is worse.")
    median_confirm_to_fill_seconds = serializers.FloatField(allow_null=True)

    def get_realized_pnl(self, row) -> dict[str, str]:
        return {quote: DecimalString().to_representation(value) for quote, value in row.realized_pnl.items()}

    def get_fees(self, row) -> dict[str, str]:
        return {quote: DecimalString().to_representation(value) for quote, value in row.fees.items()}


class RefusalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username", default=None, allow_null=True)
    signal_id = serializers.IntegerField(source="signal_ref", allow_null=True)
    symbol = serializers.CharField()
    side = serializers.CharField()
    order_type = serializers.CharField()
    qty = DecimalString(allow_null=True)
    price = DecimalString(allow_null=True)
    category = serializers.CharField()
    rule = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()
    http_status = serializers.IntegerField()
    figures = serializers.DictField()
