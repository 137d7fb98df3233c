import os
import secrets
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from executor.models import ExchangeAccount
from executor.paper.errors import PaperInvalid
from executor.paper.services.accounts import paper_account_create, paper_binance_key_create
from executor.services import exchange_account_save
from following import services


class Command(BaseCommand):
    help = (
        "Give a desk user a paper exchange account for copy trading: the paper account (with starting "
        "balances) and the desk's API exchange account for it. --open opens it for following (a master)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="The desk user (create_desk_user) who owns the account.")
        parser.add_argument("--label", help="The exchange account's label; default USERNAME-paper.")
        parser.add_argument("--balance", action="append", default=[], help="ASSET=AMOUNT, repeatable.")
        parser.add_argument("--base-url", default="", help="The paper exchange; default PAPER_BASE_URL.")
        parser.add_argument("--open", action="store_true", help="Open it for following (the user is a master).")
        parser.add_argument(
            "--connector",
            choices=["api", "ccxt"],
            default="api",
            help="api: the paper exchange's JSON API; ccxt: ccxt's binance class against the paper "
            "exchange's Binance Spot dialect (a Binance-style key and secret are made and printed once).",
        )

    def handle(self, *args, username: str, label: str | None, balance: list[str], base_url: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}; create one with create_desk_user")
        label = label or f"{username}-paper"
        if ExchangeAccount.objects.filter(owner=user, label=label).exists():
            raise CommandError(f"{username} already has an exchange account labelled {label!r}")
        balances = {}
        for item in balance:
            asset, _, amount = item.partition("=")
            try:
                balances[asset.strip().upper()] = Decimal(amount)
            except InvalidOperation:
                raise CommandError(f"--balance {item!r}: need ASSET=AMOUNT") from None
        password = secrets.token_urlsafe(12)
        try:
            paper, key = paper_account_create(username=label, password=password, balances=balances)
        except PaperInvalid as exc:
            raise CommandError(exc.as_dict()["message"]) from None
        if options["connector"] == "ccxt":
            _, binance_key, binance_secret = paper_binance_key_create(account=paper, name=f"{label} (ccxt)")
            account = ExchangeAccount(
                owner=user,
                label=label,
                venue="paper",
                connector="ccxt",
                exchange_id="binance",
                # Empty: PAPER_BASE_URL/binance, where the desk runs.
                base_url=f"{base_url.rstrip('/')}/binance" if base_url else "",
            )
            exchange_account_save(account=account, secrets={"api_key": binance_key, "api_secret": binance_secret})
        else:
            account = ExchangeAccount(owner=user, label=label, venue="paper", connector="api", base_url=base_url)
            exchange_account_save(account=account, secrets={"api_key": key})
        if options["open"]:
            services.master_account_open(user=user, credential_id=account.pk)
        self.stdout.write(f"Exchange account {account.pk} ({label}) for {username}"
                          f"{', open for following' if options['open'] else ''}.")  # fmt: skip
        login_url = _login_url(base_url)
        self.stdout.write(f"Paper login at {login_url}: {label} / {password}, TOTP secret {paper.totp_secret}")
        # Shown once, like paper_create_account: the owner trades at the venue with it (POST /paper/api/orders).
        self.stdout.write(f"Paper API key (X-PAPER-KEY): {key}")
        if options["connector"] == "ccxt":
            self.stdout.write(f"Binance-style API key (/paper/binance/api/v3, X-MBX-APIKEY): {binance_key}")
            self.stdout.write(f"Binance-style secret key: {binance_secret}")


def _login_url(base_url: str) -> str:
    """Where the owner logs in to the paper exchange. Without --base-url or PAPER_BASE_URL the
    exchange is the one the desk serves, on whatever port the desk runs (rundesk --port, make web):
    this command cannot know it, so it names the path rather than guess the settings' default."""
    where = base_url or os.environ.get("PAPER_BASE_URL", "")
    if where:
        return f"{where.rstrip('/')}/login"
    return "/paper/login on the desk (its own address and port)"
