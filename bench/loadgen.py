"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next
request as soon as the previous answer is in, for a fixed time.

Run in its own process by signal_intake.py: it reads its settings as JSON on stdin, prints
progress on stderr and one JSON result on stdout. Stdlib asyncio on raw sockets (uvloop when
installed, it is a uvicorn dependency) keeps the client cheap: on a 2-core machine every
CPU-millisecond the client spends is one the server does not get, for the desk and the
baseline alike.

Latency is measured per request, from writing it to reading the last byte of the answer.
Only answers that arrive inside the measured window count (after the warm-up); non-2xx
answers, timeouts and broken connections count as errors.
"""

import asyncio
import itertools
import json
import os
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REQUEST_TIMEOUT = 10.0
BALANCE_ATTEMPTS = 50
Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    done_total: int = 0

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    if not chunked:
        return status, await reader.readexactly(length), close
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body, close
        body += chunk[:-2]


class Client:
    def __init__(self, config: dict) -> None:
        self.host = config["host"]
        self.port = config["port"]
        self.path = config["path"]
        self.headers = config["headers"]
        self.body = json.dumps(config["body"]).encode()
        self.idempotency = config.get("idempotency_keys", True)
        self.run_id = uuid.uuid4().hex[:12]
        self.sequence = itertools.count()
        self.stats = Stats()

    def request(self) -> bytes:
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(self.body)}",
            *(f"{name}: {value}" for name, value in self.headers.items()),
        ]
        if self.idempotency:
            # Unique per request, as a strategy that retries safely would send it.
            lines.append(f"Idempotency-Key: bench-{self.run_id}-{next(self.sequence)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    async def open(self) -> Conn:
        """A connection that has had one answer, so the server has accepted it (not measured)."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), REQUEST_TIMEOUT)
        writer.write(self.request())
        await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
        self.stats.done_total += 1
        return reader, writer

    async def open_balanced(self, count: int, workers: list[int]) -> tuple[list[Conn], dict[int, int]]:
        """Open `count` connections spread evenly over the server's worker processes.

        Workers share one listening socket and the first to wake may take every connection
        that is waiting: with a handful of keep-alive connections one worker could get them
        all and the other core would idle. So look up which worker holds each connection and
        reconnect from the busiest one until the split is even.
        """
        conns = [await self.open() for _ in range(count)]
        spread: dict[int, int] = {}
        for _ in range(BALANCE_ATTEMPTS):
            owners = _owners(self.port, [writer.get_extra_info("sockname")[1] for _, writer in conns], workers)
            by_worker: dict[int, list[int]] = {pid: [] for pid in workers}
            for index, pid in enumerate(owners):
                if pid in by_worker:
                    by_worker[pid].append(index)
            spread = {pid: len(indexes) for pid, indexes in by_worker.items()}
            if len(workers) < 2 or max(spread.values()) - min(spread.values()) <= 1:
                break
            index = max(by_worker.values(), key=len)[0]
            conns[index][1].close()
            conns[index] = await self.open()
        return conns, spread

    async def connection(self, conn: Conn, window: tuple[float, float]) -> None:
        start, end = window
        reader, writer = conn
        while time.perf_counter() < end:
            if writer is None:
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(self.host, self.port), REQUEST_TIMEOUT
                    )
                except (OSError, TimeoutError) as exc:
                    if start <= time.perf_counter() <= end:
                        self.stats.error(f"connect: {exc!r}")
                    await asyncio.sleep(0.1)
                    continue
            payload = self.request()
            sent = time.perf_counter()
            try:
                writer.write(payload)
                status, body, close = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                if start <= time.perf_counter() <= end:
                    self.stats.error(f"request: {exc!r}")
                writer.close()
                reader = writer = None
                continue
            done = time.perf_counter()
            self.stats.done_total += 1
            if close:
                writer.close()
                reader = writer = None
            if not start <= done <= end:
                continue
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                self.stats.latencies.append(done - sent)
            else:
                self.stats.error(f"HTTP {status}: {body.decode(errors='replace')}")
        if writer is not None:
            writer.close()


def _owners(port: int, client_ports: list[int], pids: list[int]) -> list[int | None]:
    """For each of our connections, the server process holding its far end (Linux /proc)."""
    inode_of: dict[str, int] = {}
    wanted = set(client_ports)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
            if local == port and remote in wanted:
                inode_of[f"socket:[{fields[9]}]"] = remote
    holder: dict[int, int] = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link in inode_of:
                holder[inode_of[link]] = pid
    return [holder.get(client_port) for client_port in client_ports]


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def _progress(stats: Stats, window: tuple[float, float], label: str) -> None:
    start, end = window
    last = 0
    while True:
        await asyncio.sleep(1.0)
        now = time.perf_counter()
        if now > end:
            return
        total = stats.done_total
        phase = "warm-up" if now < start else f"{now - start:4.0f}s/{end - start:.0f}s"
        print(f"  [{label}] {phase}  {total - last:5d} req/s  errors {stats.errors}", file=sys.stderr, flush=True)
        last = total


async def run(config: dict) -> dict:
    client = Client(config)
    conns, spread = await client.open_balanced(config["concurrency"], config.get("server_pids", []))
    begin = time.perf_counter()
    window = (begin + config["warmup"], begin + config["warmup"] + config["seconds"])
    progress = asyncio.create_task(_progress(client.stats, window, config.get("label", "load")))
    await asyncio.gather(*(client.connection(conn, window) for conn in conns))
    progress.cancel()
    stats = client.stats
    ordered = sorted(stats.latencies)
    ok = len(ordered)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": config["seconds"],
        "warmup_seconds": config["warmup"],
        "concurrency": config["concurrency"],
        "connections_per_worker": sorted(spread.values(), reverse=True),
        "ok": ok,
        "errors": stats.errors,
        "requests": ok + stats.errors,
        "requests_including_warmup": stats.done_total,
        "throughput_rps": ok / config["seconds"],
        "latency_ms": {
            "p50": percentile(ordered, 50) * 1000,
            "p95": percentile(ordered, 95) * 1000,
            "p99": percentile(ordered, 99) * 1000,
            "max": (ordered[-1] if ordered else float("nan")) * 1000,
            "mean": (sum(ordered) / ok if ok else float("nan")) * 1000,
        },
        "statuses": {str(code): count for code, count in sorted(stats.statuses.items())},
        "error_samples": stats.error_samples,
        "client_cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def main() -> None:
    config = json.load(sys.stdin)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(json.dumps(runner(run(config))))


if __name__ == "__main__":
    main()
