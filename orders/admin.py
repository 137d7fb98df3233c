from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from orders import lifecycle, services
from orders.models import Fill, Order, RiskLimit
from tradedesk import roles
from tradedesk.exceptions import ApplicationError, InvalidInput
from tradedesk.symbols import normalize_symbol


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


class FillInline(admin.TabularInline):
    model = Fill
    fields = ["trade_id", "qty", "price", "fee", "fee_asset", "time"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # fills come from the venue only


class ResolveReviewForm(forms.Form):
    placed = forms.TypedChoiceField(
        choices=[("yes", "Placed: the venue has it"), ("no", "Not placed: the venue does not have it")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    exchange_order_id = forms.CharField(required=False, max_length=128, label="Venue order id (if placed)")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    inlines = [FillInline]
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
        "venue_state",
        "filled_qty",
        "needs_review",
        "error_code",
        "exchange_order_id",
        "latency",
        "evidence",
    ]
    list_filter = [
        OriginFilter,
        "status",
        "venue_state",
        "needs_review",
        "error_code",
        "symbol",
        "side",
        "order_type",
        "venue",
        "created_at",
    ]
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
    actions = ["cancel", "refresh", "resolve_review"]

    @admin.display(description="Latency")
    def latency(self, order: Order) -> str:
        return f"{order.latency_ms} ms" if order.latency_ms is not None else "—"

    @admin.action(description="Cancel selected orders (not yet sent: here; open at the venue: at the venue)")
    def cancel(self, request, queryset):
        done = self._each(request, queryset, lambda order: services.order_cancel(order_id=order.pk, user=request.user))
        if done is not None:
            self.message_user(request, f"{done} order(s) canceled or sent a cancel request.")

    @admin.action(description="Refresh selected open orders from the venue")
    def refresh(self, request, queryset):
        done = self._each(request, queryset, lambda order: lifecycle.order_refresh_request(order_id=order.pk))
        if done is not None:
            self.message_user(request, f"{done} order(s) queued for a refresh.")

    def _each(self, request, queryset, act) -> int | None:
        if not roles.has_role(request.user, roles.TRADER):
            self.message_user(request, "The trader role is required for this action.", messages.ERROR)
            return None
        done = 0
        for order in queryset:
            try:
                act(order)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Order {order.pk}: {exc.message}", messages.WARNING)
        return done

    @admin.action(description="Resolve the review of the selected order (placed or not)")
    def resolve_review(self, request, queryset):
        """One order at a time: a page asks whether it was placed (and its venue id), then the
        same service as the API and the orders board settles it."""
        if not roles.has_role(request.user, roles.TRADER):
            self.message_user(request, "The trader role is required for this action.", messages.ERROR)
            return None
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one order to resolve.", messages.WARNING)
            return None
        order = queryset.get()
        form = ResolveReviewForm(request.POST if "placed" in request.POST else None)
        if form.is_valid():
            try:
                lifecycle.order_resolve_review(order_id=order.pk, user=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Order {order.pk} resolved.")
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve the review of order #{order.pk}",
            "order": order,
            "form": form,
            "opts": self.model._meta,
            "action": "resolve_review",
            "selected": order.pk,
        }
        return render(request, "admin/orders/resolve_review.html", context)

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


@admin.register(Fill)
class FillAdmin(SimpleHistoryAdmin):
    """The venue's trades, as recorded by the desk: read only (they come from the venue)."""

    list_display = ["id", "time", "order", "trade_id", "qty", "price", "fee", "fee_asset"]
    list_filter = ["fee_asset", "time"]
    search_fields = ["=order__id", "trade_id", "order__client_order_id", "order__symbol"]
    list_select_related = ["order"]
    readonly_fields = [field.name for field in Fill._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
