"""The signal as the API and the live events show it (one shape for both)."""

from rest_framework import serializers

from signals.models import Signal


class SignalOutput(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Empty until a person decides."
    )

    class Meta:
        model = Signal
        fields = [
            "id",
            "symbol",
            "side",
            "suggest_price",
            "suggest_qty",
            "strategy_name",
            "reason",
            "status",
            "client_signal_id",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# One serializer for every signal shown: a ModelSerializer builds its fields again for each
# instance it is given (about 1 ms per signal), while to_representation on a built one only
# reads the row. It holds no per-call state, so the request threads can share it.
_OUTPUT = SignalOutput()


def signal_data(signal: Signal) -> dict:
    """The signal as SignalOutput shows it (the API's answer and the live event's data)."""
    return _OUTPUT.to_representation(signal)
