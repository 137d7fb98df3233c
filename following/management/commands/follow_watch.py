import asyncio
import signal

from django.core.management.base import BaseCommand

from following.watch import forget, watch


class Command(BaseCommand):
    help = (
        "Watch the masters whose venue pushes their trades (Binance's User Data Stream) and queue "
        "their followers' sync the moment they trade; runs until SIGTERM or Ctrl-C. Beat's poll "
        "goes on for every master either way."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--forget",
            action="store_true",
            help="clear the mark of a watcher that was killed and will not run again (its readiness "
            "check then says 'not running' instead of failing), and exit",
        )

    def handle(self, *args, **options) -> None:
        if options["forget"]:
            forget()
            self.stdout.write("follow watch: the last watcher's mark is cleared")
            return
        asyncio.run(self._run())

    async def _run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.stdout.write("follow watch: started")
        await watch(stop)
        self.stdout.write("follow watch: stopped")
