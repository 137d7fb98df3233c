from decimal import Decimal

from django.db import migrations

INSTRUMENTS = [
    {
        "symbol": "BTC-USDT",
        "base_asset": "BTC",
        "quote_asset": "USDT",
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.0001"),
        "min_qty": Decimal("0.0001"),
        "start_price": Decimal("65000"),
    },
    {
        "symbol": "ETH-USDT",
        "base_asset": "ETH",
        "quote_asset": "USDT",
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.001"),
        "min_qty": Decimal("0.001"),
        "start_price": Decimal("3200"),
    },
]


def seed(apps, schema_editor):
    PaperInstrument = apps.get_model("paper", "PaperInstrument")
    for fields in INSTRUMENTS:
        PaperInstrument.objects.get_or_create(symbol=fields["symbol"], defaults=fields)


def unseed(apps, schema_editor):
    PaperInstrument = apps.get_model("paper", "PaperInstrument")
    PaperInstrument.objects.filter(symbol__in=[fields["symbol"] for fields in INSTRUMENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("paper", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
