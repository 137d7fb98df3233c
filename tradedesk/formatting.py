"""One way to write numbers and times, for the pages, the API, the admin and CSV files.

Numbers: Decimals without trailing zeros or exponent (`0.1`, not `0.1000000000`); on pages and in
the admin with thousands grouped (`65,000.5`); an amount can be rounded to the decimals the venue
uses (its price tick) first. In the API a decimal is a string without trailing zeros (`"0.1"`),
so no client needs to guess the column's precision, and nothing is lost: the digits are the same.

Times: aware datetimes in the desk's zone (TIME_ZONE); on pages as `2026-12-01 21:55:17 UTC`, in
the API as DRF writes ISO 8601 (`...Z` in UTC, `+08:00` elsewhere) and in CSV with the offset
(`2026-12-01T21:55:17.123456+00:00`).
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.forms import NumberInput
from django.utils import timezone
from rest_framework import serializers

TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def decimal_text(value: Decimal | None) -> str | None:
    """`Decimal("0.1000000000")` -> `"0.1"`; `Decimal("1E+2")` -> `"100"`; None stays None."""
    if value is None:
        return None
    if not value.is_finite():
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def places_of(step: Decimal | None) -> int | None:
    """The number of decimals a venue's step has: 0.01 -> 2, 1 -> 0, 0.00050 -> 4."""
    if step is None or not step.is_finite() or step <= 0:
        return None
    return max(-step.normalize().as_tuple().exponent, 0)


def number(value: Any, places: int | None = None) -> str:
    """A number as a trader reads it: grouped, trailing zeros trimmed, rounded to `places` if given."""
    if value is None or value == "":
        return ""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)  # what the user typed, shown back with the field's error
    if not value.is_finite():
        return str(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = decimal_text(value)
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    whole = f"{int(whole or 0):,}"
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def local_time(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def time_text(moment: datetime | None) -> str:
    """The pages' one time format: `2026-12-01 21:55:17 UTC` (the desk's zone, always named)."""
    moment = local_time(moment)
    return moment.strftime(TIME_FORMAT) if moment is not None else ""


def iso_time(moment: datetime | None) -> str:
    """API and CSV: ISO 8601 with the offset, `2026-12-01T21:55:17.123456+00:00`."""
    moment = local_time(moment)
    return moment.isoformat() if moment is not None else ""


class TrimmedDecimalField(serializers.DecimalField):
    """A DecimalField whose output is a string without trailing zeros (input is unchanged)."""

    def to_representation(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value).strip())
        return decimal_text(value)


class UpperChoiceField(serializers.ChoiceField):
    """A choice of upper-case codes that also takes them in any case: `"buy"` is BUY, as
    `"btc-usdt"` is BTC/USDT (symbols are normalised too)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            data = data.strip().upper()
        return super().to_internal_value(data)


def install_api_formats() -> None:
    """Every ModelSerializer maps model decimals to TrimmedDecimalField (datetimes are already
    ISO 8601 with the offset in DRF: `Z` for UTC, `+08:00` for another TIME_ZONE).

    The mapping is DRF's own extension point; setting it once on the base class covers every
    app's output serializers (signals, orders, following, the ones added later) in one place.
    """
    mapping = serializers.ModelSerializer.serializer_field_mapping
    mapping[models.DecimalField] = TrimmedDecimalField


def install_admin_formats() -> None:
    """The Django admin shows decimals as the pages do (`0.1`, not `0.1000000000`).

    The admin's list and read-only views call `display_for_field`, which pads a DecimalField to
    its column's decimal places; the modules that imported it get the trimmed version.
    """
    from django.contrib.admin import helpers, utils
    from django.contrib.admin.templatetags import admin_list

    original = utils.display_for_field
    if getattr(original, "trims_decimals", False):
        return

    def display_for_field(value, field, empty_value_display, *args, **kwargs):
        if isinstance(field, models.DecimalField) and isinstance(value, Decimal):
            return number(value)
        return original(value, field, empty_value_display, *args, **kwargs)

    display_for_field.trims_decimals = True
    for module in (utils, helpers, admin_list):
        module.display_for_field = display_for_field
    # The admin's edit forms too: an input reads 10, not 10.0000000000 (the value saved is the same).
    # Admins registered before this ran (admin autodiscovers first) copied the defaults already.
    from django.contrib.admin import options, site

    for overrides in (
        options.FORMFIELD_FOR_DBFIELD_DEFAULTS,
        *(a.formfield_overrides for a in site._registry.values()),
    ):
        overrides.setdefault(models.DecimalField, {}).setdefault("widget", TrimmedNumberInput)


class TrimmedNumberInput(NumberInput):
    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal):
            return decimal_text(value)
        return super().format_value(value)
