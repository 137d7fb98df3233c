import copy

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from signals import selectors, services
from signals.models import Signal, SignalStatus
from signals.serializers import SignalOutput, signal_data
from tradedesk.auth import (
    IsStrategy,
    IsTrader,
    IsViewer,
    StrategyKeyAuthentication,
    UserTokenAuthentication,
    strategy_key_of,
)
from tradedesk.choices import Side
from tradedesk.exceptions import InvalidInput, NotFound
from tradedesk.filters import DeskFilterSet
from tradedesk.formatting import UpperChoiceField
from tradedesk.schema import error_responses, positive_decimal
from tradedesk.symbols import SYMBOL_PATTERN

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes retries safe: a retry with the same key and body returns the original signal.",
)


class SignalFilter(DeskFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=SignalStatus.choices)
    strategy_name = django_filters.CharFilter()

    class Meta:
        model = Signal
        fields = ["status", "symbol", "strategy_name", "created_after", "created_before"]


class SignalListCreateApi(ListAPIView):
    """GET: staff (viewer and up) see all signals, a strategy key its own. POST: strategies only."""

    authentication_classes = [StrategyKeyAuthentication, UserTokenAuthentication, *ListAPIView.authentication_classes]
    serializer_class = SignalOutput
    filterset_class = SignalFilter

    class SignalCreateInput(serializers.Serializer):
        symbol = serializers.RegexField(
            SYMBOL_PATTERN,
            max_length=31,
            help_text="BASE/QUOTE, e.g. BTC/USDT (btc-usdt and BTC_USDT are stored as BTC/USDT).",
            error_messages={"invalid": "must look like BASE/QUOTE, e.g. BTC/USDT"},
        )
        side = UpperChoiceField(choices=Side.choices)
        suggest_price = positive_decimal(allow_null=True, required=False)
        suggest_qty = positive_decimal()
        strategy_name = serializers.CharField(max_length=100)
        reason = serializers.CharField(allow_blank=True, required=False, default="", max_length=10_000)
        client_signal_id = serializers.CharField(max_length=128, required=False, allow_null=True)

        def get_fields(self):
            # DRF deep-copies every declared field for each serializer it makes (each field made
            # again from its arguments, validators and all): 6-8% of the intake's CPU
            # (bench/README.md, "Signal intake"). Nothing changes these fields per request, so a
            # shallow copy to bind is enough.
            return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsStrategy()]
        return [_StrategyOrViewer()]

    def get_queryset(self):
        return selectors.signal_list(api_key=strategy_key_of(self.request))

    @extend_schema(responses={200: SignalOutput(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=SignalCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: SignalOutput, **error_responses(422)},
        description="Post a signal (status PENDING). Retries with the same Idempotency-Key "
        "(or client_signal_id) return the original signal and set `Idempotent-Replayed: true`.",
    )
    def post(self, request):
        serializer = self.SignalCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        header_key = request.headers.get("Idempotency-Key")
        body_key = data.pop("client_signal_id", None)
        if header_key and body_key and header_key != body_key:
            raise InvalidInput(
                "differs from the Idempotency-Key header; send one or make them equal", field="client_signal_id"
            )
        if header_key is not None and not (0 < len(header_key) <= 128):
            raise InvalidInput("must be 1 to 128 characters", field="Idempotency-Key")
        signal, created = services.signal_create(
            api_key=strategy_key_of(request), client_signal_id=header_key or body_key, **data
        )
        # A new signal's answer is the dict its live event carries (serialized once, in the service).
        data = signal.output if created else signal_data(signal)
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Idempotent-Replayed"] = "false" if created else "true"
        return response


class _StrategyOrViewer(IsViewer):
    message = "Desk access (viewer role or above) or a strategy X-API-KEY is required."

    def has_permission(self, request, view) -> bool:
        return strategy_key_of(request) is not None or super().has_permission(request, view)


class SignalDetailApi(APIView):
    """GET: one signal. PATCH: a staff decision (accept, reject, cancel)."""

    authentication_classes = [StrategyKeyAuthentication, UserTokenAuthentication, *APIView.authentication_classes]

    class SignalDecisionInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=[SignalStatus.ACCEPTED, SignalStatus.REJECTED, SignalStatus.CANCELED])
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [IsTrader()]
        return [_StrategyOrViewer()]

    @extend_schema(responses={200: SignalOutput})
    def get(self, request, signal_id: int):
        signal = selectors.signal_list(api_key=strategy_key_of(request)).filter(pk=signal_id).first()
        if signal is None:
            raise NotFound(f"signal {signal_id} does not exist")
        return Response(SignalOutput(signal).data)

    @extend_schema(
        request=SignalDecisionInput,
        responses={200: SignalOutput, **error_responses(409)},
        description="Accept, reject or cancel a signal (trader role). An illegal transition is a 409.",
    )
    def patch(self, request, signal_id: int):
        serializer = self.SignalDecisionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        signal = services.signal_decide(signal_id=signal_id, user=request.user, **serializer.validated_data)
        return Response(SignalOutput(signal).data)
