"""Copy trading in Django admin: read-only views with history. Settings and errors change
through their owner's dashboard or API (the services), so the ledger stays consistent."""

from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from following import services
from following.models import CopyTrade, FollowerNotifySettings, FollowSettings, MasterAccount, SyncRun, TradeError
from tradedesk.exceptions import ApplicationError


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FollowSettings)
class FollowSettingsAdmin(ReadOnlyAdmin):
    list_display = ["user", "master_user", "master_credential", "follower_credential", "follow_ratio", "is_active",
                    "paused_by_error", "last_synced_at", "last_sync_outcome"]  # fmt: skip
    list_filter = ["is_active", "paused_by_error", "last_sync_outcome"]
    list_select_related = ["user", "master_user", "master_credential", "follower_credential"]
    search_fields = ["user__username", "master_user__username"]


@admin.register(TradeError)
class TradeErrorAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "error_type", "error_message", "trade_log", "is_resolved", "created_at"]
    list_filter = ["is_resolved", "error_type"]
    list_select_related = ["user", "trade_log"]
    search_fields = ["user__username", "error_message"]
    actions = ["resolve"]

    def has_resolve_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(description="Resolve the selected errors (the last one resumes following)", permissions=["resolve"])
    def resolve(self, request, queryset) -> None:
        done = resumed = 0
        for error in queryset.filter(is_resolved=False).select_related("user"):
            try:
                _, again = services.trade_error_resolve(user=error.user, error_id=error.pk, resolved_by=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"error {error.pk}: {exc.message}", messages.WARNING)
                continue
            done, resumed = done + 1, resumed + again
        self.message_user(request, f"{done} resolved; {resumed} follower(s) resumed.")


@admin.register(MasterAccount)
class MasterAccountAdmin(ReadOnlyAdmin):
    list_display = ["credential", "is_open", "updated_at"]
    list_select_related = ["credential"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "outcome", "masters_read", "followers_synced", "followers_skipped",
                    "orders_placed", "below_min", "errors"]  # fmt: skip
    list_filter = ["outcome"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CopyTrade)
class CopyTradeAdmin(admin.ModelAdmin):
    """Each follower order's master price, limit and slippage (written by the sync)."""

    list_display = ["order", "follow_settings", "master_price", "limit_price", "max_slippage", "slippage", "created_at"]
    list_select_related = ["order", "follow_settings__user"]
    search_fields = ["follow_settings__user__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FollowerNotifySettings)
class FollowerNotifySettingsAdmin(ReadOnlyAdmin):
    """Which events each user is told of; the channels themselves are secrets and never shown
    (users set them through /api/v1/follow-config/notifications)."""

    list_display = ["user", "events", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    exclude = ["channels_encrypted"]
