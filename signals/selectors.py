from django.db.models import QuerySet
from rest_framework_api_key.models import APIKey

from signals.models import Signal


def signal_list(*, api_key: APIKey | None = None) -> QuerySet[Signal]:
    """Staff see every signal; a strategy key sees only the signals it sent."""
    queryset = Signal.objects.select_related("decided_by")
    if api_key is not None:
        queryset = queryset.filter(api_key=api_key)
    return queryset
