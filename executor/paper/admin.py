"""The paper exchange in Django admin: read accounts and orders, set faults and mark overrides.

Writes that matter go through the services: faults (so session_expired also ends the sessions)
and the mark override (so resting orders are matched at once). Accounts are made by the
paper_create_account command, which prints the TOTP secret and API key once.
"""

from django import forms
from django.contrib import admin, messages

from executor.paper import services
from executor.paper.errors import PaperInvalid
from executor.paper.models import (
    PaperAccount,
    PaperApiKey,
    PaperBalance,
    PaperBinanceKey,
    PaperFault,
    PaperInstrument,
    PaperOrder,
    PaperPosition,
    PaperSession,
    PaperTrade,
)
from executor.paper.services.faults import fault_value_check


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class BalanceInline(ReadOnlyInline):
    model = PaperBalance
    fields = ["asset", "free", "locked"]


class PositionInline(ReadOnlyInline):
    model = PaperPosition
    fields = ["symbol", "qty", "avg_price"]


class FaultInline(ReadOnlyInline):
    model = PaperFault
    fields = ["kind", "value", "once", "is_active", "armed_at", "fired_count"]


@admin.register(PaperAccount)
class PaperAccountAdmin(admin.ModelAdmin):
    list_display = ["username", "is_active", "pro_two_factor", "created_at", "last_login_at"]
    search_fields = ["username"]
    fields = ["username", "is_active", "pro_two_factor", "created_at", "last_login_at"]
    readonly_fields = ["username", "created_at", "last_login_at"]
    inlines = [BalanceInline, PositionInline, FaultInline]
    actions = ["make_binance_key"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Make a Binance API key (the secret is shown once)")
    def make_binance_key(self, request, queryset) -> None:
        for account in queryset:
            _, api_key, secret = services.paper_binance_key_create(account=account, name="admin")
            self.message_user(
                request,
                f"{account.username}: API key {api_key} secret {secret} (store it now; it is not shown again)",
                messages.WARNING,
            )


@admin.register(PaperBinanceKey)
class PaperBinanceKeyAdmin(admin.ModelAdmin):
    list_display = ["key_prefix", "name", "account", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["key_prefix", "name", "account__username"]
    fields = ["key_prefix", "name", "account", "created_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        for key in queryset:
            services.paper_binance_key_revoke(key=key)


class PaperFaultForm(forms.ModelForm):
    class Meta:
        model = PaperFault
        fields = ["account", "kind", "value", "once", "is_active"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind"):
            try:
                data["value"] = fault_value_check(kind=data["kind"], value=data.get("value") or "")
            except PaperInvalid as exc:
                self.add_error("value", exc.message)
        return data


@admin.register(PaperFault)
class PaperFaultAdmin(admin.ModelAdmin):
    form = PaperFaultForm
    list_display = ["account", "kind", "value", "once", "is_active", "armed_at", "fired_count"]
    list_filter = ["kind", "is_active"]
    search_fields = ["account__username"]
    fields = ["account", "kind", "value", "once", "is_active"]
    autocomplete_fields = ["account"]

    def save_model(self, request, obj, form, change) -> None:
        if obj.is_active:
            fault = services.paper_fault_set(account=obj.account, kind=obj.kind, value=obj.value, once=obj.once)
            obj.pk, obj.value, obj.armed_at = fault.pk, fault.value, fault.armed_at
        elif obj.pk:
            services.paper_fault_clear(account=obj.account, kind=obj.kind)


class PaperInstrumentForm(forms.ModelForm):
    class Meta:
        model = PaperInstrument
        fields = ["override_price", "liquidity"]

    def clean_override_price(self):
        price = self.cleaned_data["override_price"]
        if price is not None and (price <= 0 or price % self.instance.tick_size):
            raise forms.ValidationError(f"Must be a positive multiple of the tick size {self.instance.tick_size}.")
        return price

    def clean_liquidity(self):
        liquidity = self.cleaned_data["liquidity"]
        if liquidity is not None and (liquidity <= 0 or liquidity % self.instance.lot_size):
            raise forms.ValidationError(f"Must be a positive multiple of the lot size {self.instance.lot_size}.")
        return liquidity


@admin.register(PaperInstrument)
class PaperInstrumentAdmin(admin.ModelAdmin):
    form = PaperInstrumentForm
    list_display = ["symbol", "tick_size", "lot_size", "min_qty", "min_notional", "override_price", "liquidity"]
    fields = [
        "symbol",
        "tick_size",
        "lot_size",
        "min_qty",
        "min_notional",
        "start_price",
        "volatility",
        "seed",
        "override_price",
        "liquidity",
    ]
    readonly_fields = [name for name in fields if name not in ("override_price", "liquidity")]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if "liquidity" in form.changed_data:
            services.paper_liquidity_set(symbol=obj.symbol, liquidity=obj.liquidity)
        services.paper_price_set(symbol=obj.symbol, price=obj.override_price)


class TradeInline(ReadOnlyInline):
    model = PaperTrade
    fields = ["created_at", "qty", "price", "quote_qty", "fee", "fee_asset", "is_maker"]
    readonly_fields = fields


@admin.register(PaperOrder)
class PaperOrderAdmin(admin.ModelAdmin):
    inlines = [TradeInline]
    list_display = [
        "__str__",
        "account",
        "client_order_id",
        "symbol",
        "side",
        "order_type",
        "qty",
        "price",
        "status",
        "filled_qty",
        "avg_price",
        "fee",
    ]
    list_filter = ["status", "symbol", "side", "order_type", "time_in_force"]
    search_fields = ["client_order_id", "account__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaperTrade)
class PaperTradeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "order", "account", "symbol", "side", "qty", "price", "fee", "fee_asset", "is_maker"]
    list_filter = ["symbol", "side", "is_maker"]
    search_fields = ["order__client_order_id", "account__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaperSession)
class PaperSessionAdmin(admin.ModelAdmin):
    list_display = ["account", "created_at", "expires_at", "revoked_at"]
    fields = ["account", "created_at", "expires_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PaperApiKey)
class PaperApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "account", "created", "revoked"]
    fields = ["name", "prefix", "account", "created", "revoked"]
    readonly_fields = ["name", "prefix", "account", "created"]

    def has_add_permission(self, request) -> bool:
        return False
