"""Input of the pro site: the login steps and the order ticket's JSON body."""

from decimal import Decimal, InvalidOperation

from django import forms

from executor.paper.models import OrderSide, OrderType

MAX_DIGITS = 28
MAX_PLACES = 10


class LoginForm(forms.Form):
    username = forms.CharField(max_length=50)
    password = forms.CharField(max_length=200, widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.CharField(max_length=10, label="Authenticator code")


class TwoFactorForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    password = forms.CharField(max_length=200, widget=forms.PasswordInput)


class GroupedDecimalField(forms.Field):
    """A positive decimal as the ticket sends it: '66000.5', also '66,000.5' (its own format)."""

    def to_python(self, value) -> Decimal | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str | int):
            raise forms.ValidationError("Enter a number.")
        text = str(value).replace(",", "").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError("Enter a number.") from None
        if not number.is_finite() or number <= 0:
            raise forms.ValidationError("Must be greater than 0.")
        if number.adjusted() >= MAX_DIGITS - MAX_PLACES:
            raise forms.ValidationError("Too large.")
        if -number.as_tuple().exponent > MAX_PLACES:
            raise forms.ValidationError(f"At most {MAX_PLACES} decimal places.")
        return number


class PlaceForm(forms.Form):
    symbol = forms.CharField(max_length=20)
    side = forms.ChoiceField(choices=OrderSide.choices)
    type = forms.ChoiceField(choices=OrderType.choices)
    price = GroupedDecimalField(required=False)
    quantity = GroupedDecimalField()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("type") == OrderType.LIMIT and data.get("price") is None and "price" not in self.errors:
            self.add_error("price", "Please enter a price.")
        if data.get("type") == OrderType.MARKET:
            data["price"] = None
        return data
