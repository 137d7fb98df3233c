"""Inject a fault into a paper account, or switch it off with --off."""

from django.core.management.base import BaseCommand, CommandError

from executor.paper import services
from executor.paper.errors import PaperInvalid
from executor.paper.models import FaultKind, PaperAccount


class Command(BaseCommand):
    help = (
        "Switch a fault on for a paper account: slow (--value ms), session_expired, captcha, "
        "reject (--value CODE[:reason]), layout_changed, lost_reply (--value seconds). --off ends it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("kind", choices=FaultKind.values)
        parser.add_argument("--value", default="", help="slow: ms; lost_reply: seconds; reject: CODE[:reason].")
        parser.add_argument("--once", action="store_true", help="Turn off after firing once.")
        parser.add_argument("--off", action="store_true", help="Switch the fault off.")

    def handle(self, *args, username: str, kind: str, value: str, once: bool, off: bool, **options) -> None:
        account = PaperAccount.objects.filter(username=username).first()
        if account is None:
            raise CommandError(f"no paper account {username}")
        if off:
            cleared = services.paper_fault_clear(account=account, kind=kind)
            self.stdout.write(f"{kind} {'off' if cleared else 'was already off'} for {username}.")
            return
        try:
            fault = services.paper_fault_set(account=account, kind=kind, value=value, once=once)
        except PaperInvalid as exc:
            raise CommandError(exc.as_dict()["message"]) from None
        detail = f" value={fault.value}" if fault.value else ""
        self.stdout.write(f"{kind} on for {username}{detail}{' (once)' if once else ''}.")
