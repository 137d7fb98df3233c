from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from simple_history.admin import SimpleHistoryAdmin

from orders import services as order_services
from orders.models import OrderType
from signals import services
from signals.models import Signal, SignalStatus
from tradedesk import roles
from tradedesk.exceptions import ApplicationError


class SignalActionForm(ActionForm):
    note = forms.CharField(
        required=False, max_length=2000, label="Reason", help_text="Required to reject; kept in the audit trail."
    )


@admin.register(Signal)
class SignalAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "created_at",
        "symbol",
        "side",
        "suggest_price",
        "suggest_qty",
        "strategy_name",
        "status",
        "expires_at",
        "decided_by",
    ]
    list_filter = ["status", "side", "strategy_name", "symbol", "created_at"]
    search_fields = ["=id", "symbol", "strategy_name", "reason", "client_signal_id", "decision_note"]
    date_hierarchy = "created_at"
    list_select_related = ["decided_by"]
    action_form = SignalActionForm
    actions = ["accept", "reject", "cancel", "place"]
    readonly_fields = [field.name for field in Signal._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # signals come from strategies through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # nothing stored is lost: cancel or reject instead

    @admin.display(description="Expires")
    def expires_at(self, signal: Signal):
        return services.signal_deadline(signal) or "—"

    def _may_trade(self, request) -> bool:
        if roles.has_role(request.user, roles.TRADER):
            return True
        self.message_user(request, "The trader role is required for this action.", messages.ERROR)
        return False

    def _decide(self, request, queryset, status: str, note: str = "admin action") -> None:
        if not self._may_trade(request):
            return
        done = 0
        for signal in queryset:
            try:
                services.signal_decide(signal_id=signal.pk, status=status, user=request.user, note=note)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Signal {signal.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} signal(s) {status.lower()}.")

    @admin.action(description="Accept selected signals")
    def accept(self, request, queryset):
        self._decide(request, queryset, SignalStatus.ACCEPTED)

    @admin.action(description="Reject selected signals (with the reason above)")
    def reject(self, request, queryset):
        note = (request.POST.get("note") or "").strip()
        if not note:
            self.message_user(request, "Give a reason to reject (the Reason field next to the action).", messages.ERROR)
            return
        self._decide(request, queryset, SignalStatus.REJECTED, note=note)

    @admin.action(description="Cancel selected signals")
    def cancel(self, request, queryset):
        self._decide(request, queryset, SignalStatus.CANCELED)

    @admin.action(description="Place orders at the suggested price and qty")
    def place(self, request, queryset):
        if not self._may_trade(request):
            return
        placed = []
        for signal in queryset.order_by("id"):
            try:
                order = order_services.order_create(
                    user=request.user,
                    signal_id=signal.pk,
                    qty=signal.suggest_qty,
                    order_type=OrderType.LIMIT if signal.suggest_price else OrderType.MARKET,
                    price=signal.suggest_price,
                )
                placed.append(order.pk)
            except ApplicationError as exc:
                self.message_user(request, f"Signal {signal.pk}: {exc.message}", messages.WARNING)
        if placed:
            self.message_user(request, f"Order(s) {', '.join(map(str, placed))} sent; see Orders for the results.")
