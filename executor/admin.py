from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from executor import services
from executor.models import SECRET_FIELDS, ExchangeAccount, VenueSession


class ExchangeAccountForm(forms.ModelForm):
    """Secrets are write-only: shown masked, kept when the field is left empty."""

    base_url = forms.URLField(required=False, assume_scheme="https")
    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))
    api_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))
    passphrase = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))
    web_username = forms.CharField(required=False)
    web_password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))
    totp_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))
    clear_secrets = forms.BooleanField(required=False, help_text="Remove every stored secret.")

    class Meta:
        model = ExchangeAccount
        fields = [
            "owner",
            "label",
            "venue",
            "connector",
            "exchange_id",
            "sandbox",
            "base_url",
            "is_desk_default",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.masked_secrets() if self.instance.pk else {}
        for name in SECRET_FIELDS:
            self.fields[name].help_text = f"Stored: {stored[name]}. Empty keeps it." if name in stored else ""

    def changed_secrets(self) -> dict[str, str]:
        if self.cleaned_data.get("clear_secrets"):
            return dict.fromkeys(SECRET_FIELDS, "")
        return {name: self.cleaned_data[name] for name in SECRET_FIELDS if self.cleaned_data.get(name)}


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(SimpleHistoryAdmin):
    form = ExchangeAccountForm
    list_display = ["label", "owner", "venue", "connector", "is_desk_default", "is_active", "session_state", "health"]
    list_filter = ["venue", "connector", "is_active", "health"]
    # Written by the account checks (beat) and by auth/clock errors of ccxt accounts.
    readonly_fields = ["health", "health_detail", "health_checked_at"]
    search_fields = ["label", "owner__username", "venue"]

    list_select_related = ["owner", "venue_session"]

    @admin.display(description="Browser session")
    def session_state(self, account: ExchangeAccount) -> str:
        session = getattr(account, "venue_session", None)
        if account.connector != "browser":
            return "—"
        return f"{session.get_state_display()} ({session.detail})" if session else "Not started"

    def save_model(self, request, obj, form, change) -> None:
        services.exchange_account_save(account=obj, secrets=form.changed_secrets())


@admin.register(VenueSession)
class VenueSessionAdmin(admin.ModelAdmin):
    """Read only: the browser worker writes these as it logs in and places orders."""

    list_display = ["account", "state", "detail", "updated_at"]
    list_filter = ["state"]
    search_fields = ["account__label", "detail"]
    list_select_related = ["account"]
    readonly_fields = ["account", "state", "detail", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
