"""Make a Binance-style API key and secret for a paper account; prints both once, like Binance."""

from django.core.management.base import BaseCommand, CommandError

from executor.paper import services
from executor.paper.models import PaperAccount


class Command(BaseCommand):
    help = "Make an API key + secret for the paper exchange's Binance Spot API (/paper/binance/api/v3/...)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label for the key.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        account = PaperAccount.objects.filter(username=username).first()
        if account is None:
            raise CommandError(f"no paper account {username}")
        _, api_key, secret = services.paper_binance_key_create(account=account, name=name)
        self.stdout.write(f"Binance API key for {username}. Store the secret now; it is not shown again:")
        self.stdout.write(f"API key:    {api_key}")
        self.stdout.write(f"Secret key: {secret}")
