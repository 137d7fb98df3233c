from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from signals import services
from signals.models import Signal, SignalStatus
from tradedesk.exceptions import ApplicationError


@admin.register(Signal)
class SignalAdmin(SimpleHistoryAdmin):
    list_display = ["id", "created_at", "symbol", "side", "suggest_price", "suggest_qty", "strategy_name", "status"]
    list_filter = ["status", "side", "strategy_name", "symbol", "created_at"]
    search_fields = ["=id", "symbol", "strategy_name", "reason", "client_signal_id"]
    date_hierarchy = "created_at"
    actions = ["accept", "reject", "cancel"]
    readonly_fields = [field.name for field in Signal._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # signals come from strategies through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # nothing stored is lost: cancel or reject instead

    def _decide(self, request, queryset, status: str) -> None:
        done = 0
        for signal in queryset:
            try:
                services.signal_decide(signal_id=signal.pk, status=status, user=request.user, note="admin action")
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Signal {signal.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} signal(s) {status.lower()}.")

    @admin.action(description="Accept selected signals")
    def accept(self, request, queryset):
        self._decide(request, queryset, SignalStatus.ACCEPTED)

    @admin.action(description="Reject selected signals")
    def reject(self, request, queryset):
        self._decide(request, queryset, SignalStatus.REJECTED)

    @admin.action(description="Cancel selected signals")
    def cancel(self, request, queryset):
        self._decide(request, queryset, SignalStatus.CANCELED)
