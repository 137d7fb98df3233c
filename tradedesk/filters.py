import django_filters

from signals.services import normalize_symbol


class DeskFilterSet(django_filters.FilterSet):
    """Filters every desk list shares: the market (any symbol spelling) and a created-at range."""

    symbol = django_filters.CharFilter(method="filter_symbol")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    def filter_symbol(self, queryset, name, value):
        return queryset.filter(symbol=normalize_symbol(value))
