"""Input validation for the paper exchange's pages."""

import re
from decimal import Decimal

from django import forms
from django.core.validators import RegexValidator

from executor.paper.models import OrderSide, OrderType

CLIENT_ORDER_ID = RegexValidator(
    re.compile(r"^[A-Za-z0-9._:@-]{1,64}$"),
    "Use 1 to 64 letters, digits or . _ : @ -",
)


def amount_field(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(max_digits=28, decimal_places=10, min_value=Decimal("0.0000000001"), **kwargs)


class LoginForm(forms.Form):
    username = forms.CharField(max_length=50)
    password = forms.CharField(max_length=200, widget=forms.PasswordInput)


class TotpForm(forms.Form):
    code = forms.CharField(max_length=10, label="Verification code")


class OrderForm(forms.Form):
    side = forms.ChoiceField(choices=OrderSide.choices, initial=OrderSide.BUY)
    order_type = forms.ChoiceField(choices=OrderType.choices, initial=OrderType.LIMIT, label="Type")
    price = amount_field(required=False)
    qty = amount_field(label="Quantity")
    client_order_id = forms.CharField(
        max_length=64, required=False, validators=[CLIENT_ORDER_ID], label="Client order ID (optional)"
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("order_type") == OrderType.LIMIT and data.get("price") is None and "price" not in self.errors:
            self.add_error("price", "A limit order needs a price.")
        if data.get("order_type") == OrderType.MARKET:
            data["price"] = None
        return data
