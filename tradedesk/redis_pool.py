"""One Redis connection pool per process for the cache, shared by every thread.

Django builds a cache backend per thread (`caches` is thread-local), and each builds its own
connection pool: a thread that lives for one task (the follower sync's threads, one per
follower group, started by every sync task) opened a new connection to Redis for its first
follower's lock, on the copy's critical path, and left it behind when it ended. redis-py's pool
is thread-safe and starts afresh in a forked child (a Celery prefork worker), so one per URL and
options is all a process needs. The cache backend (RedisCache below) also keeps its
`redis.Redis` object instead of building one per call.
"""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
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


class _ReusingClient(RedisCacheClient):
    """Django's client builds a `redis.Redis` object for every cache call (3 % of the follower
    sync's Python in a py-spy profile); a Redis object is thread-safe and holds nothing but its
    pool, so one per pool is kept."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with its Redis objects kept (_ReusingClient)."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
