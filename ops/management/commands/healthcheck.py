"""Exit 0 when healthy, 1 when not: for container health checks and cron.

    manage.py healthcheck                  every readiness check (as /readyz)
    manage.py healthcheck worker beat      only those checks
    manage.py healthcheck --alert          also send alerts for failures (and resolve recoveries)

The worker and beat containers use it on their own heartbeat; run it with --alert from cron (or a
systemd timer) to be told when the worker or beat itself is silent, which the watchdog task
cannot report since it runs on them.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from ops import alerts, health


class Command(BaseCommand):
    help = "Run the readiness checks; exit 1 when one fails."

    def add_arguments(self, parser) -> None:
        parser.add_argument("checks", nargs="*", help=f"Checks to run (default all): {', '.join(health.CHECKS)}")
        parser.add_argument("--alert", action="store_true", help="Send alerts for failures, resolve recoveries.")

    def handle(self, *args, checks: list[str], alert: bool, **options) -> None:
        unknown = set(checks) - set(health.CHECKS)
        if unknown:
            raise CommandError(f"unknown check(s): {', '.join(sorted(unknown))}; known: {', '.join(health.CHECKS)}")
        report = health.readiness(only=checks or None)
        if alert:
            alerts.alert_readiness(checks=report["checks"])
        self.stdout.write(json.dumps(report, indent=2))
        if not report["ok"]:
            raise SystemExit(1)
