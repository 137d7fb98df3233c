"""A worker is ready to copy before the first trade: it imports its API clients before it forks,
and each worker process reads its followed masters as it starts (executor/warmup.py,
following/warmup.py). The first copy after a worker start had waited up to a second for ccxt's
import and the master's connector."""

import os
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from django.conf import settings

from executor.connectors import ccxt_pool
from executor.models import ExchangeAccount
from executor.paper.services import paper_binance_key_create
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from following import services, warmup


def test_a_worker_imports_its_api_clients_and_each_process_reads_its_masters(tmp_path):
    """In a fresh process, as a worker starts: the apps' receivers, not this test's imports."""
    code = (
        "import sys, threading, django; django.setup(); before = 'ccxt' in sys.modules\n"
        "from celery.signals import worker_init, worker_process_init\n"
        "worker_init.send(sender=None)\n"
        "warm, ran = sys.modules.get('following.warmup'), threading.Event()\n"
        "if warm is not None: warm.masters_warm = ran.set\n"
        "worker_process_init.send(sender=None)\n"
        "print(before, 'ccxt' in sys.modules, ran.wait(10))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="tradedesk.settings", VAR_DIR=str(tmp_path), SECRET_KEY="k" * 50, DEBUG="true")
    found = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    # Before the worker starts, nothing imported ccxt; after worker_init, it is; the read ran.
    assert found.stdout.split() == ["False", "True", "True"]


def _ccxt_account(owner, name: str, base_url: str, **fields) -> ExchangeAccount:
    paper, _ = paper_account_create(username=name, password="paper-password-1", balances={"USDT": Decimal("100000")})
    _, key, secret = paper_binance_key_create(account=paper)
    account = ExchangeAccount(
        owner=owner, label=name, venue="paper", connector="ccxt", exchange_id="binance", base_url=base_url, **fields
    )
    return exchange_account_save(account=account, secrets={"api_key": key, "api_secret": secret})


def _in_a_thread(work):
    # As in a worker: masters_warm runs in its own thread and closes that thread's connection.
    found = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join(60)
    return found[0]


def _pooled_with_markets() -> set[str]:
    return {entry.exchange.apiKey for entry in ccxt_pool._pool.values() if entry.markets_loaded_at}


@pytest.mark.django_db(transaction=True)
def test_the_followed_masters_are_read_and_their_connectors_built(live_server, paper_instruments, master, follower):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    ccxt_pool.pool_clear()
    base_url = f"{live_server.url}/paper/binance"
    followed = _ccxt_account(master, "followed-master", base_url)
    resting = _ccxt_account(master, "master-no-followers", base_url)
    own = _ccxt_account(follower, "follower-own", base_url)
    services.master_account_open(user=master, credential_id=followed.pk)
    services.master_account_open(user=master, credential_id=resting.pk)
    services.follow_settings_create(
        user=follower, master_credential_id=followed.pk, follower_credential_id=own.pk, follow_ratio=Decimal("0.1")
    )

    try:
        assert _in_a_thread(warmup.masters_warm) == 1
        assert _pooled_with_markets() == {followed.config().secrets["api_key"]}
    finally:
        ccxt_pool.pool_clear()


@pytest.mark.django_db(transaction=True)
def test_a_master_that_cannot_be_read_is_left_to_the_first_sync(master, follower, caplog):
    unreachable = _ccxt_account(master, "unreachable-master", "http://127.0.0.1:9/paper/binance")
    own = _ccxt_account(follower, "follower-own-2", "http://127.0.0.1:9/paper/binance")
    services.master_account_open(user=master, credential_id=unreachable.pk)
    services.follow_settings_create(
        user=follower, master_credential_id=unreachable.pk, follower_credential_id=own.pk, follow_ratio=Decimal("0.1")
    )

    try:
        assert _in_a_thread(warmup.masters_warm) == 0
    finally:
        ccxt_pool.pool_clear()
    assert f"master account {unreachable.pk}: not read at worker start" in caplog.text
