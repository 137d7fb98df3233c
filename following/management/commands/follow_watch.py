import asyncio
import signal

from django.core.management.base import BaseCommand

from following.watch import watch


class Command(BaseCommand):
    help = (
        "Watch the masters whose venue pushes their trades (Binance's User Data Stream) and queue "
        "their followers' sync the moment they trade; runs until SIGTERM or Ctrl-C. Beat's poll "
        "goes on for every master either way."
    )

    def handle(self, *args, **options) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.stdout.write("follow watch: started")
        await watch(stop)
        self.stdout.write("follow watch: stopped")
