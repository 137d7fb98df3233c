"""What a Prometheus scrape of /metrics costs as the order table grows.

    python bench/metrics_scrape.py [--sizes 10000,100000] [--repeat 7]

The desk's figures are read from the database at scrape time (ops.metrics.DeskCollector): one
GROUP BY per table, one aggregate per histogram. This measures the whole /metrics body
(`ops.metrics.exposition()`) on PostgreSQL with N orders, against a baseline measured in the
same run on the same rows: one `SELECT count(*)` of the order table, the cheapest question a
scrape could ask.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth); override the server with
BENCH_POSTGRES_URL (no database name). Drops and recreates the database tradedesk_bench_metrics.
Writes bench/results/metrics_scrape.json.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = "tradedesk_bench_metrics"


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{SERVER}/postgres", "-qc", sql], check=True)  # noqa: S603, S607


def timed(call, repeat: int) -> float:
    """Median milliseconds of `repeat` calls, after one warm-up call."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    os.environ.update(
        {
            "DATABASE_URL": f"{SERVER}/{DATABASE}",
            "DEBUG": "true",
            "DB_POOL": "false",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "tradedesk.settings",
        }
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from ops import metrics
    from orders.models import Order
    from signals.models import Signal

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench")
    signal = Signal.objects.create(symbol="BTC/USDT", side="BUY", suggest_qty=Decimal("1"), strategy_name="bench")
    rng = random.Random(6)
    now = timezone.now()
    results, made = [], 0
    for size in sorted(int(n) for n in args.sizes.split(",")):
        rows = []
        for i in range(made, size):
            created = now - timedelta(seconds=rng.uniform(0, 86400 * 30))
            status = rng.choices(["SUCCESS", "FAILED", "CANCELED", "SUBMITTING"], [90, 8, 1, 1])[0]
            done = status in ("SUCCESS", "FAILED")
            rows.append(
                Order(
                    signal=signal,
                    symbol=rng.choice(["BTC/USDT", "ETH/USDT", "SOL/USDT"]),
                    side="BUY",
                    order_type="LIMIT",
                    price=Decimal("65000"),
                    qty=Decimal("0.01"),
                    status=status,
                    error_code=rng.choice(["NETWORK", "REJECTED", "TIMEOUT"]) if status == "FAILED" else "",
                    venue=rng.choice(["browser", "api"]),
                    created_by=user,
                    client_order_id=f"bench-{i}",
                    completed_at=created + timedelta(seconds=rng.lognormvariate(0.5, 0.8)) if done else None,
                )
            )
        Order.objects.bulk_create(rows, batch_size=5000)
        # created_at is auto_now_add: spread it over the month afterwards, as real orders would be.
        with django.db.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE orders_order SET created_at = COALESCE(completed_at, now()) - interval '2 seconds'"
                " WHERE client_order_id LIKE 'bench-%%'"
            )
            cursor.execute("ANALYZE orders_order")
        made = size
        scrape_ms = timed(metrics.exposition, args.repeat)
        baseline_ms = timed(lambda: Order.objects.count(), args.repeat)
        body = metrics.exposition().decode()
        result = {
            "orders": size,
            "scrape_ms": round(scrape_ms, 1),
            "baseline_count_ms": round(baseline_ms, 2),
            "ratio": round(scrape_ms / baseline_ms, 1),
            "body_lines": body.count("\n"),
        }
        results.append(result)
        print(
            f"{size:>9} orders: scrape {result['scrape_ms']:>7.1f} ms   count(*) {result['baseline_count_ms']:>6.2f} ms"
            f"   ratio {result['ratio']:>6.1f}   ({result['body_lines']} lines)",
            flush=True,
        )
    django.db.connections.close_all()
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    out = ROOT / "bench" / "results" / "metrics_scrape.json"
    out.parent.mkdir(exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "when": datetime.now(UTC).isoformat()}
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
