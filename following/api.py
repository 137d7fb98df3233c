"""The follow-config API (seed 000) under /api/v1/follow-config/. Every endpoint needs a logged-in
user (session or bearer token) and works on the caller's own settings and errors only."""

from django.conf import settings as django_settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from executor.services import exchange_account_create
from following import selectors, services
from following.models import FollowSettings, SyncOutcome, TradeError
from following.status import follow_status
from tradedesk.exceptions import NotFound
from tradedesk.ids import MAX_ID
from tradedesk.schema import ERROR_RESPONSES, error_responses

# Ids are 64-bit: a larger number is a 400 naming the field, not an overflow in the database driver.


def ratio_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20,
        decimal_places=10,
        help_text=f"Share of the master's position to hold: > 0 and at most FOLLOW_MAX_RATIO "
        f"({django_settings.FOLLOW_MAX_RATIO}). 0.1 = 10%.",
        **kwargs,
    )


# The rules the service enforces (400 naming the field otherwise), for the schema's readers.
MASTER_HELP = "An exchange account open for following (GET masters), not one of your own; any other is a 400."
FOLLOWER_HELP = (
    "One of your own active exchange accounts (GET credentials), not the desk's own and not the "
    "master's; any other is a 400."
)
MASTER_USER_HELP = "Optional: the master account's owner; a 400 if it is not."


