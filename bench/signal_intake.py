"""Signal intake under load: the production-style desk next to a one-INSERT Django baseline.

    python bench/signal_intake.py [--seconds 20] [--concurrency 4] [--workers 2]

Makes fresh PostgreSQL databases, migrates them, creates a strategy API key, then for the desk
(tradedesk.asgi) and the baseline (bench.baseline_app.asgi) in turn: starts uvicorn with the
same flags and worker count, lets bench/loadgen.py (its own process) post signals over
keep-alive connections for a fixed time, and stops the server. Prints throughput and
latency for both and the desk/baseline throughput ratio; writes bench/results/signal_intake.json.
Everything runs on loopback; the servers are stopped on every exit path.
"""

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
BODY = {
    "symbol": "BTC/USDT",
    "side": "BUY",
    "suggest_price": "65000",
    "suggest_qty": "0.5",
    "strategy_name": "bench",
    "reason": "load",
}
TARGET_RPS, TARGET_P99_MS, TARGET_RATIO = 300, 100, 0.5
BUSY_BEFORE_WARNING = 15.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="measured time per server (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured load before that (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for both servers (default 2)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (no database name); env BENCH_POSTGRES_URL",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="Redis for the desk's channel layer and broker; env BENCH_REDIS_URL",
    )
    parser.add_argument("--only", choices=["desk", "baseline"], help="run one server only (no ratio)")
    parser.add_argument(
        "--desk-settings",
        default="tradedesk.settings",
        help="settings module for the desk, to try a variant (put it on PYTHONPATH); default tradedesk.settings",
    )
    parser.add_argument(
        "--baseline-settings", default="bench.baseline_app.settings", help="settings module for the baseline"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "signal_intake.json")
    return parser.parse_args()


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": code_version(),
        # Others may use the machine too: a busy machine before the run makes the figures suspect.
        "busy_percent_before_start": idle_check(),
    }


def idle_check(seconds: float = 2.0) -> float:
    """How busy the machine is with nothing of ours running (percent of all cores)."""
    busy_before, _, total_before = machine_ticks()
    time.sleep(seconds)
    busy, _, total = machine_ticks()
    return 100 * (busy - busy_before) / max(total - total_before, 1)


