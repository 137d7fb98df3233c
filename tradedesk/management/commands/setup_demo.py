import os
import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from rest_framework_api_key.models import APIKey

from executor.models import ExchangeAccount
from executor.paper.models import PaperAccount
from executor.paper.services.accounts import paper_account_create, paper_binance_key_create
from executor.services import exchange_account_save

DEMO_USER = "admin"
DEMO_KEY_NAME = "demo-strategy"
PAPER_USER = "demo-desk"
PAPER_BALANCES = {"USDT": Decimal("1000000"), "BTC": Decimal("10"), "ETH": Decimal("100")}


class Command(BaseCommand):
    help = (
        "Set up the demo desk once and print its logins: the admin login, a strategy API key, and a "
        "paper exchange account that desk orders go to through the browser executor. Kept in "
        "VAR_DIR/demo-credentials.txt (mode 0600, outside git) for the next run. Rerunning changes "
        "nothing and prints them again; --reset makes new ones (and revokes the old strategy key)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Make a new admin password, strategy key (the old one is revoked) and paper account.",
        )

    def handle(self, *args, reset: bool = False, **options) -> None:
        path = settings.VAR_DIR / "demo-credentials.txt"
        saved = _read(path)
        if not reset and saved and self._still_valid(saved):
            self._print(saved)
            return
        if not reset and self._demo_exists():
            # The key and passwords are stored hashed: without the file they cannot be shown again,
            # and making new ones here would revoke the key a running strategy is using.
            self.stderr.write(
                f"The demo desk is already set up (admin login {DEMO_USER!r}), but {path} is missing or "
                "out of date, so its credentials cannot be shown: they are stored hashed. Nothing was "
                "changed. To make new ones (this revokes the current demo strategy key): make demo-reset "
                "(manage.py setup_demo --reset)."
            )
            return
        creds = {"username": DEMO_USER, "password": secrets.token_urlsafe(12)}
        call_command(
            "create_desk_user", DEMO_USER, role="admin", password=creds["password"], stdout=open(os.devnull, "w")
        )
        APIKey.objects.filter(name=DEMO_KEY_NAME).update(revoked=True)
        _, creds["api_key"] = APIKey.objects.create_key(name=DEMO_KEY_NAME)
        creds.update(self._paper_accounts())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{name}={value}\n" for name, value in creds.items())
        self._print(creds)

    def _demo_exists(self) -> bool:
        return (
            get_user_model().objects.filter(username=DEMO_USER).exists()
            or APIKey.objects.filter(name=DEMO_KEY_NAME, revoked=False).exists()
            or PaperAccount.objects.filter(username=PAPER_USER).exists()
        )

    def _still_valid(self, saved: dict[str, str]) -> bool:
        return (
            get_user_model().objects.filter(username=DEMO_USER).exists()
            and bool(saved.get("api_key"))
            and APIKey.objects.is_valid(saved["api_key"])
            and PaperAccount.objects.filter(username=saved.get("paper_username", "")).exists()
        )

    def _paper_accounts(self) -> dict[str, str]:
        """A paper account, and the desk's two ways into it: the browser (desk default) and the API."""
        # Earlier demo accounts may hold orders: they stay (nothing stored is lost), new ones are made.
        suffix = "" if not PaperAccount.objects.filter(username=PAPER_USER).exists() else f"-{secrets.token_hex(2)}"
        username, password = PAPER_USER + suffix, secrets.token_urlsafe(12)
        paper, api_key = paper_account_create(username=username, password=password, balances=PAPER_BALANCES)
        owner = get_user_model().objects.get(username=DEMO_USER)
        ExchangeAccount.objects.filter(is_desk_default=True).update(is_desk_default=False)
        web = {"web_username": username, "web_password": password, "totp_secret": paper.totp_secret}
        exchange_account_save(
            account=ExchangeAccount(
                owner=owner,
                label=f"paper{suffix} (browser)",
                venue="paper",
                connector="browser",
                is_desk_default=True,
                is_desk_account=True,
            ),
            secrets=web,
        )
        exchange_account_save(
            account=ExchangeAccount(
                owner=owner, label=f"paper{suffix} (api)", venue="paper", connector="api", is_desk_account=True
            ),
            secrets={"api_key": api_key},
        )
        # The same paper account as a real exchange: ccxt's binance class against the paper
        # exchange's Binance Spot dialect (no base URL: PAPER_BASE_URL/binance, wherever it runs).
        _, binance_key, binance_secret = paper_binance_key_create(account=paper, name="demo desk (ccxt)")
        exchange_account_save(
            account=ExchangeAccount(
                owner=owner,
                label=f"paper{suffix} (binance-api)",
                venue="paper",
                connector="ccxt",
                exchange_id="binance",
                is_desk_account=True,
            ),
            secrets={"api_key": binance_key, "api_secret": binance_secret},
        )
        return {
            "paper_username": username,
            "paper_password": password,
            "paper_totp_secret": paper.totp_secret,
            "binance_api_key": binance_key,
            "binance_api_secret": binance_secret,
        }

    def _print(self, creds: dict[str, str]) -> None:
        self.stdout.write(
            "\n  Demo admin login:    {username} / {password}\n"
            "  Demo strategy key:   {api_key}\n"
            "  Paper exchange:      {paper_username} / {paper_password}, TOTP secret {paper_totp_secret}\n"
            "  (kept in var/demo-credentials.txt; `make demo-reset` makes new ones)\n".format(**creds)
        )


def _read(path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.strip().split("=", 1) for line in path.read_text().splitlines() if "=" in line)
