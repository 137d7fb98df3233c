from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from tradedesk import roles

# Not a desk role: a user who only follows (or is followed), and sees only the copy-trading pages.
FOLLOWER = "follower"


class Command(BaseCommand):
    help = (
        "Create (or update) a desk user with a role: viewer, trader or admin; or --role follower for a "
        "follow-only user (copy trading only: no desk role, so no desk signals, orders or schema)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=[*roles.ALL_ROLES, FOLLOWER], default=roles.VIEWER)
        parser.add_argument("--password", help="Password; without it the user cannot log in to pages.")

    def handle(self, *args, username: str, role: str, password: str | None, **options) -> None:
        user, created = get_user_model().objects.get_or_create(username=username)
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        # Admins manage the desk in Django admin, so they are staff and superusers there.
        user.is_staff = user.is_superuser = role == roles.ADMIN
        user.save()
        if role == FOLLOWER:
            user.groups.clear()
            self.stdout.write(f"{'Created' if created else 'Updated'} {username}, follow-only (no desk role).")
            return
        group = Group.objects.filter(name=role).first()
        if group is None:
            raise CommandError("role groups are missing: run `manage.py migrate` first")
        user.groups.set([group])
        self.stdout.write(f"{'Created' if created else 'Updated'} {username} with role {role}.")
