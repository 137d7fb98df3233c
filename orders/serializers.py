"""The order as the API and the live events show it."""

from rest_framework import serializers

from orders.models import Fill, Order


class FillOutput(serializers.ModelSerializer):
    class Meta:
        model = Fill
        fields = ["trade_id", "qty", "price", "fee", "fee_asset", "time"]
        read_only_fields = fields


class OrderOutput(serializers.ModelSerializer):
    stage = serializers.CharField(
        read_only=True,
        help_text="The placement status until the venue accepted the order, then its venue state "
        "(ACCEPTED until the venue reported one; CANCEL_REQUESTED while a cancel is under way).",
    )
    cancel_requested = serializers.BooleanField(read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    fills = FillOutput(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    signal_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Empty for follower orders.")
    latency_ms = serializers.IntegerField(read_only=True, allow_null=True)
    has_screenshot = serializers.SerializerMethodField()
    exchange_account = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True, help_text="Empty for the dry run."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "signal_id",
            "symbol",
            "side",
            "order_type",
            "price",
            "qty",
            "reference_price",
            "status",
            "client_order_id",
            "exchange_order_id",
            "error_code",
            "error_message",
            "has_screenshot",
            "stage",
            "venue_state",
            "filled_qty",
            "avg_fill_price",
            "fee",
            "fee_asset",
            "fills",
            "cancel_requested",
            "cancel_requested_at",
            "last_checked_at",
            "needs_review",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "venue",
            "exchange_account",
            "is_additional",
            "created_by",
            "placement_started_at",
            "completed_at",
            "latency_ms",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_screenshot(self, order: Order) -> bool:
        return bool(order.screenshot)
