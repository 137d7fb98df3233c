"""Copy trading at scale: N followers of one master on the paper exchange's API.

    python bench/follower_sync.py [--followers 1000] [--threads 16] [--sync-every 2]

1. Recreates the database `tradedesk_bench_follow` (BENCH_POSTGRES_URL, default
   postgres://postgres@127.0.0.1:5432) and flushes BENCH_REDIS_URL (default db 12); migrates.
2. Serves the desk (and so the paper exchange at /paper/) as `make web` does: uvicorn, 2 workers,
   DEBUG off, PostgreSQL, Redis.
3. Creates a master and N followers (users, paper accounts, API exchange accounts, follow
   settings at ratio 0.1), and one full check of every follower (nothing to order yet).
4. Queries per quiet cycle (nothing changed) with N followers and with 10: reading the settings
   is one query whatever N is.
5. End to end with 1, then 2 Celery worker processes (`make worker`, --concurrency 1 each: the
   sync split into a task per master and batches of FOLLOW_SYNC_BATCH followers) and beat (the
   sync every --sync-every seconds), the first follower's venue hung (the paper's "slow" fault,
   15 s): the master trades 1 BTC; time until the N - 1 other follower orders are SUCCESS.
   With --profile, py-spy samples the workers' CPU in these rounds (bench/results/).
   Then the copy latency with 10 followers and 2 workers: the master's order placed by the desk
   (its accepted result queues the followers' sync, orders' hook) -> each follower order
   acknowledged (completed_at); p50 / p99 over --latency-rounds, and each step's share from the
   rows' own timestamps (venue order and fill, sync run, desk order). Then an external master
   (trading at the venue by itself) found by `manage.py follow_watch` polling it every
   --poll-every seconds (FOLLOW_WATCH_POLL; beat every --sync-every; with --beat-poll, by beat's
   poll every --poll-every seconds instead, no watcher), and the same master as a ccxt account on
   the paper exchange's Binance dialect, whose trades its User Data Stream pushes to the watcher.
6. The same change again, the cycle run in this process: its duration and its queries, split
   into reading settings and the rest.
7. Baseline, same run: N market orders sent straight to the paper API by --threads threads with
   no desk at all (the venue's own cost for the same orders). The same is also measured just
   before each timed round (1 worker, 2 workers, in-process), on N anchor accounts nobody
   follows: this machine's speed moves within a run, so each round's ratio is also given against
   its neighbour ("the venue alone just before").

Prints a table; writes bench/results/follower_sync.json.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
import psycopg
import redis
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
DB_NAME = "tradedesk_bench_follow"


def log(text: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {text}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=16, help="FOLLOW_SYNC_THREADS, and the baseline's threads")
    parser.add_argument("--sync-every", type=float, default=2.0, help="FOLLOW_SYNC_EVERY for the beat run")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the workers' CPU in the end-to-end rounds (bench/results/)"
    )
    parser.add_argument("--latency-rounds", type=int, default=5, help="master changes timed for the copy latency")
    parser.add_argument(
        "--poll-every", type=float, default=0.1,
        help="FOLLOW_WATCH_POLL for the external master (with --beat-poll: FOLLOW_SYNC_EVERY)",
    )  # fmt: skip
    parser.add_argument(
        "--beat-poll", action="store_true", help="the external master found by beat's poll (no follow watcher)"
    )
    parser.add_argument(
        "--latency-only", action="store_true", help="only the copy latency rounds (a short A/B run, no ratios)"
    )
    parser.add_argument(
        "--ratio-only", action="store_true", help="no copy latency rounds (a short A/B run of the ratios)"
    )
    parser.add_argument(
        "--no-hung", action="store_true", help="no follower hung in the worker rounds (what the hung one costs)"
    )
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def recreate_database(server_url: str) -> str:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return f"{server_url}/{DB_NAME}"


def machine() -> dict:
    model = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": head.stdout.strip(),
        # Others may use the machine too: a busy machine makes the figures suspect.
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


class Processes:
    """Every process this script starts, stopped on every exit path."""

    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, []

    def start(self, name: str, args: list[str], **extra_env) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603
            args,
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=open(self.logs / f"{name}.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not within {timeout}s")


class QueryCounter:
    """Counts SQL statements run by this process, in every thread, by kind."""

    def __init__(self) -> None:
        from django.db.backends import utils

        self.lock = threading.Lock()
        self.statements: list[str] = []
        self.active = False
        original = utils.CursorWrapper._execute

        def counted(wrapper, sql, params, *args):
            if self.active:
                with self.lock:
                    self.statements.append(sql)
            return original(wrapper, sql, params, *args)

        utils.CursorWrapper._execute = counted

    def __enter__(self):
        self.statements.clear()
        self.active = True
        return self

    def __exit__(self, *exc) -> None:
        self.active = False

    def settings_reads(self) -> int:
        """The cycle's reads of follow settings (not the per-order check below)."""
        return sum(1 for sql in self.statements if sql.lstrip().upper().startswith("SELECT") and
                   'FROM "following_followsettings"' in sql and not self._is_order_check(sql))  # fmt: skip

    def order_checks(self) -> int:
        """The check made with each follower order that the follower is still on (one per order)."""
        return sum(1 for sql in self.statements if self._is_order_check(sql))

    @staticmethod
    def _is_order_check(sql: str) -> bool:
        return sql.lstrip().startswith('SELECT 1 AS still_on FROM "following_followsettings"')  # orders.services


