"""The cache's Redis connections are the process's, not each thread's (tradedesk/redis_pool.py)."""

import threading
import uuid

import pytest
from django.core.cache import cache, caches

from tradedesk.redis_pool import SharedConnectionPool


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
