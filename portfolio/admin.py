from django.contrib import admin

from portfolio.models import ConfirmRefusal


@admin.register(ConfirmRefusal)
class ConfirmRefusalAdmin(admin.ModelAdmin):
    """Refused confirms, read-only: they are a record, nobody edits or deletes one here."""

    list_display = ["id", "created_at", "user", "signal_ref", "symbol", "side", "qty", "price", "category", "rule"]
    list_filter = ["category", "rule", "symbol", "created_at"]
    search_fields = ["rule", "message", "symbol", "user__username", "signal_ref"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