class VenueRequests:
    """The web processes' own request counters (/metrics, summed over the uvicorn workers through
    PROMETHEUS_MULTIPROC_DIR, as `make web` serves): requests by method and route over a round,
    so a round's venue calls can be told apart (orders, position reads, instruments, ...)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def read(self) -> Counter:
        text = httpx.get(self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30).text
        found: Counter = Counter()
        for line in text.splitlines():
            if line.startswith("tradedesk_http_requests_total{"):
                labels, value = line[len("tradedesk_http_requests_total{") :].rsplit("} ", 1)
                parts = dict(item.split("=", 1) for item in labels.split('",') if "=" in item)
                clean = {key: value.strip('"') for key, value in parts.items()}
                if clean.get("route") != "/metrics":
                    found[f"{clean.get('method')} {clean.get('route')} {clean.get('status')}"] += float(value)
        return found

    def __enter__(self):
        self.before = self.read()
        return self

    def __exit__(self, *exc) -> None:
        after = self.read()
        self.counts = {
            key: int(n - self.before.get(key, 0)) for key, n in after.most_common() if n > self.before.get(key, 0)
        }


def _postgres_sessions() -> int:
    """Sessions the bench database has had (pg_stat_database.sessions, PostgreSQL 14+)."""
    if "DATABASE_URL" not in os.environ:
        return 0
    try:
        with psycopg.connect(settings_database_url(), autocommit=True) as conn:
            row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
        return int(row[0]) - 1 if row else 0  # less this one
    except psycopg.Error:
        return 0


class CpuMeter:
    """CPU seconds used over a block by this process, the web server's processes and PostgreSQL's
    (per process id: a PostgreSQL backend that exits during the block takes its share with it)."""

    def __init__(self, web: subprocess.Popen, engine: list[subprocess.Popen] | None = None) -> None:
        self.web = psutil.Process(web.pid)
        # The desk's engine: this process, or the given worker processes (with their pool children).
        self.engine = [psutil.Process(process.pid) for process in engine] if engine else None

    @staticmethod
    def _cpu(processes) -> dict[int, float]:
        found = {}
        for process in processes:
            try:
                times = process.cpu_times()
                found[process.pid] = times.user + times.system
            except psutil.Error:
                pass
        return found

    def sample(self) -> dict[str, dict[int, float]]:
        postgres = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
        engine = [psutil.Process()] if self.engine is None else [
            found for process in self.engine for found in (process, *process.children(recursive=True))
        ]  # fmt: skip
        redis_server = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("redis-server")]
        return {
            "desk_engine": self._cpu(engine),
            "venue_web": self._cpu([self.web, *self.web.children(recursive=True)]),
            "postgres": self._cpu(postgres),
            "redis": self._cpu(redis_server),
            # The bench's own process when the desk runs in workers (its polls and samplers).
            "bench": self._cpu([psutil.Process()]) if self.engine is not None else {},
        }

    @staticmethod
    def _machine() -> dict[str, float]:
        """The whole machine: CPU seconds busy (all but idle, iowait and steal), stolen by the host, and
        TCP connections accepted (/proc/net/snmp PassiveOpens: the venue's, PostgreSQL's, Redis's)."""
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0) + getattr(times, "steal", 0.0)
        busy = sum(times) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        accepted = 0
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Tcp:")]
        if len(lines) == 2:
            accepted = int(dict(zip(lines[0], lines[1], strict=True))["PassiveOpens"])
        return {
            "busy": busy,
            "steal": getattr(times, "steal", 0.0),
            "interrupts": getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0),
            "accepted": accepted,
            "postgres_sessions": _postgres_sessions(),
        }

    @staticmethod
    def _everyone() -> dict[int, tuple[str, float]]:
        found = {}
        for process in psutil.process_iter(["name", "cpu_times"]):
            times = process.info["cpu_times"]
            if times is not None:
                found[process.pid] = (process.info["name"] or "?", times.user + times.system)
        return found

    def __enter__(self):
        self.before, self.machine_before, self.everyone_before = self.sample(), self._machine(), self._everyone()
        return self

    def __exit__(self, *exc) -> None:
        after, machine = self.sample(), self._machine()
        self.used = {
            name: round(sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in after[name].items()), 2)
            for name in after
        }
        self.used |= {f"machine_{key}": round(machine[key] - self.machine_before[key], 2) for key in machine}
        # What no meter above holds: beat, the kernel's work for the loopback traffic, the rest.
        self.used["elsewhere"] = round(self.used["machine_busy"] - sum(self.used[name] for name in after), 2)
        known = {pid for group in after.values() for pid in group}
        others: Counter = Counter()
        for pid, (name, cpu) in self._everyone().items():
            if pid not in known:
                others[name] += cpu - self.everyone_before.get(pid, (name, 0.0))[1]
        self.used["elsewhere_by_process"] = {name: round(cpu, 2) for name, cpu in others.most_common(5) if cpu >= 0.05}


