from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.validators import MaxValueValidator

from following import selectors


class FollowSettingsForm(forms.Form):
    master_credential_id = forms.TypedChoiceField(label="Master account", coerce=int)
    follower_credential_id = forms.TypedChoiceField(label="Your account", coerce=int)
    follow_ratio = forms.DecimalField(
        label="Follow ratio", max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001")
    )
    is_active = forms.BooleanField(label="Following on", required=False, initial=True)

    def __init__(self, *args, user: User, current_master=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
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
