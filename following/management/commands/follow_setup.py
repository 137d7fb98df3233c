from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from following import selectors, services
from tradedesk.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create or change a user's follow settings (the master account must be open for following)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--master-account", type=int, required=True, help="Master's exchange account id.")
        parser.add_argument("--account", type=int, required=True, help="The follower's own exchange account id.")
        parser.add_argument("--ratio", required=True, help="follow_ratio, e.g. 0.1")
        parser.add_argument("--inactive", action="store_true", help="Save with following off.")

    def handle(self, *args, username: str, master_account: int, account: int, ratio: str, inactive: bool, **opts):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}; create one with create_desk_user")
        try:
            follow_ratio = Decimal(ratio)
        except InvalidOperation:
            raise CommandError(f"--ratio {ratio!r} is not a number") from None
        values = {
            "master_credential_id": master_account,
            "follower_credential_id": account,
            "follow_ratio": follow_ratio,
            "is_active": not inactive,
        }
        try:
            if selectors.follow_settings_get(user=user) is None:
                row = services.follow_settings_create(user=user, **values)
            else:
                row = services.follow_settings_update(user=user, **values)
        except ApplicationError as exc:
            raise CommandError(exc.as_dict()["message"]) from None
        self.stdout.write(f"{row} (active: {row.is_active})")