def code_version() -> str:
    """The commit measured, marked dirty when the working tree has changes (others may be editing)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def recreate_database(server_url: str, name: str) -> str:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def server_env(settings: str, database_url: str, redis_url: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=database_url,
        DEBUG="false",
        # A fresh random key per run: production-like (DEBUG off), and never a secret worth keeping.
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextmanager
def uvicorn(app: str, env: dict, port: int, workers: int, log_path: Path):
    """The production command line (see `make web`), stopped with its workers on every exit path."""
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        app,
        *("--host", HOST, "--port", str(port), "--workers", str(workers), "--no-access-log"),
    ]
    with open(log_path, "w") as server_log:
        # Its own session, so the stop below reaches the workers and nothing of ours.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_up(process, port, log_path)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)
    # Workers left behind by a parent that died first share its process group.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_until_up(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log_path}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as sock:
                sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
                if sock.recv(12).startswith(b"HTTP/1.1"):
                    # Every worker has to import the app; give the slower ones a moment.
                    time.sleep(1.0)
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer on port {port} within {START_TIMEOUT:.0f}s; see {log_path}")


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def worker_pids(server: subprocess.Popen) -> list[int]:
    """uvicorn's worker processes: its children, less multiprocessing's resource tracker."""
    workers = []
    for pid in process_tree(server.pid)[1:]:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers.append(pid)
    return workers


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes, with that of their children that have exited and been reaped
    (PostgreSQL forks a backend per connection: a desk that connects per request has many)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def postmaster_of(monitor: psycopg.Connection) -> int | None:
    """The local PostgreSQL server's main process (our backend's parent); None if it is elsewhere."""
    try:
        return int(_stat(monitor.info.backend_pid)[1])
    except (OSError, ValueError, IndexError):
        return None


def postgres_cpu_seconds(postmaster: int | None) -> float:
    return cpu_seconds(process_tree(postmaster)) if postmaster else 0.0


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + steal + idle + iowait


def connections_to(monitor: psycopg.Connection, database_url: str) -> int:
    name = urlparse(database_url).path.lstrip("/")
    row = monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
    ).fetchone()
    return row[0]


def count_rows(database_url: str, table: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def load(label: str, port: int, api_key: str, args: argparse.Namespace, server: subprocess.Popen, db: str) -> dict:
    """Run the load generator in its own process; meanwhile watch CPU and database connections."""
    config = {
        "label": label,
        "host": HOST,
        "port": port,
        "path": "/api/signals",
        "headers": {"X-API-KEY": api_key},
        "body": BODY,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "concurrency": args.concurrency,
        "server_pids": worker_pids(server),
    }
    # One monitoring connection, opened before the load: a server that runs out of
    # connections must not take the measurement down with it.
    monitor = psycopg.connect(db, autocommit=True)
    server_before = cpu_seconds(process_tree(server.pid))
    postmaster = postmaster_of(monitor)
    postgres_before = postgres_cpu_seconds(postmaster)
    ticks_before = machine_ticks()
    started = time.monotonic()
    generator = None
    try:
        command = [sys.executable, str(ROOT / "bench" / "loadgen.py")]
        generator = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        generator.stdin.write(json.dumps(config))
        generator.stdin.close()
        peak_connections = 0
        deadline = started + args.warmup + args.seconds + 30
        while generator.poll() is None and time.monotonic() < deadline:
            peak_connections = max(peak_connections, connections_to(monitor, db))
            time.sleep(1.0)
        if generator.poll() is None:
            raise RuntimeError("the load generator overran its time; stopped")
        result = json.loads(generator.stdout.read())
    finally:
        monitor.close()
        if generator is not None:
            if generator.poll() is None:
                generator.kill()
            generator.wait()
    elapsed = time.monotonic() - started
    busy, steal, total = (after - before for after, before in zip(machine_ticks(), ticks_before, strict=True))
    server_cpu = cpu_seconds(process_tree(server.pid)) - server_before
    postgres_cpu = postgres_cpu_seconds(postmaster) - postgres_before
    handled = max(result["requests_including_warmup"], 1)
    result["cpu"] = {
        "wall_seconds": elapsed,
        # All cores together: 100% means the machine had no idle time left during the run.
        "machine_busy_percent": 100 * busy / max(total, 1),
        # Time the hypervisor gave to other guests: high steal makes every figure here worse.
        "machine_steal_percent": 100 * steal / max(total, 1),
        "server_seconds": server_cpu,
        "client_seconds": result.pop("client_cpu_seconds"),
        # Warm-up requests included on both sides of the division.
        "server_ms_per_request": server_cpu * 1000 / handled,
        "postgres_seconds": postgres_cpu,
        "postgres_ms_per_request": postgres_cpu * 1000 / handled,
    }
    result["peak_db_connections"] = peak_connections
    return result


def run_desk(args: argparse.Namespace, port: int) -> dict:
    db = recreate_database(args.postgres, "tradedesk_bench")
    env = server_env(args.desk_settings, db, args.redis)
    log(f"desk: migrating {db}")
    manage(env, "migrate", "--noinput")
    api_key = manage(env, "create_api_key", "bench").strip()
    log(f"desk: uvicorn tradedesk.asgi:application --workers {args.workers} on port {port}")
    with uvicorn("tradedesk.asgi:application", env, port, args.workers, RESULTS / "desk-server.log") as server:
        result = load("desk", port, api_key, args, server, db)
    result["rows_inserted"] = count_rows(db, "signals_signal")
    result["history_rows_inserted"] = count_rows(db, "signals_historicalsignal")
    return result


def run_baseline(args: argparse.Namespace, port: int) -> dict:
    db = recreate_database(args.postgres, "tradedesk_bench_baseline")
    env = server_env(args.baseline_settings, db, None)
    log(f"baseline: migrating {db}")
    manage(env, "migrate", "--noinput")
    app = "bench.baseline_app.asgi:application"
    log(f"baseline: uvicorn {app} --workers {args.workers} on port {port}")
    with uvicorn(app, env, port, args.workers, RESULTS / "baseline-server.log") as server:
        result = load("baseline", port, "unused", args, server, db)
    result["rows_inserted"] = count_rows(db, "baseline_app_intake")
    return result


def report(results: dict) -> None:
    box = results["machine"]
    print(
        f"\nmachine: {box['nproc']} cores, {box['cpu_model']}, Python {box['python']}, "
        f"{box['date']}, commit {box['commit']}, {box['busy_percent_before_start']:.0f}% busy before the run"
    )
    settings = results["settings"]
    print(
        f"load: {settings['concurrency']} keep-alive connections, {settings['seconds']:.0f}s measured "
        f"after {settings['warmup']:.0f}s warm-up, uvicorn --workers {settings['workers']}\n"
    )
    header = f"{'':9} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(header + f" {'CPU ms/req: server':>18} {'postgres':>9} {'busy':>5} {'steal':>6} {'db conns':>9}")
    for name in ("desk", "baseline"):
        if name not in results:
            continue
        r, lat, cpu = results[name], results[name]["latency_ms"], results[name]["cpu"]
        print(
            f"{name:9} {r['requests']:9d} {r['throughput_rps']:8.1f} {lat['p50']:8.1f} {lat['p95']:8.1f} "
            f"{lat['p99']:8.1f} {r['errors']:7d} {cpu['server_ms_per_request']:18.2f} "
            f"{cpu['postgres_ms_per_request']:9.2f} "
            f"{cpu['machine_busy_percent']:4.0f}% {cpu['machine_steal_percent']:5.0f}% {r['peak_db_connections']:9d}"
        )
    if "desk" not in results:
        return
    desk = results["desk"]
    checks = [
        (f"desk >= {TARGET_RPS} signals/s", desk["throughput_rps"] >= TARGET_RPS),
        (f"desk p99 < {TARGET_P99_MS} ms", desk["latency_ms"]["p99"] < TARGET_P99_MS),
    ]
    if "ratio" in results:
        print(f"\nHEADLINE  desk / baseline throughput: {results['ratio']:.2f}")
        checks.append((f"ratio >= {TARGET_RATIO}", results["ratio"] >= TARGET_RATIO))
    if box["busy_percent_before_start"] > BUSY_BEFORE_WARNING:
        print(
            f"WARNING: the machine was {box['busy_percent_before_start']:.0f}% busy before the run: other "
            "processes shared the cores, so these figures are low. Run again on a quiet machine."
        )
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
    for name in ("desk", "baseline"):
        if name in results and results[name]["rows_inserted"] != results[name]["requests_including_warmup"]:
            print(
                f"{name}: {results[name]['rows_inserted']} rows inserted for "
                f"{results[name]['requests_including_warmup']} answers (errors or unanswered requests)"
            )
        if name in results and results[name]["error_samples"]:
            print(f"{name} errors, first few: {results[name]['error_samples']}")


def main() -> int:
    args = parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": machine(),
        "settings": {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "desk_settings": args.desk_settings,
            "baseline_settings": args.baseline_settings,
            "conn_max_age_env": os.environ.get("CONN_MAX_AGE"),
        },
    }
    log(f"machine: {results['machine']['nproc']} cores, {results['machine']['cpu_model']}")
    if args.only != "baseline":
        results["desk"] = run_desk(args, free_port())
    if args.only != "desk":
        results["baseline"] = run_baseline(args, free_port())
    if "desk" in results and "baseline" in results and results["baseline"]["throughput_rps"]:
        results["ratio"] = results["desk"]["throughput_rps"] / results["baseline"]["throughput_rps"]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
