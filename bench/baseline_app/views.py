import json
from decimal import Decimal

from django.http import HttpRequest, JsonResponse

from bench.baseline_app.models import Intake


def intake(request: HttpRequest) -> JsonResponse:
    """Parse the same JSON body the desk gets, INSERT one row, answer 201 like the desk does."""
    if request.method != "POST":
        return JsonResponse({"detail": "POST a JSON body"}, status=405)
    data = json.loads(request.body)
    row = Intake.objects.create(symbol=data["symbol"], qty=Decimal(data["suggest_qty"]))
    return JsonResponse({"id": row.pk, "symbol": row.symbol}, status=201)