class WaitSampler:
    """What the database's busy backends wait on, sampled every 50 ms from pg_stat_activity over
    a block: per sample, each active backend of the bench database counts once, as running (no
    wait event) or under its wait event. Lock waits are also counted by the statement waiting,
    so a row every order locks (the venue's instrument row, say) shows by name."""

    def __init__(self, database_url: str) -> None:
        self.url, self.database = database_url, database_url.rsplit("/", 1)[1]
        self.events, self.locks, self.samples = Counter(), Counter(), 0

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.is_set():
                rows = conn.execute(
                    "SELECT wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
                    "FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                    [self.database],
                ).fetchall()
                self.samples += 1
                for kind, event, query in rows:
                    self.events[f"{kind}:{event}" if kind else "running"] += 1
                    if kind == "Lock":
                        self.locks[query] += 1
                self.stopping.wait(0.05)

    def __enter__(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def summary(self) -> dict:
        busy = sum(self.events.values())
        return {
            "samples": self.samples,
            "active_backends_avg": round(busy / max(self.samples, 1), 2),
            "by_wait": {name: round(100 * n / max(busy, 1), 1) for name, n in self.events.most_common(6)},
            "lock_waits_by_statement": [[query, round(100 * n / max(busy, 1), 1)] for query, n in
                                        self.locks.most_common(3)],
        }  # fmt: skip


def create_world(count: int, base_url: str):
    """The master and `count` followers, with paper accounts and desk API accounts."""
    from django.contrib.auth.models import User
    from django.test import override_settings

    from executor.models import ExchangeAccount
    from executor.paper.services.accounts import paper_account_create
    from executor.paper.services.prices import paper_price_set
    from executor.services import exchange_account_save
    from following import services

    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # paper logins are never used here

    def account(user, name: str, usdt: str) -> tuple:
        with override_settings(PASSWORD_HASHERS=fast):
            paper, key = paper_account_create(username=name, password=secrets.token_hex(8),
                                              balances={"USDT": Decimal(usdt)})  # fmt: skip
        desk = ExchangeAccount(owner=user, label=name, venue="paper", connector="api", base_url=base_url)
        return paper, key, exchange_account_save(account=desk, secrets={"api_key": key})

    master = User.objects.create_user("master")
    master_paper, master_key, master_account = account(master, "master", "100000000")
    services.master_account_open(user=master, credential_id=master_account.pk)
    follower_keys = []
    for index in range(count):
        user = User.objects.create_user(f"follower{index:04d}")
        _, key, own = account(user, f"follower{index:04d}", "100000")
        services.follow_settings_create(user=user, master_credential_id=master_account.pk,
                                        follower_credential_id=own.pk, follow_ratio=Decimal("0.1"))  # fmt: skip
        follower_keys.append(key)
        if (index + 1) % 200 == 0:
            log(f"  {index + 1} followers")
    return master_key, follower_keys, master_paper


def create_anchors(count: int) -> list[str]:
    """`count` paper accounts of no one's (no desk account, never followed): the venue-alone
    rounds just before each timed round trade on them, so the followers' positions stay as the
    desk's rounds expect."""
    from django.test import override_settings

    from executor.paper.services.accounts import paper_account_create

    keys = []
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        for index in range(count):
            _, key = paper_account_create(username=f"anchor{index:04d}", password=secrets.token_hex(8),
                                          balances={"USDT": Decimal("1000000")})  # fmt: skip
            keys.append(key)
    return keys


def venue_alone(keys: list[str], tag: str, base_url: str, web, requests, database_url: str, threads: int) -> dict:
    """One market order per key straight to the paper API from `threads` threads, no desk: what
    the venue itself costs for as many orders, measured now."""
    started, origin = time.monotonic(), dt.datetime.now(dt.UTC)
    sent: list[tuple] = []
    with (
        CpuMeter(web) as cpu,
        WaitSampler(database_url) as waits,
        requests as calls,
        ThreadPoolExecutor(threads) as pool,
    ):
        clients = threading.local()

        def one(item):
            index, key = item
            if not hasattr(clients, "http"):
                clients.http = httpx.Client(base_url=f"{base_url}/api", timeout=30)
            at = dt.datetime.now(dt.UTC)
            place(clients.http, key, "BUY", "0.1", f"{tag}-{index}")  # the hung follower holds no BTC
            sent.append((at, dt.datetime.now(dt.UTC)))

        list(pool.map(one, enumerate(keys)))
    return {"seconds": round(time.monotonic() - started, 2), "orders": len(keys),
            "cpu_seconds": cpu.used, "database_waits": waits.summary(),
            "timeline": timeline(origin, sent, threads), "requests": calls.counts}  # fmt: skip


def binance_master(master_paper, base_url: str) -> int:
    """The master's paper account again, as a desk ccxt account on the paper exchange's Binance
    dialect: ccxt.pro watches its trades on the dialect's User Data Stream (follow_watch)."""
    from executor.models import ExchangeAccount
    from executor.paper.services import paper_binance_key_create
    from executor.services import exchange_account_save
    from following import services

    _, key, secret = paper_binance_key_create(account=master_paper)
    owner = ExchangeAccount.objects.get(label="master").owner
    desk = ExchangeAccount(owner=owner, label="master-binance", venue="paper", connector="ccxt",
                           exchange_id="binance", base_url=f"{base_url}/binance")  # fmt: skip
    saved = exchange_account_save(account=desk, secrets={"api_key": key, "api_secret": secret})
    services.master_account_open(user=owner, credential_id=saved.pk)
    return saved.pk


def place(client: httpx.Client, key: str, side: str, qty: str, client_order_id: str) -> None:
    body = {"client_order_id": client_order_id, "symbol": "BTC-USDT", "side": side, "type": "MARKET", "qty": qty}
    response = client.post("/orders", json=body, headers={"X-PAPER-KEY": key})
    if response.status_code != 201:
        raise RuntimeError(f"paper order {client_order_id}: {response.status_code} {response.text[:200]}")


def follower_successes() -> int:
    from orders.models import Order

    return Order.objects.filter(follow_settings__isnull=False, status="SUCCESS").count()


def hang_one_follower():
    """The first follower's venue answers its orders only after 15 s (the paper's "slow" fault)."""
    from executor.paper.models import PaperAccount
    from executor.paper.services.faults import paper_fault_set

    paper = PaperAccount.objects.get(username="follower0000")
    paper_fault_set(account=paper, kind="slow", value="15000")
    return paper


def unhang(paper) -> None:
    from executor.paper.models import PaperFault

    if paper is not None:
        PaperFault.objects.filter(account=paper).delete()


def start_celery(procs, var_dir: Path, workers: int, name: str, **env) -> list:
    celery = [sys.executable, "-m", "celery", "-A", "tradedesk"]
    started = [
        procs.start(
            f"{name}-worker{n}",
            [*celery, "worker", "--loglevel", "INFO", "--concurrency", "1", "-Q", "celery", "-n", f"bench{n}@%h"],
            **env,
        )  # fmt: skip
        for n in range(workers)
    ]
    # A fresh schedule each round: with a previous run's file, beat found its housekeeping due at
    # once, and the account health check (one venue read per account: 1,000 followers' accounts
    # took a worker for seconds) held a copy sync back in the latency rounds. Now it first runs
    # ACCOUNT_HEALTH_EVERY (300 s) after start, after the round.
    for old in var_dir.glob(f"beat-{name}*"):
        old.unlink()
    started.append(procs.start(f"{name}-beat", [*celery, "beat", "--loglevel", "INFO", "-s",
                                                 str(var_dir / f"beat-{name}")], **env))  # fmt: skip
    return started


def end_to_end(procs, var_dir: Path, master_account_id: int, side: str, workers: int, expected: int,
               web: subprocess.Popen, requests: "VenueRequests", threads: int,
               profile: bool = False) -> dict:  # fmt: skip
    """A master change with `workers` worker processes, the master traded by the desk (its
    accepted order queues the sync, orders' hook): seconds from the master's fill at the venue
    until the `expected` followers that are not hung have their order SUCCESS (the hung one's
    own order is not waited for).
    With `profile`, py-spy samples the worker processes' CPU from the change to the end."""
    from django.db import connection

    from following.models import SyncRun
    from orders.models import Order

    started = start_celery(procs, var_dir, workers, f"e2e{workers}")
    runs_before = SyncRun.objects.count()
    wait_until(lambda: SyncRun.objects.count() > runs_before + 1, 60, "beat's syncs running")
    before = set(Order.objects.filter(follow_settings__isnull=False).values_list("id", flat=True))
    spies = (
        [spy_start(process.pid, var_dir, f"e2e{workers}-{n}") for n, process in enumerate(started[:workers])]
        if profile
        else []
    )
    rows = Order.objects.filter(follow_settings__isnull=False, status="SUCCESS").exclude(id__in=before)
    rows = rows.exclude(follow_settings__user__username="follower0000")
    with (
        WaitSampler(settings_database_url()) as waits,
        CpuMeter(web, engine=started[:workers]) as cpu,
        requests as calls,
    ):
        master = master_trade_by_desk(master_account_id, side, f"e2e-{workers}")
        wait_until(lambda: rows.count() >= expected, 300, "every follower order but the hung one's")
    fill = _venue_times([master])[master.client_order_id][1]
    seconds = (max(rows.values_list("completed_at", flat=True)) - fill).total_seconds()
    runs = SyncRun.objects.filter(started_at__gte=master.created_at, orders_placed__gt=0)
    # Each follower copies the change once: a second order in the round is a double copy.
    mine = Order.objects.filter(follow_settings__isnull=False, created_at__gte=master.created_at)
    per_follower = Counter(mine.values_list("follow_settings_id", flat=True))
    twice = sum(1 for n in per_follower.values() if n > 1)
    found = {"seconds": round(seconds, 2), "orders": expected, "workers": workers, "database_waits": waits.summary(),
             "cpu_seconds": cpu.used, "requests": calls.counts, "followers_ordered_twice": twice,
             "timeline": timeline(fill, list(rows.values_list("created_at", "completed_at")), threads,
                                  list(runs.values_list("started_at", "finished_at", "orders_placed")))}  # fmt: skip
    if spies:
        found["profile"] = spy_stop(spies, f"follower_sync_worker_{workers}w")
    for process in started:
        procs.stop(process)
    connection.close()
    return found


def timeline(origin, intervals: list[tuple], threads: int, tasks: list[tuple] = ()) -> dict:
    """Where a round's wall time goes, from the orders' own rows: `intervals` are (start, end) of
    each order in flight (the desk's row created -> its result recorded; the baseline's request
    sent -> answered), `tasks` (start, end, orders) of the sync runs (Celery tasks) in the round.
    Seconds are from `origin` (the master's fill, the cycle's or the baseline's start).
    - in_flight_avg: orders in flight on average from origin to the last order's end; with
      `threads` threads it is what the threads' share spent on orders (the rest: each thread's
      work between its orders, and the times no thread runs);
    - before_first_order_s; no_task_s (inside the round, no task running: the queue and a
      worker's pickup); below_half_s (fewer than threads / 2 orders in flight after the first
      order: tasks' starts and tails, the hung follower's wait);
    - per task: start, end, orders, its first order after its start, its end after its last order."""
    spans = sorted((a, b) for a, b in intervals if a is not None and b is not None)
    if not spans:
        return {}
    s = lambda moment: (moment - origin).total_seconds()  # noqa: E731
    end = max(s(b) for _, b in spans)
    events = sorted([(s(a), 1) for a, _ in spans] + [(s(b), -1) for _, b in spans])
    area = below = 0.0
    level, last = 0, s(spans[0][0])
    for moment, step in events:
        width = moment - last
        area += level * width
        below += width if level < threads / 2 else 0.0
        level, last = level + step, moment
    found = {
        "span_s": round(end, 3),
        "before_first_order_s": round(s(spans[0][0]), 3),
        "in_flight_avg": round(area / end, 2) if end > 0 else None,
        "in_flight_avg_after_first_order": round(area / (end - s(spans[0][0])), 2),
        "below_half_s": round(below, 3),
    }
    if tasks:
        rows = []
        covered = []
        for start, finish, orders in sorted(tasks):
            mine = [(a, b) for a, b in spans if start <= a <= finish]
            rows.append({
                "start_s": round(s(start), 3), "end_s": round(s(finish), 3), "orders": orders,
                "first_order_after_start_s": round((mine[0][0] - start).total_seconds(), 3) if mine else None,
                "end_after_last_order_s": round((finish - max(b for _, b in mine)).total_seconds(), 3)
                if mine else None,
            })  # fmt: skip
            covered.append((max(0.0, s(start)), min(end, s(finish))))
        gap, reach = 0.0, 0.0
        for a, b in sorted(covered):
            gap += max(0.0, a - reach)
            reach = max(reach, b)
        found["no_task_s"] = round(gap + max(0.0, end - reach), 3)
        found["tasks"] = rows
    return found


def _requests_text(counts: dict) -> str:
    return "; ".join(f"{key}: {n}" for key, n in counts.items()) or "none counted"


def _timeline_text(found: dict) -> str:
    if not found:
        return "no orders"
    text = (f"in flight {found['in_flight_avg']} on average ({found['in_flight_avg_after_first_order']} after the "
            f"first order); first order at {found['before_first_order_s']} s; fewer than half the threads' orders "
            f"in flight {found['below_half_s']} s")  # fmt: skip
    if "no_task_s" in found:
        text += f"; no task running {found['no_task_s']} s; tasks (start-end s, orders, first order after start, "
        text += "end after last order): " + ", ".join(
            f"{t['start_s']}-{t['end_s']} {t['orders']} +{t['first_order_after_start_s']} "
            f"+{t['end_after_last_order_s']}"
            for t in found["tasks"]
        )
    return text


def recheck() -> None:
    """Every follower's positions read again at the venue (a cycle with nothing to order), as
    before the first round. A follower's positions are its last venue read plus its fills for
    FOLLOW_RECHECK_SECONDS (60 s), and beat's syncs re-read them after that, spread over time;
    a round started more than a minute after the last read would add a venue read per follower
    to the master's change (the first run's 2-worker round did: 3.8x against 2.64x)."""
    from django.test import override_settings

    from following.models import FollowSettings
    from following.sync import follow_sync_cycle

    log("the followers' positions read again (their last read is over a minute old)")
    FollowSettings.objects.update(last_checked_at=None)  # every follower due for its recheck
    # And none trusts its last read: a read younger than FOLLOW_RECHECK_SECONDS was trusted here,
    # and came due in the next round instead (1,001 position reads in a 2-worker round).
    with override_settings(FOLLOW_RECHECK_SECONDS=0):
        follow_sync_cycle()


def settings_database_url() -> str:
    return os.environ["DATABASE_URL"]


def spy_start(pid: int, var_dir: Path, name: str, gil: bool = False) -> tuple:
    """py-spy recording one process (a Celery worker with its pool children, or this one), raw
    collapsed stacks. `gil`: only the thread holding the GIL, i.e. where Python CPU goes."""
    out = var_dir / f"spy-{name}.txt"
    spy = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "py-spy"), "record", "--pid", str(pid), *(["--subprocesses"] if not gil else []),
         "--rate", "200", "--nonblocking", *(["--gil"] if gil else []), "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=open(var_dir / f"spy-{name}.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    time.sleep(0.5)  # attached before the change
    return spy, out


