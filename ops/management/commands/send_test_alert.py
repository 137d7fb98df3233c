"""Send one message through every ALERT_URLS destination, to check they work."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops import alerts


class Command(BaseCommand):
    help = "Send a test alert to every ALERT_URLS destination (not deduplicated)."

    def handle(self, *args, **options) -> None:
        if not settings.ALERT_URLS:
            raise CommandError("ALERT_URLS is empty: set it (comma-separated apprise URLs) and try again")
        sent = alerts._notify(
            event="test",
            key="test",
            title="Test alert",
            body=f"A test alert from the {settings.DESK_ENV} desk: if you read this, alerts reach you.",
        )
        if not sent:
            raise CommandError("the alert could not be delivered to every destination; see the log lines above")
        self.stdout.write(f"test alert sent to {len(settings.ALERT_URLS)} destination(s)")
