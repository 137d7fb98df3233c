from decimal import Decimal

from django import forms

from orders.models import NEEDS_REVIEW, OrderStatus, OrderType
from signals.models import PRICE, SignalStatus
from tradedesk.exceptions import InvalidInput
from tradedesk.ids import MAX_ID
from tradedesk.symbols import normalize_symbol

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
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *OrderStatus.choices, (NEEDS_REVIEW, "Needs review")]
    )
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


BULK_LIMIT = 200
BULK_ACCEPT = "accept"
BULK_REJECT = "reject"


class BulkDecisionForm(forms.Form):
    """Several queue rows at once: accept them all, or reject them all with one reason."""

    action = forms.ChoiceField(choices=[(BULK_ACCEPT, "Accept"), (BULK_REJECT, "Reject")])
    ids = forms.CharField(max_length=BULK_LIMIT * 21, help_text="Signal ids, comma separated.")
    reason = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_ids(self) -> list[int]:
        parts = [part.strip() for part in self.cleaned_data["ids"].split(",") if part.strip()]
        if not parts:
            raise forms.ValidationError("choose at least one signal")
        if len(parts) > BULK_LIMIT:
            raise forms.ValidationError(f"at most {BULK_LIMIT} signals at once")
        ids = []
        for part in parts:
            if not part.isdigit() or not 0 < int(part) <= MAX_ID:
                raise forms.ValidationError(f"{part[:20]!r} is not a signal id")
            if int(part) not in ids:
                ids.append(int(part))
        return ids

    def clean(self) -> dict:
        data = super().clean()
        data["reason"] = (data.get("reason") or "").strip()
        if data.get("action") == BULK_REJECT and not data["reason"]:
            self.add_error("reason", "is required to reject (one reason for every signal chosen)")
        return data
