"""The cache's Redis connections are the process's, not each thread's (tradedesk/redis_pool.py)."""

import threading
import uuid

import pytest
from django.core.cache import cache, caches

from tradedesk.redis_pool import RedisCache, SharedConnectionPool

SHARED = "tradedesk.redis_pool.SharedConnectionPool"


def _in_fresh_threads(count: int, work) -> list:
    """`work()` in `count` threads started one after another, each living for that call only
    (as the follower sync's threads do), and what each returned."""
    results: list = []
    for _ in range(count):
        thread = threading.Thread(target=lambda: results.append(work()))
        thread.start()
        thread.join()
    return results


def test_the_pool_is_shared_by_url_and_options():
    first = SharedConnectionPool.from_url("redis://127.0.0.1:6379/14", socket_timeout=1)
    assert SharedConnectionPool.from_url("redis://127.0.0.1:6379/14", socket_timeout=1) is first
    assert SharedConnectionPool.from_url("redis://127.0.0.1:6379/13", socket_timeout=1) is not first
    assert SharedConnectionPool.from_url("redis://127.0.0.1:6379/14", socket_timeout=2) is not first


@pytest.mark.services
def test_threads_that_live_for_one_task_reuse_the_processes_connections():
    """Each fresh thread takes a lock in the cache, as a follower sync thread does: with a pool per
    thread, each opened its own connection to Redis."""

    def take_a_lock():
        key = f"test:redis-pool:{uuid.uuid4().hex}"
        assert cache.add(key, 1, timeout=5)
        cache.delete(key)
        return caches["default"]._cache._get_connection_pool(True)

    pool = take_a_lock()  # this process's pool (earlier tests in it may have used it already)
    created = pool._created_connections
    pools = _in_fresh_threads(20, take_a_lock)

    assert {id(found) for found in pools} == {id(pool)}
    assert pool._created_connections - created <= 1


def test_a_cache_builds_one_redis_object_per_pool_not_one_per_call(monkeypatch):
    """Django's client built a redis.Redis for every call (~60 us of CPU each, measured); ours
    keeps one per pool. No server is needed: building the object connects to nothing."""
    import redis

    built = []
    real = redis.Redis.__init__

    def counted(self, *args, **kwargs):
        built.append(kwargs.get("connection_pool"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    backend = RedisCache("redis://127.0.0.1:6379/14", {"OPTIONS": {"pool_class": SHARED}})
    clients = {id(backend._cache.get_client(write=write)) for write in (True, False) * 25}
    assert len(clients) == 1 and len(built) == 1  # one server: the same pool for reads and writes
    two = RedisCache("redis://127.0.0.1:6379/14,redis://127.0.0.1:6379/15", {"OPTIONS": {"pool_class": SHARED}})
    assert two._cache.get_client(write=True) is not two._cache.get_client(write=False)  # primary, replica
    assert two._cache.get_client(write=True) is two._cache.get_client(write=True)
