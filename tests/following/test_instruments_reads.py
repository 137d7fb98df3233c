"""The venue's lot sizes (instruments) are read once per venue however many threads miss them."""

import threading
import time

import pytest

from following import venue as follow_venue

pytestmark = pytest.mark.django_db


class CountedVenue:
    """A venue whose instruments read takes a while, counted."""

    def __init__(self, delay: float = 0.2, hang: threading.Event | None = None) -> None:
        self.calls, self.delay, self.hang = 0, delay, hang
        self.lock = threading.Lock()

    def instruments(self) -> dict:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first and self.hang is not None:
            self.hang.wait(5)
        time.sleep(self.delay)
        return {}


def _read_at_once(account, threads: int) -> list:
    found, start = [], threading.Barrier(threads)

    def read() -> None:
        start.wait()
        found.append(follow_venue.instruments_for(account))

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    return found


def test_threads_missing_the_lot_sizes_at_once_read_the_venue_once(monkeypatch, follower_account):
    """A fresh worker's sixteen threads all missed the cache at once: twelve reads of the
    venue's instruments in one bench round (on Binance, exchangeInfo weighs 20 each)."""
    venue = CountedVenue()
    monkeypatch.setattr(follow_venue, "connector_for", lambda account: venue)
    monkeypatch.setattr(follow_venue, "get_connector", lambda kind, config: venue)
    assert len(_read_at_once(follower_account, 8)) == 8
    assert venue.calls == 1


def test_a_read_that_hangs_holds_the_others_no_longer_than_the_wait(monkeypatch, follower_account):
    hang = threading.Event()
    venue = CountedVenue(delay=0.0, hang=hang)
    monkeypatch.setattr(follow_venue, "connector_for", lambda account: venue)
    monkeypatch.setattr(follow_venue, "get_connector", lambda kind, config: venue)
    monkeypatch.setattr(follow_venue, "_INSTRUMENTS_WAIT", 0.3)
    first = threading.Thread(target=follow_venue.instruments_for, args=(follower_account,))
    first.start()
    try:
        while venue.calls == 0:
            time.sleep(0.01)
        started = time.monotonic()
        follow_venue.instruments_for(follower_account)  # waits for the first read, then reads itself
        waited = time.monotonic() - started
    finally:
        hang.set()
        first.join(5)
    assert venue.calls == 2
    assert 0.25 <= waited < 2
