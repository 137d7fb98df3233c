from django.core.management.base import BaseCommand
from rest_framework_api_key.models import APIKey


class Command(BaseCommand):
    help = "Create a strategy API key (sent as X-API-KEY). The key is printed once; only its hash is stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="A name for the key, e.g. the strategy it belongs to.")

    def handle(self, *args, name: str, **options) -> None:
        _, key = APIKey.objects.create_key(name=name[:50])
        self.stderr.write(f"API key '{name}' created. Store it now: it is not shown again.")
        self.stdout.write(key)