def spy_stop(spies: list[tuple], name: str, top: int = 25) -> dict:
    """Stop the recordings (py-spy writes on SIGINT), merge them into bench/results/<name>.txt
    (collapsed stacks: a flame graph tool reads them) and return the top functions by self and
    by total samples."""
    import re
    import signal
    from collections import Counter

    lines = []
    for spy, out in spies:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        lines += out.read_text().splitlines() if out.exists() else []
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.txt").write_text("\n".join(lines) + "\n")
    own, total, samples = Counter(), Counter(), 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";") if "(" in frame]
        samples += int(count)
        if frames:
            own[frames[-1]] += int(count)
        for frame in set(frames):
            total[frame] += int(count)

    def share(counter: Counter) -> list:
        return [[frame, round(100 * n / max(samples, 1), 1)] for frame, n in counter.most_common(top)]

    return {"file": f"bench/results/{name}.txt", "samples": samples, "self_pct": share(own), "total_pct": share(total)}


def master_trade_by_desk(master_account_id: int, side: str, tag: str):
    """The master's order placed by the desk (as a trader's order on the master account is): its
    accepted result runs orders' hook, which queues the master's followers' sync after commit."""
    from django.utils import timezone

    from executor.models import ExchangeAccount
    from orders.models import Order, OrderType
    from orders.services import order_send

    account = ExchangeAccount.objects.get(pk=master_account_id)
    order = Order.objects.create(
        symbol="BTC/USDT", side=side, order_type=OrderType.MARKET, qty=Decimal("1"), venue=account.connector,
        exchange_account=account, created_by=account.owner, placement_started_at=timezone.now(),
    )  # fmt: skip
    order = order_send(order=order)
    if order.status != "SUCCESS":
        raise RuntimeError(f"master order {tag}: {order.status} {order.error_message}")
    return order


