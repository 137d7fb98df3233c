from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.validators import MaxValueValidator

from following import selectors
from following.models import DEFAULT_MAX_SLIPPAGE, JoinMode, SizingMode


class FollowSettingsForm(forms.Form):
    master_credential_id = forms.TypedChoiceField(label="Master account", coerce=int)
    follower_credential_id = forms.TypedChoiceField(label="Your account", coerce=int)
    follow_ratio = forms.DecimalField(
        label="Follow ratio", max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001")
    )
    is_active = forms.BooleanField(label="Following on", required=False, initial=True)
    sizing_mode = forms.ChoiceField(
        label="Sizing", choices=SizingMode.choices, initial=SizingMode.RATIO, required=False
    )
    fixed_notional = forms.DecimalField(
        label="Fixed notional per master trade", required=False, max_digits=28, decimal_places=10,
        help_text="Fixed-notional sizing only: the quote amount (USDT) copied per master trade.",
    )  # fmt: skip
    join_mode = forms.ChoiceField(
        label="When you start",
        choices=JoinMode.choices,
        initial=JoinMode.NOW,
        required=False,
        help_text="Default: copy the master's current position now (as limit orders within your max "
        "slippage). Choose 'only changes' to copy only the trades the master makes from now on.",
    )
    max_slippage = forms.DecimalField(
        label="Max slippage", max_digits=8, decimal_places=6, initial=Decimal(DEFAULT_MAX_SLIPPAGE), required=False,
        help_text="0.005 = 0.5%: your orders are limits at the master's price plus (buy) or minus (sell) this.",
    )  # fmt: skip
    max_order_notional = forms.DecimalField(
        label="Max per order (USDT)", required=False, max_digits=28, decimal_places=10
    )
    max_position_notional = forms.DecimalField(
        label="Max per symbol position (USDT)", required=False, max_digits=28, decimal_places=10
    )
    max_trades_per_day = forms.IntegerField(label="Max trades per day", required=False, min_value=1)
    max_loss = forms.DecimalField(
        label="Max loss", required=False, max_digits=8, decimal_places=6,
        help_text="0.2 = pause when your account's equity is 20% under its high-water mark.",
    )  # fmt: skip
    allowed_symbols = forms.CharField(
        label="Allowed symbols", required=False, help_text="Comma-separated (BTC/USDT, ETH/USDT); empty: every symbol."
    )
    confirm = forms.BooleanField(
        label="Yes, change it even though a target rounds to zero", required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, user: User, current_master=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if current_master is not None:
            # Joining is chosen when a follow starts.
            del self.fields["join_mode"]
        self.fields["follow_ratio"].validators.append(MaxValueValidator(settings.FOLLOW_MAX_RATIO))
        self.fields["follow_ratio"].help_text = f"0.1 = 10% of the master; at most {settings.FOLLOW_MAX_RATIO}."
        masters = [
            (m.credential_id, f"{m.credential.owner.username}: {m.credential.label} ({m.credential.venue})")
            for m in selectors.master_account_list()
            if m.credential.owner_id != user.pk
        ]
        # A master closed to new followers still keeps (and shows) the ones it has.
        if current_master is not None and current_master.pk not in dict(masters):
            masters.append((current_master.pk, f"{current_master.owner.username}: {current_master.label} (closed)"))
        self.fields["master_credential_id"].choices = masters
        self.fields["follower_credential_id"].choices = [
            (a.pk, f"{a.label} ({a.venue}, {a.connector})") for a in selectors.own_account_list(user=user)
        ]

    def clean(self) -> dict:
        data = super().clean()
        # Left out (an older form, a script): the defaults, as the seed's settings had them.
        data["sizing_mode"] = data.get("sizing_mode") or SizingMode.RATIO
        if "join_mode" in self.fields:
            data["join_mode"] = data.get("join_mode") or JoinMode.NOW
        if data.get("max_slippage") is None:
            data["max_slippage"] = Decimal(DEFAULT_MAX_SLIPPAGE)
        return data

    def clean_allowed_symbols(self) -> list[str]:
        text = self.cleaned_data["allowed_symbols"]
        return [symbol.strip() for symbol in text.split(",") if symbol.strip()]


class UnfollowForm(forms.Form):
    positions = forms.ChoiceField(
        choices=[("keep", "Keep the copied positions"), ("close", "Close the copied positions")],
        widget=forms.RadioSelect,
    )


class SignupForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]{3,150}$", max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, min_length=10)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("is taken")
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password
