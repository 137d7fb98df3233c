from decimal import Decimal

from django import forms

from orders.models import OrderStatus, OrderType
from signals.models import PRICE, SignalStatus
from signals.services import normalize_symbol
from tradedesk.exceptions import InvalidInput

POSITIVE = Decimal("0.0000000001")


def _symbol(value: str) -> str:
    if not value:
        return ""
    try:
        return normalize_symbol(value)
    except InvalidInput as exc:
        raise forms.ValidationError(exc.message) from None


class SignalFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Pending and accepted"), (SignalStatus.PENDING, "Pending"), (SignalStatus.ACCEPTED, "Accepted")],
    )
    symbol = forms.CharField(required=False, max_length=32)
    strategy = forms.CharField(required=False, max_length=100)

    def clean_symbol(self) -> str:
        return _symbol(self.cleaned_data["symbol"])


ORIGIN_DESK = "desk"
ORIGIN_COPY = "copy"


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *OrderStatus.choices])
    origin = forms.ChoiceField(
        required=False, choices=[("", "Desk and copy trading"), (ORIGIN_DESK, "Desk"), (ORIGIN_COPY, "Copy trading")]
    )
    symbol = forms.CharField(required=False, max_length=32)
    day_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_symbol(self) -> str:
        return _symbol(self.cleaned_data["symbol"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("day_from") and data.get("day_to") and data["day_from"] > data["day_to"]:
            self.add_error("day_to", "must be on or after From")
        return data


class OrderForm(forms.Form):
    """The confirm form. `nonce` identifies one rendering of the form: a second submit of the
    same rendering (a double click, a resent request) is recognised and creates nothing."""

    order_type = forms.ChoiceField(choices=OrderType.choices, label="Type")
    price = forms.DecimalField(
        required=False,
        min_value=POSITIVE,
        max_digits=PRICE["max_digits"],
        decimal_places=PRICE["decimal_places"],
        help_text="Empty for MARKET.",
    )
    qty = forms.DecimalField(
        min_value=POSITIVE, max_digits=PRICE["max_digits"], decimal_places=PRICE["decimal_places"], label="Qty"
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("order_type") == OrderType.LIMIT and "price" in data and data["price"] is None:
            self.add_error("price", "is required for a LIMIT order (or choose MARKET)")
        if data.get("order_type") == OrderType.MARKET:
            data["price"] = None  # a market order fills at the venue's price; a typed price is ignored
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why, for the audit trail."
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("is required")
        return reason
