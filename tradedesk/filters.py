from datetime import UTC, timedelta

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from tradedesk.symbols import normalize_symbol

# Offsets real time zones use (UTC-12:00 to UTC+14:00); PostgreSQL refuses some larger ones
# ("time zone displacement out of range"), so they are a 400 naming the parameter, not a 500.
MIN_OFFSET, MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time with an offset from -12:00 to +14:00, handed on in UTC; present but
    empty is an error (leave the parameter out for no bound)."""

    def clean(self, value):
        if value == "":
            raise ValidationError("must be an ISO 8601 date-time; leave the parameter out for no bound.")
        return super().clean(value)

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        offset = moment.utcoffset()
        if offset is not None and not MIN_OFFSET <= offset <= MAX_OFFSET:
            raise ValidationError("the UTC offset must be between -12:00 and +14:00.")
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("is out of range.") from exc


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class DeskFilterSet(django_filters.FilterSet):
    """Filters every desk list shares: the market (any symbol spelling) and a created-at range."""

    symbol = django_filters.CharFilter(method="filter_symbol")
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="From this time on (ISO 8601, offset -12:00 to +14:00)."
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Before this time (ISO 8601, offset -12:00 to +14:00)."
    )

    def filter_symbol(self, queryset, name, value):
        return queryset.filter(symbol=normalize_symbol(value))
