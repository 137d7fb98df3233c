"""The paper exchange's JSON API: `X-PAPER-KEY: <key>` per account; prices and instruments are public.

Errors: {"error": {"code": "...", "message": "...", "fields": {...}}}; a rejected order is 422
with the REJECTED order beside the error, a reused client order id 409 with the existing order.
These views are the venue's, not the desk's: they stay out of the desk's OpenAPI schema.
"""

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from executor.paper import guards, selectors, services
from executor.paper.errors import DuplicateClientOrderId
from executor.paper.forms import CLIENT_ORDER_ID
from executor.paper.models import FaultKind, OrderSide, OrderStatus, OrderType, PaperApiKey, TimeInForce
from executor.paper.services.orders import text
from tradedesk.exceptions import ApplicationError
from tradedesk.parsers import DepthLimitedJSONParser

logger = logging.getLogger(__name__)

MAX_ORDERS = 500


class PaperKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        key = request.META.get("HTTP_X_PAPER_KEY")
        if not key:
            return None
        try:
            api_key = PaperApiKey.objects.get_from_key(key.strip())
        except PaperApiKey.DoesNotExist:
            api_key = None
        if api_key is None or api_key.has_expired or not api_key.account.is_active:
            raise exceptions.AuthenticationFailed("X-PAPER-KEY is wrong, revoked or expired.")
        return (AnonymousUser(), api_key)

    def authenticate_header(self, request) -> str:
        return "X-PAPER-KEY"


class HasPaperKey(permissions.BasePermission):
    message = "Send your paper API key in the X-PAPER-KEY header."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, PaperApiKey)


def _error(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return {"error": body}


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(name): [str(reason) for reason in (value if isinstance(value, list) else [value])]
            for name, value in detail.items()
        }
    return {"non_field_errors": [str(reason) for reason in (detail if isinstance(detail, list) else [detail])]}


