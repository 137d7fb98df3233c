from django import forms
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from executor import services
from executor.browser.profile import ProfileError, load_profile
from executor.browser.worker import is_browser_queue
from executor.models import SECRET_FIELDS, ConnectorKind, ExchangeAccount, VenueSession


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
            "browser_queue",
            "is_desk_default",
            "is_desk_account",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.masked_secrets() if self.instance.pk else {}
        for name in SECRET_FIELDS:
            self.fields[name].help_text = f"Stored: {stored[name]}. Empty keeps it." if name in stored else ""

    def clean(self) -> dict:
        data = super().clean()
        if data.get("connector") != ConnectorKind.BROWSER:
            if data.get("browser_queue"):
                self.add_error("browser_queue", "Only browser accounts have a browser queue; leave it empty.")
            return data
        if data.get("venue"):
            # The profile is what the browser worker will drive: a mistake in it is shown here,
            # naming the file and the key, not at the first order.
            try:
                self.profile = load_profile(data["venue"])
            except ProfileError as exc:
                self.add_error("venue", f"The exchange profile does not load: {exc}")
        queue = data.get("browser_queue", "")
        if queue and not is_browser_queue(queue):
            self.add_error(
                "browser_queue",
                f"{queue!r} is not a browser queue: use 'browser' or a name starting with 'browser-' "
                "(the queues browser workers consume; any other worker refuses to open a browser).",
            )
        return data

    def _get_validation_exclusions(self):
        # At most one desk default: saving moves the mark (exchange_account_save), so the
        # database constraint is never the answer a person sees.
        return {*super()._get_validation_exclusions(), "is_desk_default"}

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
        previous = []
        if obj.is_desk_default:
            previous = list(
                ExchangeAccount.objects.filter(is_desk_default=True).exclude(pk=obj.pk).values_list("label", flat=True)
            )
        services.exchange_account_save(account=obj, secrets=form.changed_secrets())
        if previous:
            self.message_user(
                request,
                f"Desk orders now go to {obj.label}; {', '.join(previous)} is no longer the desk default.",
                messages.WARNING,
            )
        profile = getattr(form, "profile", None)
        if profile is not None:
            rules = profile.instruments()
            if rules:
                self.message_user(
                    request,
                    f"Profile {profile.name}: venue rules for {', '.join(sorted(rules))} are checked at confirm.",
                )
            else:
                self.message_user(
                    request,
                    f"Profile {profile.name} has no venue rules: symbols, lot steps and ticks are not checked "
                    "at confirm, only by the venue when the order is placed.",
                    messages.WARNING,
                )


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
