"""The order as the API and the live events show it."""

from rest_framework import serializers

from orders.models import Order


class OrderOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    signal_id = serializers.IntegerField(read_only=True)
    latency_ms = serializers.IntegerField(read_only=True, allow_null=True)
    has_screenshot = serializers.SerializerMethodField()
    exchange_account = serializers.SlugRelatedField(slug_field="label", read_only=True)

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
            "filled_qty",
            "avg_fill_price",
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
