"""One Redis connection pool per process for the cache, shared by every thread.

Django builds a cache backend per thread (`caches` is thread-local), and each builds its own
connection pool: a thread that lives for one task (the follower sync's threads, one per
follower group, started by every sync task) opened a new connection to Redis for its first
follower's lock, on the copy's critical path, and left it behind when it ended. redis-py's pool
is thread-safe and starts afresh in a forked child (a Celery prefork worker), so one per URL and
options is all a process needs.
"""

import threading

from redis import ConnectionPool


class SharedConnectionPool(ConnectionPool):
    _shared: dict[tuple, ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options) -> ConnectionPool:
        key = (url, tuple(sorted((name, repr(value)) for name, value in options.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **options)
            return pool