def _venue_times(orders) -> dict[str, tuple]:
    """The paper venue's own moments of desk orders, by client order id: (received, filled)."""
    from django.db.models import Min

    from executor.paper.models import PaperOrder

    ids = [order.client_order_id for order in orders]
    rows = PaperOrder.objects.filter(client_order_id__in=ids).annotate(filled=Min("trades__created_at"))
    return {row.client_order_id: (row.created_at, row.filled) for row in rows}


STEPS = (
    ("master's fill -> its result recorded (hook, commit)", "fill", "master_recorded"),
    ("-> follower sync running (queue, worker pickup)", "master_recorded", "sync_started"),
    ("-> follower order row (reads, master positions, price)", "sync_started", "created"),
    ("-> venue has the order (HTTP send)", "created", "venue_received"),
    ("-> venue filled it", "venue_received", "venue_filled"),
    ("-> desk recorded it acknowledged", "venue_filled", "completed"),
)


def copy_latency(procs, var_dir: Path, settings_ids: list[int], rounds: int, master_account_id: int,
                 external: tuple | None = None, poll_every: float | None = None,
                 spy_on: list | None = None, pushed: bool = False, watch_poll: float | None = None,
                 sync_every: float = 2.0) -> dict:  # fmt: skip
    """Master fill at the venue -> each follower order acknowledged (its SUCCESS recorded).
    `spy_on` (with --profile: the venue's web process): py-spy samples it and the two workers
    over the timed rounds, into bench/results/follower_sync_latency_{workers,venue}.txt.

    A master account the desk trades (default): the master's order goes through the desk
    (order_send), whose accepted result queues the followers' sync at once (orders' hook).
    `external` (paper API client, master key): the master trades at the venue by itself and
    beat's poll, every `poll_every` seconds, finds the change; with `watch_poll`, the follow
    watcher (manage.py follow_watch) polls it every `watch_poll` seconds (beat every `sync_every`).
    `pushed`: the follow watcher runs too, and queues the sync when the venue's stream pushes the
    master's trade. Each step is timed from the rows' own timestamps (the venue's order and trade
    rows, the sync run, the desk's orders)."""
    from types import SimpleNamespace

    from django.db import connection

    from following.models import SyncRun
    from orders.models import Order

    extra = {"FOLLOW_SYNC_EVERY": str(poll_every)} if poll_every else {}
    if watch_poll:
        extra = {"FOLLOW_SYNC_EVERY": str(sync_every), "FOLLOW_WATCH_POLL": str(watch_poll)}
    name = "latency-pushed" if pushed else "latency-external" if external else "latency"
    started = start_celery(procs, var_dir, 2, name, **extra)
    watcher = None
    if pushed or watch_poll:
        watcher = procs.start(f"{name}-watch", [sys.executable, "manage.py", "follow_watch"], **extra)
        started.append(watcher)
    samples: list[dict] = []
    in_flight = Order.objects.filter(follow_settings_id__in=settings_ids, status__in=["SUBMITTING", "UNKNOWN"])
    wait_until(lambda: not in_flight.exists(), 60, "nothing in flight for these followers")
    time.sleep(3)  # workers up (the first round is not timed against worker start-up)
    side = "BUY"
    spies: dict[str, list] = {}
    watcher_cpu = None
    for index in range(rounds + 1):
        if index == 1 and watcher is not None:
            # The watcher's own cost over the timed rounds (its polls, when it polls; its start-up
            # and imports are before).
            meter = psutil.Process(watcher.pid)
            watcher_cpu = (meter, sum(meter.cpu_times()[:2]), time.monotonic())
        if index == 1 and spy_on is not None:
            spies["latency_workers"] = [spy_start(p.pid, var_dir, f"lat-w{n}") for n, p in enumerate(started[:2])]
            spies["latency_venue"] = [spy_start(process.pid, var_dir, "lat-venue") for process in spy_on]
        before = set(Order.objects.filter(follow_settings_id__in=settings_ids).values_list("id", flat=True))
        if external:
            api, key = external
            tag = f"master-external-{index}-{secrets.token_hex(3)}"
            place(api, key, side, "1", tag)
            master = SimpleNamespace(client_order_id=tag, completed_at=None)
        else:
            master = master_trade_by_desk(master_account_id, side, f"latency-{index}")
        new = Order.objects.filter(follow_settings_id__in=settings_ids, status="SUCCESS").exclude(id__in=before)
        wait_until(lambda new=new: new.count() >= len(settings_ids), 60, "the followers' orders")
        if index:  # the first round warms the workers up
            orders = list(new)
            venue = _venue_times([master, *orders])
            fill = venue[master.client_order_id][1]
            recorded = master.completed_at or fill
            run = SyncRun.objects.filter(started_at__gte=recorded, orders_placed__gt=0).order_by("id").first()
            for order in orders:
                samples.append({
                    "fill": fill, "master_recorded": recorded, "sync_started": run.started_at if run else None,
                    "created": order.created_at, "venue_received": venue[order.client_order_id][0],
                    "venue_filled": venue[order.client_order_id][1], "completed": order.completed_at,
                })  # fmt: skip
        side = "SELL" if side == "BUY" else "BUY"
        # A random pause: a fixed one locked the next trade to the same moment of beat's poll
        # cycle (the round ends a fixed time after the poll that found the trade), so every
        # round of a polled master waited the same part of the interval (241 ms of 250, p50 and
        # p99 alike, in one run), not a trade's wait at a random moment.
        time.sleep(0.5 + random.uniform(0, watch_poll or poll_every or 0))  # noqa: S311
    profiles = {name: spy_stop(found, f"follower_sync_{name}") for name, found in spies.items()}
    watcher_share = None
    if watcher_cpu is not None:
        process, cpu, since = watcher_cpu
        watcher_share = round(100 * (sum(process.cpu_times()[:2]) - cpu) / (time.monotonic() - since), 1)
    for process in started:
        procs.stop(process)
    connection.close()
    totals = sorted((row["completed"] - row["fill"]).total_seconds() * 1000 for row in samples)
    steps = {}
    for name, first, last in STEPS:
        spans = sorted((row[last] - row[first]).total_seconds() * 1000 for row in samples if row[first] and row[last])
        steps[name] = {"p50_ms": _pct(spans, 50), "p99_ms": _pct(spans, 99)}
    return {"samples": len(totals), "p50_ms": _pct(totals, 50), "p99_ms": _pct(totals, 99),
            "max_ms": round(totals[-1], 1), "steps": steps, "poll_every": poll_every, "watch_poll": watch_poll,
            "watcher_cpu_percent": watcher_share,
            **({"profiles": profiles} if profiles else {})}  # fmt: skip


