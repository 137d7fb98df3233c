from django.core.management.base import BaseCommand

from following.sync import follow_sync_cycle


class Command(BaseCommand):
    help = "Run one follower sync cycle now (beat runs them every FOLLOW_SYNC_EVERY seconds)."

    def handle(self, *args, **options) -> None:
        run = follow_sync_cycle()
        self.stdout.write(
            f"{run.outcome}: {run.followers_synced} checked, {run.followers_skipped} unchanged, "
            f"{run.orders_placed} orders, {run.below_min} below the minimum, {run.errors} errors"
        )
