from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tradedesk.services import user_deactivate


class Command(BaseCommand):
    help = "Deactivate a desk user: no login, no session, and every bearer token revoked."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        revoked = user_deactivate(user=user)
        self.stdout.write(f"{username} deactivated; {revoked} bearer token(s) revoked.")
