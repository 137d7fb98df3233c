"""The sync as tasks on two worker processes (PostgreSQL, Redis, the paper exchange, a real beat):
a master with more followers than one task takes is spread over both workers, and every master
change is still one order per follower."""

import subprocess
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from executor.models import ExchangeAccount
from executor.paper.services.accounts import paper_account_create
from executor.services import exchange_account_save
from following import services
from orders.models import Order
from tests.following import test_scenarios_services as scenarios
from tests.following.test_scenarios_services import Venue, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FOLLOWERS = 12


def spawn(args: list[str], log, **env) -> subprocess.Popen:
    import os

    original = dict(os.environ)
    os.environ.update({"FOLLOW_SYNC_BATCH": "2", "FOLLOW_SYNC_THREADS": "2", **env})
    try:
        return scenarios._spawn(args, log)
    finally:
        os.environ.clear()
        os.environ.update(original)


@pytest.fixture
def two_workers(tmp_path):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    (tmp_path / "var").mkdir()
    worker_args = ["worker", "--loglevel", "INFO", "--concurrency", "1", "--queues", "celery"]
    workers = [spawn([*worker_args, "-n", f"w{n}@%h"], tmp_path / f"w{n}.log") for n in (1, 2)]
    beat = spawn(["beat", "--loglevel", "INFO", "-s", str(tmp_path / "beat")], tmp_path / "beat.log")
    yield tmp_path
    for process in [beat, *workers]:
        scenarios._stop(process)


@pytest.fixture
def followers(live_server, paper_instruments, master, follower, django_user_model):
    venue = Venue(f"{live_server.url}/paper", master, follower)
    services.master_account_open(user=master, credential_id=venue.master.pk)
    rows = []
    for n in range(FOLLOWERS):
        user = django_user_model.objects.create_user(f"copier{n}")
        _, key = paper_account_create(
            username=f"copier{n}", password="paper-password-1", balances={"USDT": Decimal("1000000")}
        )
        account = ExchangeAccount(
            owner=user, label=f"copier{n}", venue="paper", connector="api", base_url=venue.base_url
        )
        account = exchange_account_save(account=account, secrets={"api_key": key})
        rows.append(
            services.follow_settings_create(
                user=user,
                master_credential_id=venue.master.pk,
                follower_credential_id=account.pk,
                follow_ratio=Decimal("0.1"),
            )  # fmt: skip
        )
    return venue, rows


def copies(rows) -> list[tuple[int, str, Decimal, str]]:
    found = Order.objects.filter(follow_settings__in=rows).order_by("follow_settings_id", "id")
    return [(o.follow_settings_id, o.side, o.qty.normalize(), o.status) for o in found]


def test_two_workers_share_a_masters_followers_and_each_change_is_one_order_per_follower(two_workers, followers):
    venue, rows = followers
    venue.master_trades("BUY", "1.0")
    wait_for(lambda: sum(status == "SUCCESS" for *_, status in copies(rows)) == FOLLOWERS, 90, "every follower's order")
    venue.master_trades("SELL", "0.5")
    wait_for(lambda: sum(status == "SUCCESS" for *_, status in copies(rows)) == 2 * FOLLOWERS, 90, "the second change")
    # A few more beats: nothing else is ordered.
    scenarios.wait_cycles(4)
    expected = []
    for row in rows:
        expected += [(row.pk, "BUY", Decimal("0.1"), "SUCCESS"), (row.pk, "SELL", Decimal("0.05"), "SUCCESS")]
    assert copies(rows) == sorted(expected)
    # Both worker processes ran batches of followers.
    for n in (1, 2):
        lines = (two_workers / f"w{n}.log").read_text().splitlines()
        batches = [line for line in lines if "task=following.tasks.sync_follower_batch" in line and ": ok, " in line]
        assert batches, f"worker {n} ran no batch of followers"
