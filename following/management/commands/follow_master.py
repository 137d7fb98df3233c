from django.core.management.base import BaseCommand, CommandError

from executor.models import ExchangeAccount
from following import services
from tradedesk.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Open (or close) an exchange account for following, on behalf of its owner."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["open", "close"])
        parser.add_argument("account", help="Exchange account id, or its label.")

    def handle(self, *args, action: str, account: str, **options) -> None:
        found = ExchangeAccount.objects.filter(pk=int(account)) if account.isdigit() else None
        found = found if found is not None and found.exists() else ExchangeAccount.objects.filter(label=account)
        if found.count() != 1:
            raise CommandError(f"no single exchange account with id or label {account!r}")
        credential = found.get()
        try:
            if action == "open":
                services.master_account_open(user=credential.owner, credential_id=credential.pk)
            else:
                services.master_account_close(user=credential.owner, credential_id=credential.pk)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        state = "open" if action == "open" else "closed"
        self.stdout.write(f"Exchange account {credential.pk} ({credential.label}) is {state} for following.")
