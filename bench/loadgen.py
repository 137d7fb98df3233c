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
import json
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field

REQUEST_TIMEOUT = 10.0


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
        self.stats = Stats()

    def request(self, conn: int, n: int) -> bytes:
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(self.body)}",
            *(f"{name}: {value}" for name, value in self.headers.items()),
        ]
        if self.idempotency:
            # Unique per request, as a strategy that retries safely would send it.
            lines.append(f"Idempotency-Key: bench-{self.run_id}-{conn}-{n}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    async def connection(self, conn: int, window: tuple[float, float]) -> None:
        start, end = window
        reader = writer = None
        n = 0
        while time.perf_counter() < end:
            if writer is None:
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(self.host, self.port), REQUEST_TIMEOUT
                    )
                except (OSError, TimeoutError) as exc:
                    self.stats.error(f"connect: {exc!r}")
                    await asyncio.sleep(0.1)
                    continue
            payload = self.request(conn, n)
            n += 1
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
    begin = time.perf_counter()
    window = (begin + config["warmup"], begin + config["warmup"] + config["seconds"])
    progress = asyncio.create_task(_progress(client.stats, window, config.get("label", "load")))
    await asyncio.gather(*(client.connection(i, window) for i in range(config["concurrency"])))
    progress.cancel()
    stats = client.stats
    ordered = sorted(stats.latencies)
    ok = len(ordered)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": config["seconds"],
        "warmup_seconds": config["warmup"],
        "concurrency": config["concurrency"],
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