class FollowSettingsOutput(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    master_user_id = serializers.IntegerField(read_only=True)
    master_username = serializers.CharField(source="master_user.username", read_only=True)
    master_credential_id = serializers.IntegerField(read_only=True)
    follower_credential_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = FollowSettings
        fields = [
            "id",
            "user_id",
            "master_user_id",
            "master_username",
            "master_credential_id",
            "follower_credential_id",
            "follow_ratio",
            "is_active",
            "paused_by_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TradeErrorOutput(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    trade_log_id = serializers.IntegerField(read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TradeError
        fields = [
            "id",
            "user_id",
            "trade_log_id",
            "error_type",
            "error_message",
            "error_details",
            "is_resolved",
            "resolved_at",
            "resolved_by",
            "created_at",
        ]
        read_only_fields = fields


class FollowSettingsApi(APIView):
    """The caller's follow settings: POST creates them (once), GET reads, PUT/PATCH change them."""

    class FollowSettingsCreateInput(serializers.Serializer):
        master_credential_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=MASTER_HELP)
        follower_credential_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=FOLLOWER_HELP)
        follow_ratio = ratio_field()
        master_user_id = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text=MASTER_USER_HELP
        )
        is_active = serializers.BooleanField(default=True)

    class FollowSettingsUpdateInput(serializers.Serializer):
        master_credential_id = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text=MASTER_HELP
        )
        follower_credential_id = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text=FOLLOWER_HELP
        )
        follow_ratio = ratio_field(required=False)
        master_user_id = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text=MASTER_USER_HELP
        )
        is_active = serializers.BooleanField(
            required=False, help_text="Turning following on is refused (409) while you have unresolved errors."
        )
        confirm = serializers.BooleanField(
            default=False,
            help_text="A ratio that makes a target the master holds round to zero or fall below the venue "
            "minimum is refused (409 confirm_required, naming follow_ratio) unless this is true.",
        )

    class UnfollowInput(serializers.Serializer):
        positions = serializers.ChoiceField(
            choices=["keep", "close"], help_text="keep: the copied positions stay yours; close: they are closed."
        )

    @extend_schema(responses={200: FollowSettingsOutput, **error_responses(404)})
    def get(self, request):
        row = selectors.follow_settings_get(user=request.user)
        if row is None:
            raise NotFound("you have no follow settings yet; create them with POST")
        return Response(FollowSettingsOutput(row).data)

    @extend_schema(request=FollowSettingsCreateInput, responses={201: FollowSettingsOutput, **error_responses(409)})
    def post(self, request):
        serializer = self.FollowSettingsCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.follow_settings_create(user=request.user, single=True, **serializer.validated_data)
        return Response(FollowSettingsOutput(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=FollowSettingsUpdateInput, responses={200: FollowSettingsOutput, **error_responses(404, 409)}
    )
    def put(self, request):
        serializer = self.FollowSettingsUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.follow_settings_update(user=request.user, **serializer.validated_data)
        return Response(FollowSettingsOutput(row).data)

    @extend_schema(
        request=FollowSettingsUpdateInput, responses={200: FollowSettingsOutput, **error_responses(404, 409)}
    )
    def patch(self, request):
        return self.put(request)

    @extend_schema(parameters=[UnfollowInput], responses={200: FollowSettingsOutput, **error_responses(404, 409)})
    def delete(self, request):
        """Unfollow (your only follow; with several use follows/<id>)."""
        serializer = self.UnfollowInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        row = services.follow_end(user=request.user, mode=serializer.validated_data["positions"])
        return Response(FollowSettingsOutput(row).data)


class FollowStatusApi(APIView):
    class FollowStatusOutput(serializers.Serializer):
        settings = FollowSettingsOutput()
        positions = serializers.ListField(
            child=inline_serializer(
                "FollowPosition",
                {
                    "symbol": serializers.CharField(),
                    "master_qty": serializers.CharField(),
                    "expected_qty": serializers.CharField(help_text="master_qty x follow_ratio, down to the lot."),
                    "target_unrounded": serializers.CharField(help_text="The target before the lot rounding."),
                    "rounds_to_zero": serializers.BooleanField(
                        help_text="The master holds it but the copy is under one lot: nothing is held."
                    ),
                    "own_qty": serializers.CharField(),
                    "drift": serializers.CharField(help_text="own_qty - expected_qty"),
                    "in_sync": serializers.BooleanField(),
                    "last_action": serializers.CharField(),
                    "lot_size": serializers.CharField(),
                },
            )
        )
        positions_source = serializers.ChoiceField(choices=["live", "last_sync"])
        not_copied = serializers.ListField(
            child=inline_serializer(
                "FollowNotCopied", {"symbol": serializers.CharField(), "own_qty": serializers.CharField()}
            ),
            help_text="What you hold that this master never traded: never synced, so not drift.",
        )
        problems = serializers.ListField(child=serializers.CharField())
        unresolved_errors = serializers.IntegerField()
        last_synced_at = serializers.DateTimeField(allow_null=True)
        last_checked_at = serializers.DateTimeField(allow_null=True)
        last_sync_outcome = serializers.ChoiceField(choices=SyncOutcome.choices, allow_blank=True)
        master_trades_pushed = serializers.BooleanField(
            help_text="True while the follow watcher holds a live stream of the master's trades from its "
            "venue: a trade is copied at once. False: the master is read every master_read_every seconds."
        )
        master_read_every = serializers.FloatField(
            source="poll_every",
            help_text="Seconds between reads of the master's positions when its trades are not pushed: "
            "FOLLOW_WATCH_POLL while the follow watcher polls it, else beat's FOLLOW_SYNC_EVERY.",
        )

    @extend_schema(
        responses={200: FollowStatusOutput, **error_responses(404)},
        description="Your configuration, the master's and your own positions side by side, the expected "
        "follow quantity per symbol, unresolved errors and the last sync.",
    )
    def get(self, request):
        row = selectors.follow_settings_get(user=request.user)
        if row is None:
            raise NotFound("you have no follow settings yet; create them with POST settings")
        return Response(self.FollowStatusOutput(follow_status(row=row)).data)


class TradeErrorListApi(APIView):
    class TradeErrorFilterInput(serializers.Serializer):
        is_resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
        limit = serializers.IntegerField(min_value=1, max_value=500, default=100)

    @extend_schema(parameters=[TradeErrorFilterInput], responses={200: TradeErrorOutput(many=True)})
    def get(self, request):
        filters = self.TradeErrorFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.trade_error_list(user=request.user, is_resolved=filters.validated_data["is_resolved"])
        return Response(TradeErrorOutput(rows[: filters.validated_data["limit"]], many=True).data)


class TradeErrorResolveApi(APIView):
    class TradeErrorResolveOutput(serializers.Serializer):
        error = TradeErrorOutput()
        resumed = serializers.BooleanField(
            help_text="True when this was the last unresolved error and an error had paused following (a "
            "follower who turned following off by hand stays off)."
        )
        is_active = serializers.BooleanField()

    @extend_schema(request=None, responses={200: TradeErrorResolveOutput, **error_responses(409)})
    def post(self, request, error_id: int):
        error, resumed = services.trade_error_resolve(user=request.user, error_id=error_id)
        row = error.follow_settings or selectors.follow_settings_get(user=request.user)
        if row is not None:
            row.refresh_from_db(fields=["is_active"])
        data = {"error": error, "resumed": resumed, "is_active": bool(row and row.is_active)}
        return Response(self.TradeErrorResolveOutput(data).data)


class MasterAccountOutput(serializers.Serializer):
    master_credential_id = serializers.IntegerField(source="credential_id")
    master_user_id = serializers.IntegerField(source="credential.owner_id")
    master_username = serializers.CharField(source="credential.owner.username")
    label = serializers.CharField(source="credential.label")
    venue = serializers.CharField(source="credential.venue")
    is_open = serializers.BooleanField()
    followers = serializers.IntegerField(required=False)


class MasterListApi(APIView):
    """GET: accounts open for following. POST: open one of your own accounts for following."""

    class MasterOpenInput(serializers.Serializer):
        credential_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    @extend_schema(responses={200: MasterAccountOutput(many=True)})
    def get(self, request):
        return Response(MasterAccountOutput(selectors.master_account_list(), many=True).data)

    @extend_schema(request=MasterOpenInput, responses={201: MasterAccountOutput})
    def post(self, request):
        serializer = self.MasterOpenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.master_account_open(user=request.user, **serializer.validated_data)
        return Response(MasterAccountOutput(listing).data, status=status.HTTP_201_CREATED)


class MasterCloseApi(APIView):
    @extend_schema(request=None, responses={200: MasterAccountOutput})
    def post(self, request, credential_id: int):
        listing = services.master_account_close(user=request.user, credential_id=credential_id)
        return Response(MasterAccountOutput(listing).data)


class CredentialListApi(APIView):
    """GET: your own exchange accounts (to choose follower_credential_id). POST: add one, through
    ccxt (any exchange ccxt knows: exchange_id, sandbox for its testnet) or the paper exchange's
    JSON API (connector api); its keys are stored encrypted and never shown again."""

    class CredentialOutput(serializers.Serializer):
        id = serializers.IntegerField()
        label = serializers.CharField()
        venue = serializers.CharField()
        connector = serializers.CharField()
        exchange_id = serializers.CharField()
        sandbox = serializers.BooleanField()
        health = serializers.CharField()

    class CredentialCreateInput(serializers.Serializer):
        label = serializers.CharField(max_length=100)
        connector = serializers.ChoiceField(choices=["ccxt", "api"])
        exchange_id = serializers.CharField(max_length=40, required=False, default="")
        sandbox = serializers.BooleanField(required=False, default=False)
        base_url = serializers.URLField(max_length=200, required=False, default="")
        api_key = serializers.CharField(max_length=500)
        api_secret = serializers.CharField(max_length=500, required=False, default="")
        passphrase = serializers.CharField(max_length=500, required=False, default="")

    @extend_schema(responses={200: CredentialOutput(many=True)})
    def get(self, request):
        return Response(self.CredentialOutput(selectors.own_account_list(user=request.user), many=True).data)

    @extend_schema(request=CredentialCreateInput, responses={201: CredentialOutput, **ERROR_RESPONSES})
    def post(self, request):
        serializer = self.CredentialCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        secrets = {name: values.pop(name) for name in ("api_key", "api_secret", "passphrase")}
        account = exchange_account_create(owner=request.user, secrets=secrets, **values)
        return Response(self.CredentialOutput(account).data, status=status.HTTP_201_CREATED)
