"""The follow collection under /api/v1/follow-config/follows: several masters per follower.

The seed's /settings endpoints keep working for a one-master follower; these work on any of the
caller's follows, each with its own ratio, active flag, sizing, joining, slippage and caps."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from following import selectors, services
from following.api import FOLLOWER_HELP, MASTER_HELP, MAX_ID, FollowSettingsOutput, FollowStatusApi, ratio_field
from following.models import JoinMode, SizingMode, UnfollowMode
from following.status import follow_status
from tradedesk.exceptions import NotFound
from tradedesk.schema import error_responses

MONEY = {"max_digits": 28, "decimal_places": 10}


class FollowOutput(FollowSettingsOutput):
    # Declared: a read-only model field loses allow_blank, and the schema then refused the "" it answers.
    unfollow_mode = serializers.ChoiceField(
        choices=UnfollowMode.choices, allow_blank=True, read_only=True, help_text="Empty while the follow is on."
    )

    class Meta(FollowSettingsOutput.Meta):
        fields = [
            *FollowSettingsOutput.Meta.fields,
            "sizing_mode",
            "fixed_notional",
            "join_mode",
            "max_slippage",
            "max_order_notional",
            "max_position_notional",
            "max_trades_per_day",
            "max_loss",
            "allowed_symbols",
            "equity_high_water",
            "ended_at",
            "unfollow_mode",
            "kept_positions",
        ]
        read_only_fields = fields


class FollowOptionsInput(serializers.Serializer):
    sizing_mode = serializers.ChoiceField(choices=SizingMode.choices, required=False)
    fixed_notional = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, help_text="Quote amount per master trade (fixed_notional)."
    )
    join_mode = serializers.ChoiceField(
        choices=JoinMode.choices,
        required=False,
        help_text="now (default): copy the master's current position at once; changes: only trades from now on.",
    )
    max_slippage = serializers.DecimalField(
        max_digits=8, decimal_places=6, required=False, help_text="0.005 = 0.5% (the default)."
    )
    max_order_notional = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    max_position_notional = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    max_trades_per_day = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10**6)
    max_loss = serializers.DecimalField(
        max_digits=8, decimal_places=6, required=False, allow_null=True, help_text="0.2 = pause at a 20% drawdown."
    )
    allowed_symbols = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=200, help_text="Empty: every symbol."
    )


class FollowCreateInput(FollowOptionsInput):
    master_credential_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=MASTER_HELP)
    follower_credential_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=FOLLOWER_HELP)
    follow_ratio = ratio_field()
    is_active = serializers.BooleanField(default=True)


class FollowUpdateInput(FollowOptionsInput):
    follower_credential_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text=FOLLOWER_HELP
    )
    follow_ratio = ratio_field(required=False)
    is_active = serializers.BooleanField(required=False)
    confirm = serializers.BooleanField(
        default=False, help_text="Needed (else 409 confirm_required) when a target would round to zero."
    )


class FollowListApi(APIView):
    """GET: your follows (one per master; ended ones with ?include_ended=true). POST: follow a master."""

    class FollowFilterInput(serializers.Serializer):
        include_ended = serializers.BooleanField(default=False)

    @extend_schema(parameters=[FollowFilterInput], responses={200: FollowOutput(many=True)})
    def get(self, request):
        filters = self.FollowFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.follow_list(user=request.user, include_ended=filters.validated_data["include_ended"])
        return Response(FollowOutput(rows, many=True).data)

    @extend_schema(request=FollowCreateInput, responses={201: FollowOutput, **error_responses(409)})
    def post(self, request):
        serializer = FollowCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.follow_settings_create(user=request.user, **serializer.validated_data)
        return Response(FollowOutput(row).data, status=status.HTTP_201_CREATED)


class FollowDetailApi(APIView):
    """One of your follows: GET, PUT/PATCH (any subset of fields), DELETE ?positions=keep|close."""

    class UnfollowInput(serializers.Serializer):
        positions = serializers.ChoiceField(
            choices=["keep", "close"], help_text="keep: the copied positions stay yours; close: they are closed."
        )

    def _row(self, request, settings_id: int):
        row = selectors.follow_get(user=request.user, settings_id=settings_id)
        if row is None:
            raise NotFound(f"follow {settings_id} is not one of yours", field="settings_id")
        return row

    @extend_schema(responses={200: FollowOutput, **error_responses(404)})
    def get(self, request, settings_id: int):
        return Response(FollowOutput(self._row(request, settings_id)).data)

    @extend_schema(request=FollowUpdateInput, responses={200: FollowOutput, **error_responses(404, 409)})
    def put(self, request, settings_id: int):
        self._row(request, settings_id)
        serializer = FollowUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("join_mode", None)  # joining is chosen when the follow starts
        row = services.follow_settings_update(user=request.user, settings_id=settings_id, **data)
        return Response(FollowOutput(row).data)

    @extend_schema(request=FollowUpdateInput, responses={200: FollowOutput, **error_responses(404, 409)})
    def patch(self, request, settings_id: int):
        return self.put(request, settings_id)

    @extend_schema(parameters=[UnfollowInput], responses={200: FollowOutput, **error_responses(404)})
    def delete(self, request, settings_id: int):
        self._row(request, settings_id)
        serializer = self.UnfollowInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        mode = serializer.validated_data["positions"]
        row = services.follow_end(user=request.user, settings_id=settings_id, mode=mode)
        return Response(FollowOutput(row).data)


class FollowDetailStatusApi(APIView):
    @extend_schema(responses={200: None, **error_responses(404)}, description="The status of one follow.")
    def get(self, request, settings_id: int):
        row = selectors.follow_get(user=request.user, settings_id=settings_id)
        if row is None:
            raise NotFound(f"follow {settings_id} is not one of yours", field="settings_id")
        return Response(FollowStatusApi.FollowStatusOutput(follow_status(row=row)).data)
