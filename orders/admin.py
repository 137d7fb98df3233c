from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from orders.models import Order, RiskLimit
from signals.services import normalize_symbol
from tradedesk.exceptions import InvalidInput


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "created_at",
        "signal",
        "symbol",
        "side",
        "order_type",
        "price",
        "qty",
        "status",
        "error_code",
        "exchange_order_id",
        "evidence",
    ]
    list_filter = ["status", "error_code", "symbol", "side", "order_type", "venue", "created_at"]
    search_fields = ["=id", "client_order_id", "exchange_order_id", "symbol", "error_message"]
    date_hierarchy = "created_at"
    list_select_related = ["signal"]
    readonly_fields = [field.name for field in Order._meta.fields]

    @admin.display(description="Evidence")
    def evidence(self, order: Order) -> str:
        links = [
            format_html('<a href="/api/orders/{}/{}">{}</a>', order.pk, kind, kind)
            for kind in ("screenshot", "trace")
            if getattr(order, kind)
        ]
        return format_html_join(" ", "{}", ((link,) for link in links)) or "—"

    def has_add_permission(self, request) -> bool:
        return False  # orders are created by confirming a signal, through the risk checks

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RiskLimitForm(forms.ModelForm):
    class Meta:
        model = RiskLimit
        fields = ["symbol", "max_order_qty", "max_daily_qty", "max_daily_notional"]
        help_texts = {"max_order_qty": "Empty: the RISK_* default from the environment applies."}

    def clean_symbol(self) -> str:
        try:
            return normalize_symbol(self.cleaned_data["symbol"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(RiskLimit)
class RiskLimitAdmin(SimpleHistoryAdmin):
    form = RiskLimitForm
    list_display = ["symbol", "max_order_qty", "max_daily_qty", "max_daily_notional", "updated_at"]
    search_fields = ["symbol"]