def copy_latency_rounds(args, result: dict, procs, var_dir: Path, master_account_id: int, api, master_key: str,
                        master_paper, base_url: str, web) -> None:  # fmt: skip
    """The three copy latency rounds: desk-traded master, external master polled, pushed."""
    from django.db import connection

    from following.models import FollowSettings

    log("copy latency: 10 followers, the master traded by the desk (its sync queued on the fill)")
    keep = list(FollowSettings.objects.order_by("id").values_list("id", flat=True)[1:11])
    FollowSettings.objects.exclude(id__in=keep).update(is_active=False)
    result["copy_latency"] = copy_latency(procs, var_dir, keep, args.latency_rounds, master_account_id,
                                          spy_on=[web] if args.profile else None)  # fmt: skip
    if args.beat_poll:
        log(f"copy latency: the same, an external master (trades at the venue), beat polling every {args.poll_every}s")
        polled = {"poll_every": args.poll_every}
    else:
        log(f"copy latency: the same, an external master (trades at the venue), follow_watch polling every "
            f"{args.poll_every}s, beat every {args.sync_every}s")  # fmt: skip
        polled = {"watch_poll": args.poll_every, "sync_every": args.sync_every}
    result["copy_latency_external"] = copy_latency(
        procs, var_dir, keep, args.latency_rounds, master_account_id, external=(api, master_key), **polled
    )
    log("copy latency: the same external master on the Binance dialect, its trades pushed to follow_watch "
        f"(User Data Stream), beat polling every {args.sync_every}s")  # fmt: skip
    pushed_master = binance_master(master_paper, base_url)
    FollowSettings.objects.filter(id__in=keep).update(master_credential_id=pushed_master)
    result["copy_latency_pushed"] = copy_latency(
        procs, var_dir, keep, args.latency_rounds, pushed_master, external=(api, master_key),
        poll_every=args.sync_every, pushed=True,
    )  # fmt: skip
    FollowSettings.objects.filter(id__in=keep).update(master_credential_id=master_account_id)
    FollowSettings.objects.update(is_active=True)
    connection.close()


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1)


