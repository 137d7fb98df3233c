from pathlib import Path

import django_filters
from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import lifecycle, selectors, services
from orders.models import Order, OrderStatus, OrderType, VenueState
from orders.serializers import OrderOutput
from tradedesk.auth import IsTrader, IsViewer
from tradedesk.choices import Side
from tradedesk.exceptions import NotFound
from tradedesk.filters import DeskFilterSet
from tradedesk.formatting import UpperChoiceField
from tradedesk.ids import MAX_ID
from tradedesk.schema import error_responses, positive_decimal


class OrderFilter(DeskFilterSet):
    signal_id = django_filters.NumberFilter(field_name="signal_id", min_value=1, max_value=MAX_ID, decimal_places=0)
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    venue_state = django_filters.MultipleChoiceFilter(choices=VenueState.choices)
    needs_review = django_filters.BooleanFilter()

    class Meta:
        model = Order
        fields = ["signal_id", "status", "venue_state", "needs_review", "symbol", "created_after", "created_before"]


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
        side = UpperChoiceField(choices=Side.choices, required=False, help_text="Defaults to the signal's.")
        allow_additional = serializers.BooleanField(
            default=False, help_text="Place another order on a signal that already has one."
        )

    def get_permissions(self):
        return [IsTrader()] if self.request.method == "POST" else [IsViewer()]

    def get_queryset(self):
        return selectors.order_list()

    @extend_schema(responses={200: OrderOutput(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=OrderCreateInput,
        responses={201: OrderOutput, **error_responses(404, 409, 422)},
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

    @extend_schema(responses={200: OrderOutput})
    def get(self, request, order_id: int):
        order = selectors.order_list().filter(pk=order_id).first()
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        return Response(OrderOutput(order).data)


class OrderCancelApi(APIView):
    permission_classes = [IsTrader]

    @extend_schema(
        request=None,
        responses={200: OrderOutput, **error_responses(409)},
        description="A SUBMITTING order whose placement has not started is CANCELED at once. An order the "
        "venue accepted and that is still open there (OPEN, PARTIALLY_FILLED) becomes CANCEL_REQUESTED "
        "(`cancel_requested: true`) and the cancel is sent to the venue; its answer ends the order CANCELED "
        "(the filled part kept) or FILLED if it filled first. Any other order: 409.",
    )
    def post(self, request, order_id: int):
        order = services.order_cancel(order_id=order_id, user=request.user)
        return Response(OrderOutput(order).data)


class OrderRefreshApi(APIView):
    permission_classes = [IsTrader]

    @extend_schema(
        request=None,
        responses={202: OrderOutput, **error_responses(409)},
        description="Ask the venue now for an accepted order's state, fills and fees (they are also "
        "refreshed on a schedule). Answers at once with the order as recorded; the refreshed order "
        "follows on /ws/orders. 409 for an order that is not open at the venue.",
    )
    def post(self, request, order_id: int):
        order = lifecycle.order_refresh_request(order_id=order_id)
        return Response(OrderOutput(order).data, status=status.HTTP_202_ACCEPTED)


class OrderResolveApi(APIView):
    """A trader's word on an order in review (UNKNOWN, needs_review)."""

    permission_classes = [IsTrader]

    class Input(serializers.Serializer):
        placed = serializers.BooleanField(help_text="Whether the order is at the venue.")
        exchange_order_id = serializers.CharField(
            required=False,
            default="",
            allow_blank=True,
            max_length=128,
            help_text="The venue's id of the order; required if placed.",
        )
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    @extend_schema(
        request=Input,
        responses={200: OrderOutput, **error_responses(409)},
        description="placed=true: SUCCESS with the venue's order id, its signal EXECUTED. placed=false: FAILED "
        "NOT_PLACED_REVIEWED, its signal orderable again (a follower order pauses its follower). 409 unless "
        "the order is UNKNOWN and in review.",
    )
    def post(self, request, order_id: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = lifecycle.order_resolve_review(order_id=order_id, user=request.user, **serializer.validated_data)
        return Response(OrderOutput(order).data)


class OrderEvidenceApi(APIView):
    """The screenshot (PNG) or Playwright trace (zip) saved when the order's placement failed."""

    permission_classes = [IsViewer]
    kinds = {"screenshot": "image/png", "trace": "application/zip"}

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
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