def paper_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DuplicateClientOrderId):
        return Response({**_error(exc.code, exc.message), "order": OrderOutput(exc.order).data}, status=409)
    if isinstance(exc, ApplicationError):
        fields = {exc.field: [exc.message]} if exc.field else None
        return Response(_error(exc.code, exc.message, fields), status=exc.http_status)
    if isinstance(exc, Http404):
        return Response(_error("NOT_FOUND", "Not found."), status=404)
    if isinstance(exc, (exceptions.ValidationError, exceptions.ParseError)):
        fields = _fields(exc.detail)
        message = "; ".join(f"{name}: {' '.join(reasons)}" for name, reasons in fields.items())
        return Response(_error("INVALID", message, fields), status=400)
    if isinstance(exc, exceptions.APIException):
        code = "UNAUTHORIZED" if exc.status_code == 401 else str(exc.default_code).upper()
        response = Response(_error(code, str(exc.detail)), status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        return response
    return None


class PlainDecimal(serializers.Field):
    """Decimals as strings of plain digits: "65000", "0.1"."""

    def to_representation(self, value) -> str:
        return text(value)


class BlankAsNull(serializers.CharField):
    def to_representation(self, value) -> str | None:
        return value or None


class TradeOutput(serializers.Serializer):
    trade_id = serializers.CharField()
    order_id = serializers.CharField(source="order.order_id")
    client_order_id = serializers.CharField(source="order.client_order_id")
    symbol = serializers.CharField()
    side = serializers.CharField()
    qty = PlainDecimal()
    price = PlainDecimal()
    quote_qty = PlainDecimal()
    fee = PlainDecimal()
    fee_asset = serializers.CharField()
    liquidity = serializers.SerializerMethodField()
    time = serializers.DateTimeField(source="created_at")

    def get_liquidity(self, trade) -> str:
        return "MAKER" if trade.is_maker else "TAKER"


class FillOutput(TradeOutput):
    """A fill inside its order's payload: the order's own ids are left out."""

    order_id = None
    client_order_id = None
    symbol = None
    side = None


class OrderOutput(serializers.Serializer):
    order_id = serializers.CharField()
    client_order_id = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    type = serializers.CharField(source="order_type")
    qty = PlainDecimal()
    price = PlainDecimal()
    time_in_force = BlankAsNull()
    status = serializers.CharField()
    filled_qty = PlainDecimal()
    filled_quote = PlainDecimal()
    avg_price = PlainDecimal()
    fee = PlainDecimal()
    fee_asset = BlankAsNull()
    fills = FillOutput(source="trades.all", many=True)
    reject_code = BlankAsNull()
    reject_reason = BlankAsNull()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PaperApiView(APIView):
    """An account's call: authenticated by key, slowed by the `slow` fault, matching first."""

    authentication_classes = [PaperKeyAuthentication]
    permission_classes = [HasPaperKey]
    # JSON with the desk's nesting limit (a body nested hundreds deep is a 400, not a 500).
    parser_classes = [DepthLimitedJSONParser]
    renderer_classes = [JSONRenderer]
    schema = None

    def get_exception_handler(self):
        return paper_exception_handler

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.account = request.auth.account
        self.faults = selectors.faults_active(account=self.account)
        guards.slow_down(self.faults)
        services.paper_match_open_orders()


class PublicPaperApiView(PaperApiView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def initial(self, request, *args, **kwargs) -> None:
        APIView.initial(self, request, *args, **kwargs)
        services.paper_match_open_orders()


class OrderListCreateApi(PaperApiView):
    class Input(serializers.Serializer):
        client_order_id = serializers.CharField(max_length=64, trim_whitespace=False, validators=[CLIENT_ORDER_ID])
        symbol = serializers.CharField(max_length=20)
        side = serializers.ChoiceField(choices=OrderSide.choices)
        type = serializers.ChoiceField(choices=OrderType.choices)
        qty = serializers.DecimalField(max_digits=28, decimal_places=10)
        price = serializers.DecimalField(max_digits=28, decimal_places=10, required=False, allow_null=True)
        time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, required=False, allow_null=True)

        def validate_qty(self, value):
            if value <= 0:
                raise serializers.ValidationError("must be greater than 0")
            return value

        def validate_price(self, value):
            if value is not None and value <= 0:
                raise serializers.ValidationError("must be greater than 0")
            return value

        def validate(self, data):
            if data["type"] == OrderType.LIMIT and data.get("price") is None:
                raise serializers.ValidationError({"price": ["required for a LIMIT order"]})
            if data["type"] == OrderType.MARKET and data.get("time_in_force"):
                raise serializers.ValidationError({"time_in_force": ["only for a LIMIT order"]})
            return data

    def get(self, request):
        wanted = request.query_params.get("status", "").upper()
        if wanted and wanted not in OrderStatus.values:
            raise exceptions.ValidationError({"status": [f"one of {', '.join(OrderStatus.values)}"]})
        orders = selectors.order_list(account=self.account, status=wanted or None).prefetch_related("trades")
        return Response({"orders": OrderOutput(orders[:MAX_ORDERS], many=True).data})

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise exceptions.ValidationError(["The body must be a JSON object."])
        serializer = self.Input(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        order = services.paper_order_place(
            account=self.account,
            client_order_id=values["client_order_id"],
            symbol=values["symbol"],
            side=values["side"],
            order_type=values["type"],
            qty=values["qty"],
            price=values.get("price"),
            time_in_force=values.get("time_in_force") or TimeInForce.GTC,
        )
        if guards.lost_reply(self.faults) is not None:
            return Response(_error("GATEWAY_TIMEOUT", "The exchange did not answer in time."), status=504)
        if order.status == OrderStatus.REJECTED:
            body = {**_error(order.reject_code, order.reject_reason), "order": OrderOutput(order).data}
            return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderByClientIdApi(PaperApiView):
    def get(self, request, client_order_id: str):
        order = selectors.order_get_by_client_id(account=self.account, client_order_id=client_order_id)
        return Response(OrderOutput(order).data)


class OrderCancelApi(PaperApiView):
    def post(self, request, client_order_id: str):
        order = selectors.order_get_by_client_id(account=self.account, client_order_id=client_order_id)
        return _cancel(self, order)


class OrderByIdApi(PaperApiView):
    def get(self, request, order_id: str):
        return Response(OrderOutput(selectors.order_get(account=self.account, order_id=order_id)).data)


class OrderCancelByIdApi(PaperApiView):
    def post(self, request, order_id: str):
        order = selectors.order_get(account=self.account, order_id=order_id)
        return _cancel(self, order)


def _cancel(view: PaperApiView, order) -> Response:
    order = services.paper_order_cancel(account=view.account, order=order)
    if guards.lost_reply(view.faults, FaultKind.LOST_CANCEL_REPLY) is not None:
        return Response(_error("GATEWAY_TIMEOUT", "The exchange did not answer in time."), status=504)
    return Response(OrderOutput(order).data)


class OpenOrderListApi(PaperApiView):
    def get(self, request):
        symbol = request.query_params.get("symbol", "")[:20] or None
        orders = selectors.order_list_open(account=self.account, symbol=symbol).prefetch_related("trades")
        return Response({"orders": OrderOutput(orders[:MAX_ORDERS], many=True).data})


class TradeListApi(PaperApiView):
    def get(self, request):
        params = request.query_params
        order = None
        if params.get("order_id"):
            order = selectors.order_get(account=self.account, order_id=params["order_id"][:30])
        elif params.get("client_order_id"):
            order = selectors.order_get_by_client_id(account=self.account, client_order_id=params["client_order_id"])
        trades = selectors.trade_list(account=self.account, symbol=params.get("symbol", "")[:20] or None, order=order)
        return Response({"trades": TradeOutput(trades[:MAX_ORDERS], many=True).data})


class PositionListApi(PaperApiView):
    class Output(serializers.Serializer):
        symbol = serializers.CharField()
        qty = PlainDecimal()
        avg_price = PlainDecimal()

    def get(self, request):
        positions = selectors.position_list(account=self.account)
        return Response({"positions": self.Output(positions, many=True).data})


class BalanceListApi(PaperApiView):
    class Output(serializers.Serializer):
        asset = serializers.CharField()
        free = PlainDecimal()
        locked = PlainDecimal()

    def get(self, request):
        return Response({"balances": self.Output(selectors.balance_list(account=self.account), many=True).data})


class PriceApi(PublicPaperApiView):
    def get(self, request, symbol: str):
        mark = selectors.price_get(symbol=symbol)
        return Response(
            {"symbol": mark.symbol, "price": text(mark.price), "time": mark.time.isoformat(), "source": mark.source}
        )


class InstrumentListApi(PublicPaperApiView):
    class Output(serializers.Serializer):
        symbol = serializers.CharField()
        base_asset = serializers.CharField()
        quote_asset = serializers.CharField()
        tick_size = PlainDecimal()
        lot_size = PlainDecimal()
        min_qty = PlainDecimal()
        min_notional = PlainDecimal()

    def get(self, request):
        return Response({"instruments": self.Output(selectors.instrument_list(), many=True).data})