def main() -> None:
    args = parse_args()
    result: dict = {"machine": machine(), "args": vars(args)}
    database_url = recreate_database(args.postgres)
    redis.Redis.from_url(args.redis).flushdb()
    port = free_port()
    base_url = f"http://{HOST}:{port}/paper"
    var_dir = ROOT / "var" / "bench-follow"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": HOST,
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "PAPER_BASE_URL": base_url,
        "FOLLOW_SYNC_THREADS": str(args.threads),
        "FOLLOW_SYNC_EVERY": str(args.sync_every),
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(var_dir),
        "DB_POOL_MAX": str(max(10, args.threads + 2)),
        "METRICS_TOKEN": secrets.token_urlsafe(24),
    }
    os.environ.update(env)
    procs = Processes(env, var_dir)
    try:
        log(f"migrating {DB_NAME}")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        counters_dir = var_dir / "prometheus"  # as `make web`: the workers' counters summed in /metrics
        shutil.rmtree(counters_dir, ignore_errors=True)
        counters_dir.mkdir()
        web = procs.start("web", [sys.executable, "-m", "uvicorn", "tradedesk.asgi:application", "--host", HOST,
                            "--port", str(port), "--workers", "2", "--no-access-log"],
                          PROMETHEUS_MULTIPROC_DIR=str(counters_dir))  # fmt: skip
        requests = VenueRequests(f"http://{HOST}:{port}/metrics", env["METRICS_TOKEN"])
        wait_until(lambda: _up(base_url), 60, "web server up")

        import django

        os.environ["DJANGO_SETTINGS_MODULE"] = "tradedesk.settings"
        django.setup()
        from django.db import connection

        from following.models import FollowSettings
        from following.sync import follow_sync_cycle
        from orders.models import Order

        counter = QueryCounter()
        log(f"creating the master and {args.followers} followers")
        started = time.monotonic()
        master_key, follower_keys, master_paper = create_world(args.followers, base_url)
        result["setup_s"] = round(time.monotonic() - started, 1)

        log(f"{args.followers} anchor accounts (the venue alone, measured just before each timed round)")
        anchor_keys = create_anchors(args.followers)
        result["anchors_setup_s"] = round(time.monotonic() - started - result["setup_s"], 1)

        log("a full check of every follower (first cycle, nothing to order)")
        started = time.monotonic()
        first = follow_sync_cycle()
        result["full_check"] = {"seconds": round(time.monotonic() - started, 2), "followers": first.followers_synced}

        log("queries of a quiet cycle with N followers, then with 10")
        with counter:
            quiet = follow_sync_cycle()
        result["quiet_cycle"] = {"followers": quiet.followers_skipped, "queries": len(counter.statements),
                                 "settings_reads": counter.settings_reads()}  # fmt: skip
        keep = list(FollowSettings.objects.order_by("id").values_list("id", flat=True)[:10])
        FollowSettings.objects.exclude(id__in=keep).update(is_active=False)
        with counter:
            small = follow_sync_cycle()
        result["quiet_cycle_10"] = {"followers": small.followers_skipped, "queries": len(counter.statements),
                                    "settings_reads": counter.settings_reads()}  # fmt: skip
        FollowSettings.objects.update(is_active=True)
        connection.close()

        api = httpx.Client(base_url=f"{base_url}/api", timeout=30)
        master_account_id = FollowSettings.objects.values_list("master_credential_id", flat=True).first()
        result["hung"] = not args.no_hung
        hung_paper = hang_one_follower() if result["hung"] else None
        side = "BUY"
        result["end_to_end_by_workers"] = {}
        for workers in () if args.latency_only else (1, 2):
            if workers > 1:
                unhang(hung_paper)  # its read too would hang and pause it: the round needs it hung, not paused
                recheck()
                hung_paper = hang_one_follower() if result["hung"] else None
            log(f"the venue alone, just before: {args.followers} orders on the anchor accounts")
            anchor = venue_alone(anchor_keys, f"anchor-{workers}w", base_url, web, requests, database_url, args.threads)
            log(
                f"end to end: {workers} worker process(es) and beat; the desk trades 1 BTC ({side}) on the master; "
                + ("one follower hung" if result["hung"] else "no follower hung")
            )
            result["end_to_end_by_workers"][workers] = end_to_end(
                procs,
                var_dir,
                master_account_id,
                side,
                workers,
                args.followers - 1,
                web,
                requests,
                args.threads,
                args.profile,
            )
            result["end_to_end_by_workers"][workers]["anchor"] = anchor
            side = "SELL" if side == "BUY" else "BUY"
        result["end_to_end"] = result["end_to_end_by_workers"].get(1)
        unhang(hung_paper)

        if args.ratio_only:
            result["copy_latency"] = result["copy_latency_external"] = result["copy_latency_pushed"] = None
        else:
            copy_latency_rounds(args, result, procs, var_dir, master_account_id, api, master_key, master_paper,
                                base_url, web)  # fmt: skip
        if args.latency_only:
            latency_report(result)
            return

        recheck()
        log(f"the venue alone, just before: {args.followers} orders on the anchor accounts")
        anchor = venue_alone(anchor_keys, "anchor-inproc", base_url, web, requests, database_url, args.threads)
        log("the same change, cycle run in this process, queries counted")
        place(api, master_key, side, "1", "master-inproc")
        spies = [spy_start(os.getpid(), var_dir, "inproc", gil=True)] if args.profile else []
        started, origin = time.monotonic(), dt.datetime.now(dt.UTC)
        with counter, CpuMeter(web) as cpu, requests as calls:
            run = follow_sync_cycle()
        seconds = time.monotonic() - started
        made = Order.objects.filter(follow_settings__isnull=False, created_at__gte=origin)
        cycle_timeline = timeline(origin, list(made.values_list("created_at", "completed_at")), args.threads)
        if spies:
            result["in_process_profile"] = spy_stop(spies, "follower_sync_cycle_gil", top=40)
        total = len(counter.statements)
        result["in_process_cycle"] = {"seconds": round(seconds, 2), "orders": run.orders_placed,
                                      "errors": run.errors, "queries": total,
                                      "settings_reads": counter.settings_reads(),
                                      "order_checks": counter.order_checks(),
                                      "queries_per_order": round(total / max(run.orders_placed, 1), 1),
                                      "cpu_seconds": cpu.used, "timeline": cycle_timeline,
                                      "requests": calls.counts, "anchor": anchor}  # fmt: skip

        log(f"baseline: {args.followers} orders straight to the paper API, {args.threads} threads")
        result["baseline"] = venue_alone(follower_keys, "base", base_url, web, requests, database_url, args.threads)
    finally:
        procs.stop_all()

    result["ratio_end_to_end_vs_baseline"] = round(result["end_to_end"]["seconds"] / result["baseline"]["seconds"], 2)
    result["ratio_by_workers"] = {
        workers: round(row["seconds"] / result["baseline"]["seconds"], 2)
        for workers, row in result["end_to_end_by_workers"].items()
    }
    result["ratio_cycle_vs_baseline"] = round(result["in_process_cycle"]["seconds"] / result["baseline"]["seconds"], 2)
    # Against the venue alone measured just before each round: this machine's speed moves within a
    # run (the end baseline took 10.2-17.8 s in one evening), so the neighbour is the fairer anchor.
    result["ratio_by_workers_adjacent"] = {
        workers: round(row["seconds"] / row["anchor"]["seconds"], 2)
        for workers, row in result["end_to_end_by_workers"].items()
    }
    cycle = result["in_process_cycle"]
    result["ratio_cycle_adjacent"] = round(cycle["seconds"] / cycle["anchor"]["seconds"], 2)
    report(result)


