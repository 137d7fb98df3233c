import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from rest_framework_api_key.models import APIKey

DEMO_USER = "admin"
DEMO_KEY_NAME = "demo-strategy"


class Command(BaseCommand):
    help = (
        "Create the demo admin login and a demo strategy API key once, and print both. "
        "They are kept in VAR_DIR/demo-credentials.txt (mode 0600, outside git) for the next run."
    )

    def handle(self, *args, **options) -> None:
        path = settings.VAR_DIR / "demo-credentials.txt"
        saved = _read(path)
        users = get_user_model().objects
        if saved and users.filter(username=DEMO_USER).exists() and _key_ok(saved.get("api_key", "")):
            self._print(saved)
            return
        password = secrets.token_urlsafe(12)
        call_command("create_desk_user", DEMO_USER, role="admin", password=password, stdout=open(os.devnull, "w"))
        APIKey.objects.filter(name=DEMO_KEY_NAME).update(revoked=True)
        _, key = APIKey.objects.create_key(name=DEMO_KEY_NAME)
        creds = {"username": DEMO_USER, "password": password, "api_key": key}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{name}={value}\n" for name, value in creds.items())
        self._print(creds)

    def _print(self, creds: dict[str, str]) -> None:
        self.stdout.write(
            "\n  Demo admin login:    {username} / {password}\n"
            "  Demo strategy key:   {api_key}\n"
            "  (kept in var/demo-credentials.txt; delete it to make new ones)\n".format(**creds)
        )


def _read(path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.strip().split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _key_ok(key: str) -> bool:
    return APIKey.objects.is_valid(key) if key else False
