from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from orders import services
from orders.models import Order, RiskLimit
from signals.services import normalize_symbol
from tradedesk import roles
from tradedesk.exceptions import ApplicationError, InvalidInput


class OriginFilter(admin.SimpleListFilter):
    """Desk orders come from a signal; copy-trading orders from a follower's settings."""

    title = "origin"
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("desk", "Desk"), ("copy", "Copy trading")]

    def queryset(self, request, queryset):
        if self.value() == "desk":
            return queryset.filter(follow_settings__isnull=True)
        if self.value() == "copy":
            return queryset.filter(follow_settings__isnull=False)
        return queryset


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "created_at",
        "signal",
        "follow_settings",
        "symbol",
        "side",
        "order_type",
        "price",
        "qty",
        "status",
        "error_code",
        "exchange_order_id",
        "latency",
        "evidence",
    ]
    list_filter = [OriginFilter, "status", "error_code", "symbol", "side", "order_type", "venue", "created_at"]
    search_fields = [
        "=id",
        "=signal__id",
        "client_order_id",
        "exchange_order_id",
        "symbol",
        "error_message",
        "follow_settings__user__username",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["signal", "follow_settings__user", "follow_settings__master_user"]
    readonly_fields = [field.name for field in Order._meta.fields]
    actions = ["cancel"]

    @admin.display(description="Latency")
    def latency(self, order: Order) -> str:
        return f"{order.latency_ms} ms" if order.latency_ms is not None else "—"

    @admin.action(description="Cancel selected orders not yet being placed")
    def cancel(self, request, queryset):
        if not roles.has_role(request.user, roles.TRADER):
            self.message_user(request, "The trader role is required for this action.", messages.ERROR)
            return
        done = 0
        for order in queryset:
            try:
                services.order_cancel(order_id=order.pk, user=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Order {order.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} order(s) canceled.")

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
