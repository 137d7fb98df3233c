"""Fix a symbol's mark price (for tests and demos), or go back to the random walk with --clear."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from executor.paper import services
from executor.paper.errors import PaperInvalid, PaperNotFound


class Command(BaseCommand):
    help = "Fix the paper exchange's mark price of SYMBOL at PRICE, or --clear to follow the random walk."

    def add_arguments(self, parser) -> None:
        parser.add_argument("symbol")
        parser.add_argument("price", nargs="?")
        parser.add_argument("--clear", action="store_true", help="Follow the random walk again.")

    def handle(self, *args, symbol: str, price: str | None, clear: bool, **options) -> None:
        if clear == (price is not None):
            raise CommandError("give either a PRICE or --clear")
        try:
            value = None if clear else Decimal(price)
        except InvalidOperation:
            raise CommandError(f"{price} is not a number") from None
        try:
            instrument = services.paper_price_set(symbol=symbol, price=value)
        except (PaperInvalid, PaperNotFound) as exc:
            raise CommandError(exc.as_dict()["message"]) from None
        state = f"fixed at {value}" if value is not None else "following the random walk"
        self.stdout.write(f"{instrument.symbol} mark {state}.")
