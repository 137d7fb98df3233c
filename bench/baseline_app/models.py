from django.db import models


class Intake(models.Model):
    symbol = models.CharField(max_length=32)
    qty = models.DecimalField(max_digits=28, decimal_places=10)
    created_at = models.DateTimeField(auto_now_add=True)
