"""The embedded desk's broker: Kombu's in-memory transport, woken when a message arrives.

Kombu's memory transport polls: an empty queue sleeps `polling_interval` before it looks again,
so a task queued by a request waited half that interval on average for the worker (25 ms at the
50 ms the desk used, bench/README.md "Order placement"), and an idle desk woke 20 times a second.
Here a consumer with nothing to take waits on a condition that every put (and every ack, reject
or prefetch change, which can make a held-back message takeable) notifies: a task is picked up
as soon as it is queued, and an idle desk sleeps. `polling_interval` stays as the longest wait
between two looks, a safety net for a change that notifies nothing.

Production (REDIS_URL set) uses the Redis transport; this module is only the embedded default's.
"""

from __future__ import annotations

import threading
from queue import Empty
from time import monotonic

from kombu.transport import memory


class _Arrivals:
    """A counter of changes and a condition to wait for the next one (no lost wake-ups: a
    waiter compares against the count it read before it last looked at the queues)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def notify(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._count != seen, timeout)


arrivals = _Arrivals()


class Channel(memory.Channel):
    def _put(self, queue, message, **kwargs) -> None:
        super()._put(queue, message, **kwargs)
        arrivals.notify()

    def _put_fanout(self, exchange, message, routing_key=None, **kwargs) -> None:
        super()._put_fanout(exchange, message, routing_key, **kwargs)
        arrivals.notify()

    # A message held back by the prefetch limit becomes takeable when one is acked or rejected.
    def basic_ack(self, delivery_tag, multiple=False) -> None:
        super().basic_ack(delivery_tag, multiple)
        arrivals.notify()

    def basic_reject(self, delivery_tag, requeue=False) -> None:
        super().basic_reject(delivery_tag, requeue)
        arrivals.notify()

    def basic_qos(self, prefetch_size=0, prefetch_count=0, apply_global=False) -> None:
        super().basic_qos(prefetch_size, prefetch_count, apply_global)
        arrivals.notify()


class Transport(memory.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout=None) -> None:
        started = monotonic()
        while True:
            seen = arrivals.count  # read before looking: a put after this wakes the wait below
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            wait = self.polling_interval or 1.0
            if timeout is not None:
                left = timeout - (monotonic() - started)
                if left <= 0:
                    raise TimeoutError()  # socket.timeout, what the synloop catches
                wait = min(wait, left)
            arrivals.wait(seen, wait)
