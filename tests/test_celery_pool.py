"""Celery's Django fixup and the connection pool: a prefork worker's pool outlives its tasks."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.conf import settings as django_settings

from tradedesk import celery as celery_app
from tradedesk.celery import app


class Connection:
    alias = "default"

    def __init__(self) -> None:
        self.closed = self.pools_closed = 0

    def close(self) -> None:
        self.closed += 1

    def close_pool(self) -> None:
        self.pools_closed += 1


def _reuse_max(tmp_path, **env) -> str:
    """CELERY_DB_REUSE_MAX as the worker's Celery app reads it, in a fresh process."""
    code = "from tradedesk.celery import app; print(app.conf.get('CELERY_DB_REUSE_MAX'))"
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DB_POOL", "CELERY_DB_REUSE_MAX")}
    base.update(DJANGO_SETTINGS_MODULE="tradedesk.settings", VAR_DIR=str(tmp_path), SECRET_KEY="k" * 50, DEBUG="true")
    found = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env={**base, **env}, cwd=django_settings.BASE_DIR, capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def test_with_the_pool_on_a_worker_reuses_it_for_many_tasks(tmp_path):
    postgres = "postgres://desk@127.0.0.1:5432/desk"  # read only, never connected to here
    assert _reuse_max(tmp_path, DATABASE_URL=postgres) == "1000"
    assert _reuse_max(tmp_path, DATABASE_URL=postgres, CELERY_DB_REUSE_MAX="50") == "50"
    # No pool: Celery's own default, each task's connection closed after it.
    assert _reuse_max(tmp_path, DATABASE_URL=postgres, DB_POOL="false") == "None"
    assert _reuse_max(tmp_path) == "None"  # the embedded desk (SQLite)


@pytest.mark.parametrize(("reuse_max", "pools_closed"), [(None, 200), (1000, 0)])
def test_celerys_fixup_closes_a_prefork_workers_pool_per_task_unless_told_to_reuse_it(
    monkeypatch, settings, reuse_max, pools_closed
):
    """Closed before and after every task, each copy-sync batch opened its 16 threads'
    PostgreSQL connections anew (83 sessions in a 1,000-follower bench round, bench/README)."""
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "OPTIONS": {"pool": {"max_size": 10}}}}
    fixup = DjangoWorkerFixup(app)
    fixup.db_reuse_max = reuse_max  # what it read from app.conf (the test above: 1000 with the pool)
    fixup.worker = SimpleNamespace(pool_cls="celery.concurrency.prefork:TaskPool")
    connection = Connection()
    monkeypatch.setattr(fixup._db.connections, "all", lambda initialized_only=False: [connection])
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    for _ in range(100):
        fixup.on_task_prerun(sender=task)
        fixup.on_task_postrun(sender=task)
    assert connection.pools_closed == pools_closed


class PooledConnection(Connection):
    in_atomic_block = False

    def __init__(self, broken: bool) -> None:
        super().__init__()
        self.settings_dict = {"OPTIONS": {"pool": {"max_size": 10}}}
        self.connection, self.errors_occurred, self.broken = object(), broken, broken
        self.returned = 0

    def is_usable(self) -> bool:
        return not self.broken

    def close_if_unusable_or_obsolete(self) -> None:
        self.returned += 1  # CONN_MAX_AGE 0: back to the pool, as after a web request


@pytest.mark.parametrize("broken", [False, True])
def test_after_a_task_its_connection_goes_back_to_the_pool_and_a_broken_one_closes_the_pool(monkeypatch, broken):
    """With the pool kept across tasks, a PostgreSQL outage left a worker's idle pooled
    connections broken: its tasks kept failing after the database returned (the readiness test)."""
    connection = PooledConnection(broken)
    monkeypatch.setattr(celery_app.connections, "all", lambda initialized_only=False: [connection])
    celery_app._database_after_task(sender=None)
    assert (connection.pools_closed, connection.returned) == ((1, 0) if broken else (0, 1))


@pytest.mark.django_db
def test_a_task_run_in_the_callers_transaction_leaves_its_connection_open():
    """`apply()` runs the task here, inside the caller's transaction: closing the connection
    after it ended that transaction ("Cannot operate on a closed database")."""
    from django.contrib.auth.models import User
    from django.db import connection

    from ops.tasks import heartbeat

    User.objects.create(username="before-the-task")
    heartbeat.apply()
    assert connection.in_atomic_block and not connection.needs_rollback
    assert User.objects.filter(username="before-the-task").exists()
