"""Create a paper exchange account: prints its TOTP secret and API key, which are shown only once."""

from decimal import Decimal, InvalidOperation

import pyotp
from django.core.management.base import BaseCommand, CommandError

from executor.paper import services
from executor.paper.errors import PaperInvalid


def parse_balance(text: str) -> tuple[str, Decimal]:
    asset, _, amount = text.partition("=")
    try:
        return asset.strip().upper(), Decimal(amount.strip())
    except InvalidOperation:
        raise CommandError(f"--balance {text}: use ASSET=AMOUNT, e.g. USDT=100000") from None


class Command(BaseCommand):
    help = "Create a paper exchange account with starting balances; prints its TOTP secret and API key once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--balance",
            action="append",
            default=[],
            metavar="ASSET=AMOUNT",
            help="A starting balance; repeat for several, e.g. --balance USDT=100000 --balance BTC=1.",
        )

    def handle(self, *args, username: str, password: str, balance: list[str], **options) -> None:
        balances = dict(parse_balance(item) for item in balance)
        try:
            account, api_key = services.paper_account_create(username=username, password=password, balances=balances)
        except PaperInvalid as exc:
            raise CommandError(exc.as_dict()["message"]) from None
        uri = pyotp.TOTP(account.totp_secret).provisioning_uri(name=username, issuer_name="Paper Exchange")
        self.stdout.write(f"Paper account {username} created.")
        self.stdout.write("Store these now; they are not shown again:")
        self.stdout.write(f"TOTP secret: {account.totp_secret}")
        self.stdout.write(f"TOTP URI:    {uri}")
        self.stdout.write(f"API key:     {api_key}")
