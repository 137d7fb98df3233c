"""Filters of the journal, the strategy summary and the refusals list (pages and API alike)."""

from django import forms

from portfolio.journal import ORIGIN_COPY, ORIGIN_DESK
from portfolio.models import RefusalCategory
from tradedesk.choices import Side
from tradedesk.exceptions import InvalidInput
from tradedesk.ids import MAX_ID
from tradedesk.symbols import normalize_symbol


def _symbol(value: str) -> str:
    if not value:
        return ""
    try:
        return normalize_symbol(value)
    except InvalidInput as exc:
        raise forms.ValidationError(exc.message) from None


class PeriodForm(forms.Form):
    day_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("day_from") and data.get("day_to") and data["day_from"] > data["day_to"]:
            self.add_error("day_to", "must be on or after From")
        return data


class JournalFilterForm(PeriodForm):
    symbol = forms.CharField(required=False, max_length=32)
    side = forms.ChoiceField(required=False, choices=[("", "Both sides"), *Side.choices])
    strategy = forms.CharField(required=False, max_length=100)
    account = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Exchange account id.")
    origin = forms.ChoiceField(
        required=False, choices=[("", "Desk and copy trading"), (ORIGIN_DESK, "Desk"), (ORIGIN_COPY, "Copy trading")]
    )
    field_order = ["symbol", "side", "strategy", "account", "origin", "day_from", "day_to"]

    def clean_symbol(self) -> str:
        return _symbol(self.cleaned_data["symbol"])


class RefusalFilterForm(PeriodForm):
    category = forms.ChoiceField(required=False, choices=[("", "Any kind"), *RefusalCategory.choices])
    rule = forms.CharField(required=False, max_length=60)
    symbol = forms.CharField(required=False, max_length=32)
    user = forms.CharField(required=False, max_length=150, help_text="Username.")
    field_order = ["category", "rule", "symbol", "user", "day_from", "day_to"]

    def clean_symbol(self) -> str:
        return _symbol(self.cleaned_data["symbol"])


def filters_of(form: forms.Form) -> dict:
    """The form's values for a selector, leaving out empty ones."""
    return {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
