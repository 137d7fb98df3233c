from django.core.management.base import BaseCommand

from executor.paper.services.accounts import paper_secrets_rotate_key
from executor.services import exchange_accounts_rotate_key


class Command(BaseCommand):
    help = "Re-encrypt all exchange credentials with the first key in CREDENTIALS_KEYS."

    def handle(self, *args, **options) -> None:
        count = exchange_accounts_rotate_key()
        self.stdout.write(f"Re-encrypted the credentials of {count} exchange account(s) with the newest key.")
        paper = paper_secrets_rotate_key()
        self.stdout.write(f"Re-encrypted {paper} paper exchange secret(s) (TOTP seeds, Binance API secrets).")
