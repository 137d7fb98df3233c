from django.db import models


class AnchorSignal(models.Model):
    """The desk's signal columns, without its history, idempotency key and decision fields."""

    symbol = models.CharField(max_length=32, db_index=True)
    side = models.CharField(max_length=4, choices=[("BUY", "BUY"), ("SELL", "SELL")])
    suggest_price = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    suggest_qty = models.DecimalField(max_digits=28, decimal_places=10)
    strategy_name = models.CharField(max_length=100, db_index=True)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, default="PENDING")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
