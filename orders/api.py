from pathlib import Path

import django_filters
from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors, services
from orders.models import Order, OrderStatus, OrderType
from orders.serializers import OrderOutput
from signals.models import Side
from tradedesk.auth import IsTrader, IsViewer
from tradedesk.exceptions import NotFound
from tradedesk.filters import DeskFilterSet
from tradedesk.schema import ERROR_RESPONSES, positive_decimal


class OrderFilter(DeskFilterSet):
    signal_id = django_filters.NumberFilter(field_name="signal_id", min_value=1, max_value=2**63 - 1, decimal_places=0)
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)

    class Meta:
        model = Order
        fields = ["signal_id", "status", "symbol", "created_after", "created_before"]


class OrderListCreateApi(ListAPIView):
    """GET: staff (viewer and up) list orders. POST: a trader confirms a signal into an order."""

    serializer_class = OrderOutput
    filterset_class = OrderFilter

    class OrderCreateInput(serializers.Serializer):
        signal_id = serializers.IntegerField(min_value=1)
        qty = positive_decimal()
        order_type = serializers.ChoiceField(choices=OrderType.choices)
        price = positive_decimal(
            required=False,
            allow_null=True,
            help_text="Required for LIMIT, empty for MARKET.",
        )
        side = serializers.ChoiceField(choices=Side.choices, required=False, help_text="Defaults to the signal's.")
        allow_additional = serializers.BooleanField(
            default=False, help_text="Place another order on a signal that already has one."
        )

    def get_permissions(self):
        return [IsTrader()] if self.request.method == "POST" else [IsViewer()]

    def get_queryset(self):
        return selectors.order_list()

    @extend_schema(responses={200: OrderOutput(many=True), **ERROR_RESPONSES})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=OrderCreateInput,
        responses={201: OrderOutput, **ERROR_RESPONSES},
        description="Runs the risk checks, creates the order as SUBMITTING and queues its placement "
        "after commit. Watch /ws/orders or GET /api/orders/{id} for the result.",
    )
    def post(self, request):
        serializer = self.OrderCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_create(user=request.user, **serializer.validated_data)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(responses={200: OrderOutput, **ERROR_RESPONSES})
    def get(self, request, order_id: int):
        order = selectors.order_list().filter(pk=order_id).first()
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        return Response(OrderOutput(order).data)


class OrderCancelApi(APIView):
    permission_classes = [IsTrader]

    @extend_schema(
        request=None,
        responses={200: OrderOutput, **ERROR_RESPONSES},
        description="Cancel an order whose placement has not started; otherwise 409.",
    )
    def post(self, request, order_id: int):
        order = services.order_cancel(order_id=order_id, user=request.user)
        return Response(OrderOutput(order).data)


class OrderEvidenceApi(APIView):
    """The screenshot (PNG) or Playwright trace (zip) saved when the order's placement failed."""

    permission_classes = [IsViewer]
    kinds = {"screenshot": "image/png", "trace": "application/zip"}

    @extend_schema(responses={(200, "application/octet-stream"): bytes, **ERROR_RESPONSES})
    def get(self, request, order_id: int, kind: str):
        order = selectors.order_list().filter(pk=order_id).first()
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        path = Path(getattr(order, kind) or "")
        root = Path(settings.BROWSER_ARTIFACTS_DIR).resolve()
        # Only files the executor wrote, never an arbitrary path stored on the row.
        if not getattr(order, kind) or not path.resolve().is_relative_to(root) or not path.is_file():
            raise NotFound(f"order {order_id} has no {kind}")
        return FileResponse(path.open("rb"), content_type=self.kinds[kind], filename=path.name)
