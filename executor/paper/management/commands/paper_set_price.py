"""Fix a symbol's mark price (for tests and demos), or go back to the random walk with --clear;
--liquidity QTY caps what trades at each mark (partial fills), --liquidity none lifts the cap."""

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
        parser.add_argument(
            "--liquidity", help="Most base qty traded at one mark (a walk step or a price set); none = unlimited."
        )

    def handle(self, *args, symbol: str, price: str | None, clear: bool, liquidity: str | None, **options) -> None:
        if liquidity is not None:
            self._liquidity(symbol, liquidity)
            if price is None and not clear:
                return
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

    def _liquidity(self, symbol: str, raw: str) -> None:
        try:
            value = None if raw.lower() == "none" else Decimal(raw)
            services.paper_liquidity_set(symbol=symbol, liquidity=value)
        except InvalidOperation:
            raise CommandError(f"--liquidity {raw} is not a number") from None
        except (PaperInvalid, PaperNotFound) as exc:
            raise CommandError(exc.as_dict()["message"]) from None
        self.stdout.write(f"{symbol} liquidity per mark: {value if value is not None else 'unlimited'}.")
