"""Signal intake under load: the desk next to a plain DRF anchor and a one-INSERT bare view.

    python bench/signal_intake.py [--seconds 10] [--connections 4,16] [--workers 2] [--shape production]

Makes fresh PostgreSQL databases, migrates them, creates a strategy API key, then for the desk
(tradedesk.asgi), the DRF anchor (bench.drf_anchor: APIView, HasAPIKey, ModelSerializer) and
the bare view (bench.baseline_app) in turn: starts the server the same way for all three (the
desk's production shape by default: `make web`'s uvicorn command), loads it with wrk (or
bench/loadgen.py when wrk is not installed) at each connection count, and stops it. Prints
throughput, latency and CPU for each, and the headline ratios desk / DRF anchor and desk / bare;
writes bench/results/signal_intake.json. Everything runs on loopback; the servers are stopped
on every exit path.
"""

import argparse
import datetime as dt
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
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
TARGET_P99_MS, TARGET_RATIO = 50, 0.8
# name: settings module, ASGI app (the production shape), WSGI app (gunicorn), database, table.
APPS = {
    "desk": (
        "tradedesk.settings",
        "tradedesk.asgi:application",
        "tradedesk.wsgi:application",
        "tradedesk_bench",
        "signals_signal",
    ),
    "drf": (
        "bench.drf_anchor.settings",
        "bench.drf_anchor.asgi:application",
        "bench.drf_anchor.wsgi:application",
        "tradedesk_bench_drf",
        "drf_anchor_anchorsignal",
    ),
    "bare": (
        "bench.baseline_app.settings",
        "bench.baseline_app.asgi:application",
        "bench.baseline_app.wsgi:application",
        "tradedesk_bench_baseline",
        "baseline_app_intake",
    ),
}
# How a server is started: the desk's production shape (uvicorn, HTTP through Django's WSGI
# handler in a thread pool), gunicorn's sync workers (HTTP only), or uvicorn with Django's own
# ASGI handler (the desk's shape before; HTTP only here).
SHAPES = ("production", "gunicorn", "django-asgi")
WRK_SCRIPT = ROOT / "bench" / "signal_intake.lua"
BUSY_BEFORE_WARNING = 15.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="measured time per round (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured load before each round (default 2)")
    parser.add_argument(
        "--connections", default="4,16", help="keep-alive connection counts, one round each (default 4,16)"
    )
    parser.add_argument("--workers", type=int, default=2, help="server processes for every app (default 2)")
    parser.add_argument("--shape", choices=SHAPES, default="production", help="how every server is started")
    parser.add_argument("--loadgen", action="store_true", help="use bench/loadgen.py even when wrk is installed")
    parser.add_argument("--profile", action="store_true", help="py-spy profile of one desk worker, last round")
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
    parser.add_argument(
        "--desk-settings",
        default="tradedesk.settings",
        help="settings module for the desk, to try a variant (put it on PYTHONPATH); default tradedesk.settings",
    )
    parser.add_argument(
        "--desk-app",
        default="tradedesk.asgi:application",
        help="ASGI app for the desk, to try a variant (put it on PYTHONPATH); default tradedesk.asgi:application",
    )
    parser.add_argument("--only", help="comma-separated apps to run (desk,drf,bare); default all three")
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
def serve(shape: str, apps: tuple[str, str], env: dict, port: int, workers: int, log_path: Path):
    """Start one app the way `shape` says, stopped with its workers on every exit path."""
    asgi_app, wsgi_app = apps
    bin_dir = Path(sys.executable).parent
    if shape == "gunicorn":
        # Sync workers, one request at a time each: one more than the cores, as usual.
        command = [
            str(bin_dir / "gunicorn"),
            wsgi_app,
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers + 1),
            "--forwarded-allow-ips",
            "",
            "--log-level",
            "warning",
        ]
    else:
        if shape == "django-asgi":
            asgi_app = "bench.django_asgi:application"
        # The production command line (see `make web`).
        command = [
            str(bin_dir / "uvicorn"),
            asgi_app,
            *("--host", HOST, "--port", str(port), "--workers", str(workers), "--no-access-log"),
            "--no-proxy-headers",
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


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the established TCP connections to `port` on this machine (server side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def connections_per_worker(server, port: int) -> list[int]:
    """How many of the client's keep-alive connections each server worker holds (sorted, most
    first): a worker's connections stay with it, so an uneven split queues requests in one
    process while another idles, whatever the server's threads."""
    inodes = _established_inodes(port)
    counts = []
    for pid in worker_pids(server):
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        counts.append(sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes))
    return sorted(counts, reverse=True)


def count_rows(database_url: str, table: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def generate(label: str, port: int, api_key: str, connections: int, seconds: float, args, server) -> dict:
    """One load round: wrk when installed (unless --loadgen), else bench/loadgen.py."""
    if shutil.which("wrk") and not args.loadgen:
        return wrk_round(port, api_key, connections, seconds)
    config = {
        "label": label,
        "host": HOST,
        "port": port,
        "path": "/api/signals",
        "headers": {"X-API-KEY": api_key, "X-Forwarded-Proto": "https"},
        "body": BODY,
        "seconds": seconds,
        "warmup": 0,
        "concurrency": connections,
        "server_pids": worker_pids(server),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "loadgen.py")],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    result["client"] = "loadgen"
    return result


def wrk_round(port: int, api_key: str, connections: int, seconds: float) -> dict:
    """`wrk -t2 -c<connections>` for `seconds`, each request with a new Idempotency-Key."""
    command = [
        *("wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{max(1, round(seconds))}s"),
        *("--timeout", "10s", "-s", str(WRK_SCRIPT), f"http://{HOST}:{port}/api/signals"),
        *("--", secrets.token_hex(6), api_key, json.dumps(BODY)),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((row for row in done.stdout.splitlines() if row.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-1500:]} {done.stderr[-1500:]}")
    summary = json.loads(line.removeprefix("WRKJSON "))
    kinds = {name: summary[name] for name in ("connect", "read", "write", "timeout", "not2xx")}
    duration = summary["duration_us"] / 1e6
    return {
        "client": "wrk",
        "concurrency": connections,
        "seconds": duration,
        "requests": summary["requests"],
        "errors": sum(kinds.values()),
        "error_kinds": kinds,
        # Only 2xx answers are signals taken in.
        "throughput_rps": (summary["requests"] - summary["not2xx"]) / duration,
        "latency_ms": {name: summary[name] / 1000 for name in ("p50", "p95", "p99", "max", "mean")},
        "client_cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def load(label: str, port: int, api_key: str, connections: int, args, server, db: str) -> dict:
    """A warm-up, then one measured round; meanwhile watch CPU and database connections."""
    generate(label, port, api_key, connections, args.warmup, args, server)
    # One monitoring connection, opened before the load: a server that runs out of
    # connections must not take the measurement down with it.
    monitor = psycopg.connect(db, autocommit=True)
    peak = [0]
    split: list[list[int]] = []
    stop_watching = threading.Event()

    def watch() -> None:
        while not stop_watching.wait(1.0):
            peak[0] = max(peak[0], connections_to(monitor, db))
            split.append(connections_per_worker(server, port))

    watcher = threading.Thread(target=watch, daemon=True)
    server_before = cpu_seconds(process_tree(server.pid))
    postmaster = postmaster_of(monitor)
    postgres_before = postgres_cpu_seconds(postmaster)
    ticks_before = machine_ticks()
    started = time.monotonic()
    profiler = start_profile(label, server, connections, args)
    watcher.start()
    try:
        result = generate(label, port, api_key, connections, args.seconds, args, server)
    finally:
        stop_watching.set()
        watcher.join()
        monitor.close()
    elapsed = time.monotonic() - started
    busy, steal, total = (after - before for after, before in zip(machine_ticks(), ticks_before, strict=True))
    server_cpu = cpu_seconds(process_tree(server.pid)) - server_before
    postgres_cpu = postgres_cpu_seconds(postmaster) - postgres_before
    handled = max(result["requests"], 1)
    result["cpu"] = {
        "wall_seconds": elapsed,
        # All cores together: 100% means the machine had no idle time left during the run.
        "machine_busy_percent": 100 * busy / max(total, 1),
        # Time the hypervisor gave to other guests: high steal makes every figure here worse.
        "machine_steal_percent": 100 * steal / max(total, 1),
        "server_seconds": server_cpu,
        "client_seconds": result.pop("client_cpu_seconds", 0.0),
        "server_ms_per_request": server_cpu * 1000 / handled,
        "postgres_seconds": postgres_cpu,
        "postgres_ms_per_request": postgres_cpu * 1000 / handled,
    }
    result["peak_db_connections"] = peak[0]
    # The split in the middle of the round (gunicorn's sync workers hold one connection at most).
    result["connections_per_worker"] = split[len(split) // 2] if split else []
    if profiler is not None:
        result["profile"] = finish_profile(*profiler)
    return result


def start_profile(label: str, server, connections: int, args):
    """py-spy on one server worker for the measured round of the last connection count (--profile)."""
    last = max(int(c) for c in args.connections.split(","))
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not args.profile or connections != last or not spy:
        return None
    pids = worker_pids(server) or [server.pid]
    out = RESULTS / f"profile-{label}-{args.shape}-{connections}.txt"
    command = [
        *(spy, "record", "--pid", str(pids[0]), "--duration", str(max(1, round(args.seconds)))),
        *("--format", "raw", "--output", str(out), "--nonblocking", "--gil"),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


IDLE_FRAMES = ("_worker (concurrent/futures/thread.py", "select (", "wait (threading.py", "run_forever (")


def finish_profile(process: subprocess.Popen, out: Path) -> dict:
    """The functions with the most samples (inclusive), from py-spy's collapsed stacks."""
    process.wait(timeout=60)
    inclusive: dict[str, int] = {}
    total = 0
    for row in out.read_text().splitlines() if out.exists() else []:
        stack, _, count = row.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame for frame in stack.split(";") if not frame.startswith(("thread (", "process "))]
        # Idle pool threads and the loop waiting for sockets: not CPU a request paid for.
        if not frames or frames[-1].startswith(IDLE_FRAMES):
            continue
        total += int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    top = sorted(inclusive.items(), key=lambda item: -item[1])[:40]
    return {"file": str(out), "samples": total, "top": [[frame, round(100 * n / max(total, 1), 1)] for frame, n in top]}


def create_key(env: dict) -> str:
    code = (
        "import django; django.setup(); from rest_framework_api_key.models import APIKey; "
        "print(APIKey.objects.create_key(name='bench')[1])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"creating the key failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def run_app(name: str, args: argparse.Namespace) -> dict:
    settings, asgi_app, wsgi_app, database, table = APPS[name]
    if name == "desk":
        settings, asgi_app = args.desk_settings, args.desk_app
    db = recreate_database(args.postgres, database)
    env = server_env(settings, db, args.redis if name == "desk" else None)
    if name == "desk":
        # As `make web` runs it: the workers share their request counters through files here.
        metrics_dir = RESULTS / "desk-prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    log(f"{name}: migrating {db}")
    manage(env, "migrate", "--noinput")
    api_key = create_key(env) if name != "bare" else "unused"  # the bare view checks no key
    port = free_port()
    log(f"{name}: {args.shape} shape, {args.workers} workers, port {port}")
    rounds = {}
    with serve(args.shape, (asgi_app, wsgi_app), env, port, args.workers, RESULTS / f"{name}-server.log") as server:
        for connections in (int(c) for c in args.connections.split(",")):
            log(f"{name}: {connections} connections, {args.warmup:.0f}s warm-up + {args.seconds:.0f}s")
            rounds[str(connections)] = load(name, port, api_key, connections, args, server, db)
    history = count_rows(db, "signals_historicalsignal") if name == "desk" else None
    return {"rounds": rounds, "rows_inserted": count_rows(db, table), "history_rows_inserted": history}


def report(results: dict) -> None:
    box, settings = results["machine"], results["settings"]
    print(
        f"\nmachine: {box['nproc']} cores, {box['cpu_model']}, Python {box['python']}, {box['date']}, "
        f"commit {box['commit']}, {box['busy_percent_before_start']:.0f}% busy before the run, "
        f"load average {box['load_average']}"
    )
    print(
        f"shape: {settings['shape']}, {settings['workers']} workers per app; client: {settings['client']}; "
        f"{settings['seconds']:.0f}s measured after {settings['warmup']:.0f}s warm-up per round\n"
    )
    header = f"{'app':5} {'conns':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    header += f" {'errors':>7} {'CPU ms/req: server':>18} {'postgres':>9} {'busy':>5} {'steal':>6} {'db conns':>9}"
    print(header)
    for name in APPS:
        for connections, r in results.get(name, {}).get("rounds", {}).items():
            lat, cpu = r["latency_ms"], r["cpu"]
            print(
                f"{name:5} {connections:>5} {r['requests']:9d} {r['throughput_rps']:8.1f} {lat['p50']:8.1f} "
                f"{lat['p95']:8.1f} {lat['p99']:8.1f} {r['errors']:7d} {cpu['server_ms_per_request']:18.2f} "
                f"{cpu['postgres_ms_per_request']:9.2f} {cpu['machine_busy_percent']:4.0f}% "
                f"{cpu['machine_steal_percent']:5.0f}% {r['peak_db_connections']:9d}"
                f"  conns/worker {'/'.join(str(n) for n in r.get('connections_per_worker', []))}"
            )
    print()
    checks = []
    for connections, ratios in results.get("ratios", {}).items():
        drf, bare = ratios.get("desk_drf", float("nan")), ratios.get("desk_bare", float("nan"))
        print(f"HEADLINE  {connections:>2} connections:  desk / DRF anchor {drf:.2f}   desk / bare {bare:.2f}")
        drf_cpu, bare_cpu = ratios.get("desk_drf_cpu", float("nan")), ratios.get("desk_bare_cpu", float("nan"))
        print(f"          by server CPU per signal:  desk / DRF anchor {drf_cpu:.2f}   desk / bare {bare_cpu:.2f}")
        if "desk_drf" in ratios:
            checks.append((f"desk/DRF >= {TARGET_RATIO} at {connections}", drf >= TARGET_RATIO))
    desk16 = results.get("desk", {}).get("rounds", {}).get("16")
    if desk16:
        checks.append((f"desk p99 < {TARGET_P99_MS} ms at 16", desk16["latency_ms"]["p99"] < TARGET_P99_MS))
    if box["busy_percent_before_start"] > BUSY_BEFORE_WARNING:
        print(
            f"WARNING: the machine was {box['busy_percent_before_start']:.0f}% busy before the run: other "
            "processes shared the cores, so these figures are low. Run again on a quiet machine."
        )
    if checks:
        print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
    for name in APPS:
        if name not in results:
            continue
        history = results[name]["history_rows_inserted"]
        print(f"{name}: {results[name]['rows_inserted']} rows" + (f", {history} history rows" if history else ""))
        for r in results[name]["rounds"].values():
            if r.get("profile"):
                print(f"\n{name} profile ({r['profile']['samples']} samples, inclusive %): {r['profile']['file']}")
                for frame, pct in r["profile"]["top"][:30]:
                    print(f"  {pct:5.1f}%  {frame}")


def main() -> int:
    args = parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    names = [name for name in APPS if not args.only or name in args.only.split(",")]
    client = "wrk" if shutil.which("wrk") and not args.loadgen else "bench/loadgen.py (wrk is not installed)"
    results: dict = {
        "machine": {**machine(), "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg())},
        "settings": {
            "seconds": args.seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            "workers": args.workers,
            "shape": args.shape,
            "client": client,
            "desk_settings": args.desk_settings,
            "desk_app": args.desk_app,
        },
    }
    log(f"machine: {results['machine']['nproc']} cores, {results['machine']['cpu_model']}; client: {client}")
    for name in names:
        results[name] = run_app(name, args)
    if "desk" in results:
        results["ratios"] = {}
        for connections, desk in results["desk"]["rounds"].items():
            ratios = {}
            for other, key in (("drf", "desk_drf"), ("bare", "desk_bare")):
                anchor = results.get(other, {}).get("rounds", {}).get(connections)
                if anchor and anchor["throughput_rps"]:
                    ratios[key] = desk["throughput_rps"] / anchor["throughput_rps"]
                    # The same comparison by server CPU per signal (anchor / desk): what the
                    # throughput ratio would be with each app given the same CPU, so less moved
                    # by other load on a shared machine during one app's round.
                    ratios[key + "_cpu"] = anchor["cpu"]["server_ms_per_request"] / desk["cpu"]["server_ms_per_request"]
            results["ratios"][connections] = ratios
    output = RESULTS / f"signal_intake-{args.shape}.json"
    output.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    print(f"\nwritten: {output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
