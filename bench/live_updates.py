"""Live updates on the signals page: signal POST -> its row visible in a connected page.

Starts a throwaway embedded desk (`rundesk`: uvicorn, the in-process worker and the in-memory
channel layer, on SQLite; desk.livedesk), opens the signals page in a real headless Chromium
as a logged-in viewer, and posts N signals one after another through the API. Each signal is
timed inside the page, on the page's own clock:

  - post:  the API's 201 answer,
  - event: the signal_created event on a second, bare WebSocket to /ws/signals in the same page
           (the baseline: what any socket client gets, before the desk does anything with it),
  - row:   the row in the table (the desk's script fetched the server-rendered row and put it in).

Prints p50/p95/p99/max of each, and the ratio of the row's p95 to the event's p95.

    make bench-live                 (or: .venv/bin/python bench/live_updates.py --signals 200)
    .venv/bin/python bench/live_updates.py --production    (uvicorn workers, PostgreSQL, Redis)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from playwright.sync_api import sync_playwright

from desk.livedesk import LiveDesk, launch_chromium, login

# Runs in the page: post one signal, time the answer, the bare socket's event and the row.
MEASURE = """
async ([apiKey, n]) => {
  const body = JSON.stringify({symbol: "BTC/USDT", side: n % 2 ? "SELL" : "BUY", suggest_price: String(65000 + n),
                               suggest_qty: "0.01", strategy_name: "bench_live", reason: "bench " + n});
  const tbody = document.getElementById("signal-rows");
  const t0 = performance.now();
  let id = null, rowAt = null, eventAt = null;
  const seenRows = new Map();
  const observer = new MutationObserver(() => {
    for (const row of tbody.querySelectorAll("tr[data-id]")) {
      if (!seenRows.has(row.dataset.id)) seenRows.set(row.dataset.id, performance.now());
    }
  });
  observer.observe(tbody, {childList: true});
  const answer = await fetch("/api/signals", {method: "POST", body,
    headers: {"Content-Type": "application/json", "X-API-KEY": apiKey}});
  const postAt = performance.now();
  id = String((await answer.json()).id);
  const deadline = performance.now() + 10000;
  while ((rowAt = seenRows.get(id) ?? null) === null || (eventAt = window.__benchEvents.get(id) ?? null) === null) {
    if (performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  observer.disconnect();
  return {status: answer.status, post: postAt - t0, event: eventAt && eventAt - t0, row: rowAt && rowAt - t0};
}
"""

BARE_SOCKET = """
() => new Promise((resolve) => {
  window.__benchEvents = new Map();
  const ws = new WebSocket("ws://" + location.host + "/ws/signals");
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "signal_created") window.__benchEvents.set(String(event.data.id), performance.now());
  };
  ws.onopen = () => resolve(true);
})
"""


POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DATABASE = "tradedesk_bench_live"


def production_env() -> dict[str, str]:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return {"DATABASE_URL": f"{POSTGRES}/{DATABASE}", "REDIS_URL": REDIS}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:<6} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms   "
        f"p99 {percentile(values, 0.99):7.1f} ms   max {max(values):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=200, help="how many signals to time (at least 100)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between two signals")
    parser.add_argument(
        "--production",
        action="store_true",
        help="serve as `make web` does: uvicorn with 2 workers, PostgreSQL and the Redis channel layer "
        f"(BENCH_POSTGRES_URL, default {POSTGRES}; BENCH_REDIS_URL, default {REDIS}); "
        f"drops and recreates the database {DATABASE}",
    )
    args = parser.parse_args()
    env, workers, shape = {}, 0, "embedded desk (rundesk, SQLite, in-memory layer)"
    if args.production:
        env, workers = production_env(), 2
        shape = "production shape (uvicorn --workers 2, PostgreSQL, Redis channel layer)"
    with (
        tempfile.TemporaryDirectory() as tmp,
        LiveDesk(Path(tmp), env=env, web_workers=workers) as desk,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        login(page, desk, "viewer")
        page.wait_for_selector("#live-status.live-up")
        page.evaluate(BARE_SOCKET)
        for n in range(10):  # warm-up, not counted: first requests, template and query caches
            page.evaluate(MEASURE, [desk.api_key, n])
        samples = []
        for n in range(args.signals):
            result = page.evaluate(MEASURE, [desk.api_key, 100 + n])
            if result["status"] != 201 or result["row"] is None or result["event"] is None:
                raise SystemExit(f"signal {n}: no row or event within 10 s: {result}")
            samples.append(result)
            time.sleep(args.gap)
        browser.close()
    posts = [s["post"] for s in samples]
    events = [s["event"] for s in samples]
    rows = [s["row"] for s in samples]
    print(f"live updates: {len(samples)} signals, {shape}, Chromium")
    print(summary("post", posts))
    print(summary("event", events))
    print(summary("row", rows))
    ratio = percentile(rows, 0.95) / percentile(events, 0.95)
    print(f"row p95 / bare-socket event p95 = {ratio:.2f}  (target: row p95 <= 250 ms)")


if __name__ == "__main__":
    main()
