from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tradedesk.models import UserToken


class Command(BaseCommand):
    help = "Create an API token for a desk user (Authorization: Bearer <token>). Printed once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label for the token.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        _, token = UserToken.objects.create_key(name=name[:50], user=user)
        self.stderr.write(f"Token for {username} created. Store it now: it is not shown again.")
        self.stdout.write(token)