def _up(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/api/instruments", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _cpu_text(used: dict) -> str:
    text = f"{used['desk_engine']} / {used['venue_web']} / {used['postgres']}"
    if "machine_busy" in used:
        text += (f" (Redis {used['redis']}, bench {used.get('bench') or '-'}, elsewhere {used['elsewhere']}; "
                 f"machine: {used['machine_busy']} busy, {used['machine_steal']} stolen; "
                 f"{used['machine_interrupts']} in interrupts; {used['machine_accepted']} TCP connections "
                 f"accepted, {used['machine_postgres_sessions']} PostgreSQL sessions; elsewhere by process: "
                 f"{used.get('elsewhere_by_process')})")  # fmt: skip
    return text


def latency_report(result: dict) -> None:
    print(f"\nload average at start: {result['machine']['load_average_at_start']}")
    for name in ("copy_latency", "copy_latency_external", "copy_latency_pushed"):
        found = result[name]
        share = found.get("watcher_cpu_percent")
        watcher = f"; follow_watch CPU {share} % of a core" if share is not None else ""
        print(f"{name}: p50 / p99 / max {found['p50_ms']} / {found['p99_ms']} / {found['max_ms']} ms "
              f"over {found['samples']}{watcher}")  # fmt: skip
        for step, span in found["steps"].items():
            print(f"  {step:<60} p50 {span['p50_ms']} / p99 {span['p99_ms']} ms")


def _latency_rows(result: dict) -> list[tuple[str, str]]:
    desk, external, pushed = result["copy_latency"], result["copy_latency_external"], result["copy_latency_pushed"]
    return [
        ("copy latency, master traded by the desk, fill -> follower order acknowledged (10 followers): "
         "p50 / p99 / max",
         f"{desk['p50_ms']} / {desk['p99_ms']} / {desk['max_ms']} ms over {desk['samples']}"),
        *[(f"  {name}", f"p50 {step['p50_ms']} / p99 {step['p99_ms']} ms")
          for name, step in result["copy_latency"]["steps"].items()],
        (f"copy latency, external master, follow_watch polling every {external['watch_poll']} s: p50 / p99 / max"
         if external.get("watch_poll") else
         f"copy latency, external master, beat polling every {external['poll_every']} s: p50 / p99 / max",
         f"{external['p50_ms']} / {external['p99_ms']} / {external['max_ms']} ms over {external['samples']}"),
        *[(f"  {name}", f"p50 {step['p50_ms']} / p99 {step['p99_ms']} ms")
          for name, step in external["steps"].items() if not name.startswith("master's fill")],
        (f"copy latency, external master on the Binance dialect, its trades pushed (follow_watch), beat every "
         f"{pushed['poll_every']} s: p50 / p99 / max",
         f"{pushed['p50_ms']} / {pushed['p99_ms']} / {pushed['max_ms']} ms over {pushed['samples']}"),
        *[(f"  {name}", f"p50 {step['p50_ms']} / p99 {step['p99_ms']} ms")
          for name, step in pushed["steps"].items() if not name.startswith("master's fill")],
    ]  # fmt: skip


def report(result: dict) -> None:
    n = result["args"]["followers"]
    rows = [
        ("setup (users, accounts, settings)", f"{result['setup_s']} s"),
        (f"full check of {n} followers (venue reads)", f"{result['full_check']['seconds']} s"),
        (f"quiet cycle, {n} followers: queries (settings reads)",
         f"{result['quiet_cycle']['queries']} ({result['quiet_cycle']['settings_reads']})"),
        ("quiet cycle, 10 followers: queries (settings reads)",
         f"{result['quiet_cycle_10']['queries']} ({result['quiet_cycle_10']['settings_reads']})"),
        *[row for w, found in result["end_to_end_by_workers"].items() for row in (
            (f"master change -> {n - 1} follower orders SUCCESS, {'one' if result.get('hung', True) else 'none'} hung, "
             f"{w} worker process(es)",
             f"{found['seconds']} s ({result['ratio_by_workers_adjacent'][w]}x the venue alone just before: "
             f"{found['anchor']['seconds']} s; {result['ratio_by_workers'][w]}x the end baseline)"),
            ("  the venue alone just before: CPU s bench client / venue web / PostgreSQL",
             _cpu_text(found["anchor"]["cpu_seconds"])),
            ("  CPU s over the round: worker processes / venue web / PostgreSQL", _cpu_text(found["cpu_seconds"])),
            ("  timeline", _timeline_text(found.get("timeline", {}))),
            ("  web requests (method route status: count)", _requests_text(found.get("requests", {}))),
            ("  followers with more than one order for the change (must be 0)",
             str(found.get("followers_ordered_twice"))),
        )],
        (f"in-process cycle placing {result['in_process_cycle']['orders']} orders",
         f"{result['in_process_cycle']['seconds']} s ({result['ratio_cycle_adjacent']}x the venue alone just "
         f"before: {result['in_process_cycle']['anchor']['seconds']} s)"),
        ("  queries (settings reads, on-still checks, per order)",
         f"{result['in_process_cycle']['queries']} ({result['in_process_cycle']['settings_reads']}, "
         f"{result['in_process_cycle'].get('order_checks')}, {result['in_process_cycle']['queries_per_order']})"),
        ("  CPU s: desk process / venue web / PostgreSQL", _cpu_text(result["in_process_cycle"]["cpu_seconds"])),
        ("  timeline", _timeline_text(result["in_process_cycle"].get("timeline", {}))),
        ("  web requests", _requests_text(result["in_process_cycle"].get("requests", {}))),
        (f"baseline: {n} orders straight to the paper API", f"{result['baseline']['seconds']} s"),
        ("  CPU s: bench client / venue web / PostgreSQL", _cpu_text(result["baseline"]["cpu_seconds"])),
        ("  timeline", _timeline_text(result["baseline"].get("timeline", {}))),
        ("  web requests", _requests_text(result["baseline"].get("requests", {}))),
        ("ratio end to end / the venue alone just before, 1 and 2 worker processes",
         " / ".join(f"{ratio}x" for ratio in result["ratio_by_workers_adjacent"].values())),
        ("ratio in-process cycle / the venue alone just before", f"{result['ratio_cycle_adjacent']}x"),
        ("ratio end to end / baseline", f"{result['ratio_end_to_end_vs_baseline']}x"),
        ("ratio in-process cycle / baseline", f"{result['ratio_cycle_vs_baseline']}x"),
    ]  # fmt: skip
    if result["copy_latency"] is not None:
        at = next(i for i, (name, _) in enumerate(rows) if name.startswith("in-process cycle"))
        rows[at:at] = _latency_rows(result)
    width = max(len(name) for name, _ in rows)
    print(f"\nload average at start: {result['machine']['load_average_at_start']}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("\nPostgreSQL backends of the bench database: busy on average, share by wait (running = on CPU "
          "or between waits), lock waits by statement:")  # fmt: skip
    rounds = [(f"end to end, {w} worker process(es)", row["database_waits"])
              for w, row in result["end_to_end_by_workers"].items()]  # fmt: skip
    for name, found in [*rounds, ("baseline", result["baseline"]["database_waits"])]:
        shares = ", ".join(f"{wait} {pct}%" for wait, pct in found["by_wait"].items())
        print(f"  {name}: {found['active_backends_avg']} busy; {shares}")
        for query, pct in found["lock_waits_by_statement"]:
            print(f"      {pct:5}%  {query}")
    if "in_process_profile" in result:
        found = result["in_process_profile"]
        print(f"\npy-spy --gil of the in-process cycle (Python CPU), {found['samples']} samples ({found['file']}):")
        for frame, pct in found["total_pct"]:
            print(f"  {pct:6}   {frame}")
    for workers, row in result["end_to_end_by_workers"].items():
        if "profile" in row:
            found = row["profile"]
            print(f"\npy-spy, {workers} worker process(es), {found['samples']} samples ({found['file']}):")
            print("  self %   function")
            for frame, pct in found["self_pct"]:
                print(f"  {pct:6}   {frame}")
            print("  total %  function")
            for frame, pct in found["total_pct"]:
                print(f"  {pct:6}   {frame}")
    for name, found in (result["copy_latency"] or {}).get("profiles", {}).items():
        print(f"\npy-spy, copy latency rounds, {name}, {found['samples']} samples ({found['file']}):")
        for label, key in (("self %", "self_pct"), ("total %", "total_pct")):
            print(f"  {label:<8} function")
            for frame, pct in found[key][:15]:
                print(f"  {pct:6}   {frame}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "follower_sync.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwritten to {out / 'follower_sync.json'}")


if __name__ == "__main__":
    main()
