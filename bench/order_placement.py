"""Order placement through the warm browser session, against a bare Playwright script and a cold start.

    python bench/order_placement.py [--orders 100] [--memory-orders 1000] [--cold 3]

1. Starts the embedded desk (`manage.py rundesk`, SQLite in a temporary VAR_DIR) with the demo
   setup: desk orders go to the paper exchange through the browser executor.
2. Desk: for each order, posts a signal, then times POST /api/orders (the confirm) until the
   order's SUCCESS event arrives on /ws/orders. The first order (browser start and login) is
   reported apart.
3. Bare: a plain Playwright script, logged in once, does the same goto, fill, click and confirm on
   the same page and waits for the same success notice, per order.
4. Cold: launch a browser, log in, place one order, close; a few times.
5. Memory: the desk's Chromium processes' resident memory after warm-up and after
   --memory-orders orders.

Prints p50/p95 and the ratios; writes bench/results/order_placement.json. Also prints where the
desk's time goes per order (the split), from what the desk itself records: the order row's
timestamps (created at the confirm, placement started when the task picked it up, completed when
the result was recorded), the executor's step log (one JSON log line per order with each browser
step's time, the arm before the submit and the answer after it) and the event's arrival here.
With --profile, py-spy samples the desk process (all its threads) during the timed desk orders
into bench/results/ and the top functions are printed.

    python bench/order_placement.py --site pro [--orders 100]

The same against Paper Pro (/paper/pro/, a site built like a real exchange's): desk orders go to
a `pro` browser account on the demo's paper login, and the bare script does the pro profile's
steps (side tab, order-type dropdown, price, amount, Buy, Confirm in the dialog) on the same
page and waits for the submit's JSON answer and its toast. The desk also reads the order history
in a second tab before each submit (the snapshot that settles a lost answer); the bare script
does not. Writes bench/results/order_placement_pro.json. Target: desk p50 <= 1.3 x bare p50.

    python bench/order_placement.py --path ccxt [--orders 100]

The ccxt path instead: desk orders go to the demo's `paper (binance-api)` account (ccxt's binance
class against the paper exchange's Binance Spot dialect, same process), timed confirm -> SUCCESS
event as above, next to signed POST /api/v3/order requests sent directly with plain httpx (one
keep-alive connection, HMAC-SHA256 like Binance) to the same server, alternating in one run.
Writes bench/results/order_placement_ccxt.json. Target: desk p50 <= 1.5 x direct p50 + 10 ms.
"""

import argparse
import hashlib
import hmac
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyotp
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright
from websockets.sync.client import connect as ws_connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from executor.browser.chromium import LAUNCH_ARGS, chromium_rss  # noqa: E402  (the desk's own flags)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.50), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "mean_ms": round(statistics.fmean(values), 1),
        "max_ms": round(max(values), 1),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium() -> str:
    path = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE") or "/usr/bin/chromium"
    if not Path(path).exists():
        sys.exit("Chromium not found: apt-get install chromium, or set PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    return path


class Desk:
    """The embedded desk in a subprocess, and an HTTP client for it."""

    def __init__(self, var_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DEBUG": "true",
            "VAR_DIR": str(var_dir),
            "BROWSER_TRACE": "false",
            "RISK_MAX_DAILY_QTY": "100000",
            # Production's level and format: the executor's step log (INFO, one line per order)
            # is read back for the split.
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
        }
        self.cookies = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.process: subprocess.Popen | None = None
        self.var_dir = var_dir

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        if done.returncode:
            sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def start(self) -> dict[str, str]:
        self.manage("migrate", "--noinput")
        self.manage("setup_demo")
        self.manage("paper_set_price", "BTC-USDT", "65000")
        lines = (self.var_dir / "demo-credentials.txt").read_text().splitlines()
        creds = dict(line.split("=", 1) for line in lines if "=" in line)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rundesk", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=open(self.var_dir / "rundesk.log", "w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    sys.exit("the desk did not start; see rundesk.log in " + str(self.var_dir))
                time.sleep(0.2)
        creds["token"] = self.manage("create_user_token", creds["username"]).strip()
        return creds

    def stop(self, name: str) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        # The desk's own log outlives its temporary VAR_DIR: the step lines, and what went wrong.
        log_path = self.var_dir / "rundesk.log"
        if log_path.exists():
            out = ROOT / "bench" / "results"
            out.mkdir(parents=True, exist_ok=True)
            shutil.copy(log_path, out / f"{name}.rundesk.log")

    def call(self, method: str, path: str, body: dict, headers: dict) -> dict:
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name, value)
        with self.http.open(request, timeout=30) as response:
            return json.loads(response.read())

    def session_cookie(self, username: str, password: str) -> str:
        page = self.http.open(self.base + "/admin/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}
        ).encode()
        request = urllib.request.Request(self.base + "/admin/login/", data=form, method="POST")
        request.add_header("Referer", self.base + "/admin/login/")
        self.http.open(request, timeout=10)
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)

    def chromium_rss(self) -> int:
        return chromium_rss(self.process.pid)


def desk_orders(
    desk: Desk, creds: dict, count: int, socket_, label: str, spacing: float = 0.0, trace: list | None = None
) -> list[float]:
    """Confirm -> SUCCESS event per order, in ms; `trace` gets (order id, sent, event) wall times."""
    latencies = []
    for index in range(count):
        time.sleep(spacing)  # the time between two confirms (not timed)
        signal = desk.call(
            "POST",
            "/api/signals",
            {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "0.001", "strategy_name": "bench"},
            {"X-API-KEY": creds["api_key"]},
        )
        sent_at, started = time.time(), time.perf_counter()
        order = desk.call(
            "POST",
            "/api/orders",
            {"signal_id": signal["id"], "qty": "0.001", "order_type": "LIMIT", "price": "70000"},
            {"Authorization": f"Bearer {creds['token']}"},
        )
        while True:
            event = json.loads(socket_.recv(timeout=120))
            data = event.get("data", {})
            if data.get("id") == order["id"] and data.get("status") not in ("SUBMITTING", "UNKNOWN"):
                break
        if data["status"] != "SUCCESS":
            sys.exit(f"order {order['id']} ended {data['status']}: {data['error_code']} {data['error_message']}")
        latencies.append((time.perf_counter() - started) * 1000)
        if trace is not None:
            trace.append((order["id"], sent_at, time.time()))
        if (index + 1) % 50 == 0:
            log(f"{label}: {index + 1}/{count} orders, last {latencies[-1]:.0f} ms")
    return latencies


def bare_login(page, base: str, creds: dict) -> None:
    page.goto(f"{base}/paper/login")
    page.fill("#login-username", creds["paper_username"])
    page.fill("#login-password", creds["paper_password"])
    page.click("#login-submit")
    totp = pyotp.TOTP(creds["paper_totp_secret"])
    page.fill("#totp-code", totp.now())
    page.click("#totp-submit")
    try:
        page.wait_for_selector("[data-testid=logged-in-as]", timeout=5000)
    except PlaywrightTimeout:
        # The venue refuses a code twice: the desk's own login may have used this window's code.
        time.sleep(totp.interval - time.time() % totp.interval + 0.5)
        page.fill("#totp-code", totp.now())
        page.click("#totp-submit")
        page.wait_for_selector("[data-testid=logged-in-as]")


def bare_order(page, base: str, client_order_id: str) -> None:
    # Like the desk's profile (goto with reuse): load the trade page only when not already on it.
    if "/paper/trade/BTC-USDT" not in page.url:
        page.goto(f"{base}/paper/trade/BTC-USDT", wait_until="domcontentloaded")
    page.check("#side-buy")
    page.select_option("#order-type", "LIMIT")
    page.fill("#order-price", "70000")
    page.fill("#order-qty", "0.001")
    page.fill("#client-order-id", client_order_id)
    page.click("#place-order", no_wait_after=True)
    page.wait_for_selector("#confirm-dialog")
    page.click("#confirm-order", no_wait_after=True)
    page.wait_for_selector(f'[data-testid=order-success][data-client-order-id="{client_order_id}"]')


def bare_pro_login(page, base: str, creds: dict) -> None:
    page.goto(f"{base}/paper/pro/login")
    page.get_by_label("Username", exact=True).fill(creds["paper_username"])
    page.get_by_label("Password", exact=True).fill(creds["paper_password"])
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("button", name="Log out", exact=True).wait_for()


def bare_pro_order(page, base: str, client_order_id: str) -> None:
    """The pro profile's steps by hand (no client order id on this site: the argument is unused)."""
    if "/paper/pro/trade/BTC_USDT" not in page.url:
        page.goto(f"{base}/paper/pro/trade/BTC_USDT", wait_until="domcontentloaded")
    ticket = page.get_by_role("region", name="Place order")
    ticket.get_by_role("tab", name="Buy", exact=True).dispatch_event("click")  # under the last toast
    page.get_by_role("button", name="Order type").click()
    page.get_by_role("option", name="Limit", exact=True).click()
    page.get_by_label("Price", exact=True).fill("70000")
    page.get_by_label("Amount", exact=True).fill("0.001")
    page.get_by_role("button", name="Buy BTC", exact=True).click()
    with page.expect_response("**/api/order/place") as answer:
        page.get_by_role("dialog", name="Confirm order").get_by_role("button", name="Confirm", exact=True).click()
    number = answer.value.json()["data"]["orderId"]
    page.get_by_role("status").filter(has_text=f"#{number}").wait_for()


def bare_orders(base: str, creds: dict, count: int, site: str = "paper") -> list[float]:
    latencies = []
    login, order = (bare_pro_login, bare_pro_order) if site == "pro" else (bare_login, bare_order)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        login(page, base, creds)
        order(page, base, f"bare-warm-{time.time_ns()}")
        for index in range(count):
            started = time.perf_counter()
            order(page, base, f"bare-{time.time_ns()}-{index}")
            latencies.append((time.perf_counter() - started) * 1000)
        browser.close()
    return latencies


def cold_starts(base: str, creds: dict, count: int) -> list[float]:
    times = []
    with sync_playwright() as playwright:
        for index in range(count):
            started = time.perf_counter()
            browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=LAUNCH_ARGS)
            page = browser.new_page()
            bare_login(page, base, creds)
            bare_order(page, base, f"cold-{time.time_ns()}-{index}")
            times.append((time.perf_counter() - started) * 1000)
            browser.close()
    return times


def use_pro_account(desk: Desk) -> None:
    """Desk orders to a Paper Pro browser account on the demo's paper login."""
    code = (
        "from executor.models import ExchangeAccount as A; from executor.services import exchange_account_save; "
        "src = A.objects.get(is_desk_default=True, connector='browser'); s = src.get_secrets(); "
        f"pro = A(owner=src.owner, label='paper-pro (browser)', venue='pro', connector='browser', "
        f"base_url='{desk.base}/paper/pro', is_desk_default=True); "
        "exchange_account_save(account=pro, secrets={k: s[k] for k in ('web_username', 'web_password')})"
    )
    desk.manage("shell", "-c", code)


def use_ccxt_account(desk: Desk) -> None:
    """Desk orders to the demo's ccxt account instead of the browser one."""
    code = (
        "from executor.models import ExchangeAccount as A; "
        "A.objects.filter(is_desk_default=True).update(is_desk_default=False); "
        "A.objects.filter(connector='ccxt', label__endswith='(binance-api)').update(is_desk_default=True)"
    )
    desk.manage("shell", "-c", code)


def direct_orders(base: str, creds: dict, count: int) -> list[float]:
    """Signed POST /api/v3/order with plain httpx: what one request to the venue costs."""
    latencies = []
    key, secret = creds["binance_api_key"], creds["binance_api_secret"].encode()
    with httpx.Client(base_url=f"{base}/paper/binance", headers={"X-MBX-APIKEY": key}, timeout=30) as client:
        for index in range(count + 1):
            params = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": "70000",
                "newClientOrderId": f"direct-{time.time_ns()}-{index}",
                "newOrderRespType": "FULL",
                "timestamp": str(int(time.time() * 1000)),
            }
            body = urllib.parse.urlencode(params)
            body += "&signature=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
            started = time.perf_counter()
            response = client.post(
                "/api/v3/order", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or response.json().get("status") != "FILLED":
                sys.exit(f"direct order failed: {response.status_code} {response.text[:300]}")
            if index:  # the first opens the connection
                latencies.append(elapsed)
    return latencies


def ccxt_main(args) -> None:
    result: dict = {"machine": machine(), "settings": vars(args)}
    desk_times: list[float] = []
    direct_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="order-bench-ccxt-") as tmp:
        desk = Desk(Path(tmp))
        try:
            log("starting the embedded desk (migrate, demo setup, rundesk); desk orders through ccxt")
            creds = desk.start()
            use_ccxt_account(desk)
            cookie = desk.session_cookie(creds["username"], creds["password"])
            headers = {"Origin": desk.base, "Cookie": cookie}
            with ws_connect(desk.base.replace("http", "ws") + "/ws/orders", additional_headers=headers) as socket_:
                log("warm-up: 10 desk orders and 10 direct requests")
                desk_orders(desk, creds, 10, socket_, "warm-up", args.spacing)
                direct_orders(desk.base, creds, 10)
                log(f"timing {args.orders} desk orders and {args.orders} direct requests, alternating in blocks of 10")
                profiler = Profiler(desk.process.pid, "order_placement_ccxt") if args.profile else None
                trace: list = []
                for _ in range(max(1, args.orders // 10)):
                    desk_times += desk_orders(desk, creds, 10, socket_, "desk", args.spacing, trace=trace)
                    direct_times += direct_orders(desk.base, creds, 10)
                profile = profiler.stop() if profiler else []
        finally:
            desk.stop("order_placement_ccxt")
        parts = split(desk, trace)
    desk_p50, direct_p50 = percentile(desk_times, 0.5), percentile(direct_times, 0.5)
    result.update(
        {
            "desk_ccxt": summary(desk_times),
            "direct_httpx": summary(direct_times),
            "target_p50_ms": round(1.5 * direct_p50 + 10, 1),
            "met": desk_p50 <= 1.5 * direct_p50 + 10,
            "split": parts,
            "profile_top": profile,
            "load_average": os.getloadavg(),
        }
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "order_placement_ccxt.json").write_text(json.dumps(result, indent=2))
    print()
    box = result["machine"]
    print(f"machine: {box['nproc']} cores, {box['cpu']}, Python {box['python']}")
    print(f"{'path':<40}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, key in (
        ("desk via ccxt (confirm->SUCCESS event)", "desk_ccxt"),
        ("direct signed POST (httpx)", "direct_httpx"),
    ):
        row = result[key]
        print(f"{name:<40}{row['n']:>6}{row['p50_ms']:>10}{row['p95_ms']:>10}{row['max_ms']:>10}")
    print(
        f"target: desk p50 <= 1.5 x direct p50 + 10 ms = {result['target_p50_ms']} ms: "
        f"{'met' if result['met'] else 'NOT met'}"
    )
    print_split(parts)
    for line in profile:
        print("  " + line)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in result['load_average'])}")


def _wall(text: str | None) -> float | None:
    """A timestamp of the desk's SQLite row (UTC, naive) as seconds since the epoch."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() if text else None


def _steps_by_order(log_path: Path) -> dict[int, dict]:
    """The executor's step log lines (one per browser placement) by the desk's order id."""
    found = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if '"browser_steps"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("order_id") is not None:
            found[int(record["order_id"])] = record
    return found


def _recorded_by_order(log_path: Path) -> dict[int, float]:
    """When each order's result was committed: its "order N SUCCESS ..." line, logged by
    order_record_result after its transaction (JSON time, to the millisecond)."""
    found = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if '"orders.services"' not in line or " SUCCESS " not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        match = re.fullmatch(r"order (\d+) SUCCESS .*", record.get("message", ""))
        if match:
            found[int(match.group(1))] = datetime.fromisoformat(record["time"]).timestamp()
    return found


def split(desk: Desk, trace: list) -> dict:
    """Per component of confirm -> SUCCESS event, p50 and mean over the timed orders (ms), from the
    order rows' timestamps, the executor's step log and the event's arrival at this script."""
    rows = {}
    with sqlite3.connect(desk.var_dir / "tradedesk.sqlite3") as db:
        for order_id, created, started, completed in db.execute(
            "SELECT id, created_at, placement_started_at, completed_at FROM orders_order"
        ):
            rows[order_id] = (_wall(created), _wall(started), _wall(completed))
    steps = _steps_by_order(desk.var_dir / "rundesk.log")
    recorded = _recorded_by_order(desk.var_dir / "rundesk.log")
    parts: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        parts.setdefault(name, []).append(seconds * 1000)

    for order_id, sent, event in trace:
        created, started, completed = rows[order_id]
        add("1 confirm (API: risk, row, commit)", created - sent)
        add("2 queue wait (commit -> task picks it up)", started - created)
        flow = steps.get(order_id)
        if flow is None:  # no browser (the ccxt path): the venue call and the recording together
            add("3 venue call + recording", completed - started)
        else:
            flow_start = flow["browser_flow_started"]
            flow_end = flow_start + flow["browser_flow_ms"] / 1000
            add("3 task -> browser thread (connector, host queue)", flow_start - started)
            if flow.get("browser_called"):  # when the connector handed it over
                add("3a  of it: commit, account, connector", flow["browser_called"] - started)
                add("3b  of it: to the browser thread, until the flow starts", flow_start - flow["browser_called"])
            for name, ms in flow["browser_steps"]:
                label = "answer (submit click -> notice read)" if name == "answer" else name
                add(f"4 browser: {label}", ms / 1000)
            add("5 recording (browser done -> row committed)", completed - flow_end)
        add("6 event (row committed -> event received here)", event - completed)
        if order_id in recorded:  # completed_at is stamped before the transaction's other writes
            add("6a  of it: rest of the transaction + commit (log line)", recorded[order_id] - completed)
            add("6b  of it: delivery (log line -> event received here)", event - recorded[order_id])
    parts["total (confirm -> SUCCESS event)"] = [(event - sent) * 1000 for _, sent, event in trace]
    return {
        name: {"p50_ms": round(percentile(values, 0.5), 1), "mean_ms": round(statistics.fmean(values), 1)}
        for name, values in parts.items()
    }


def print_split(result: dict) -> None:
    print("where the desk's time goes per order (from its own records; components' p50 do not add up):")
    for name, row in result.items():
        print(f"  {name:<62}{row['p50_ms']:>9} p50{row['mean_ms']:>9} mean")


class Profiler:
    """py-spy sampling the desk process (every thread, not idle ones) while it runs."""

    def __init__(self, pid: int, name: str) -> None:
        self.path = ROOT / "bench" / "results" / f"{name}.pyspy.txt"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        # --nonblocking: the desk is not paused for each sample, so the timed orders stay honest.
        self.process = subprocess.Popen(
            [str(spy), "record", "--pid", str(pid), "--format", "raw", "--nonblocking", "-o", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # attached before the first timed order

    def stop(self) -> list[str]:
        self.process.send_signal(2)  # SIGINT: py-spy writes its file and exits
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return top_functions(self.path)


def top_functions(path: Path, count: int = 15) -> list[str]:
    """The functions with most samples on CPU: own (the frame running) and total (on the stack)."""
    if not path.exists():
        return [f"(no profile written: {path})"]
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        n = int(number)
        samples += n
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]  # the function, not its line
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + n
    lines = [f"{samples} samples (100 Hz, all threads of the desk process, idle excluded)", "own%  function"]
    lines += [f"{100 * n / samples:5.1f} {name}" for name, n in sorted(own.items(), key=lambda kv: -kv[1])[:count]]
    lines.append("total%  function (on the stack)")
    top = sorted(total.items(), key=lambda kv: -kv[1])
    lines += [f"{100 * n / samples:5.1f} {name}" for name, n in top[:count]]
    return lines


def machine() -> dict:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), platform.processor())
    now = datetime.now(UTC).isoformat()
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "date": now}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100, help="timed orders per path (desk and bare)")
    parser.add_argument("--memory-orders", type=int, default=1000, help="orders for the memory check (0 skips)")
    parser.add_argument("--cold", type=int, default=3, help="cold starts to time")
    parser.add_argument("--path", choices=["browser", "ccxt"], default="browser", help="which desk path to time")
    parser.add_argument("--site", choices=["paper", "pro"], default="paper", help="browser path: which test site")
    parser.add_argument(
        "--spacing",
        type=float,
        default=0.3,
        help="ccxt path: seconds between two desk confirms, not timed (ccxt's rate limiter spaces Binance "
        "requests by their weight, e.g. 200 ms before an account read; back to back, 0, times that wait too)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy CPU profile of the desk process during the timed desk orders"
    )
    args = parser.parse_args()
    if args.path == "ccxt":
        ccxt_main(args)
        return

    result: dict = {"machine": machine(), "settings": vars(args)}
    with tempfile.TemporaryDirectory(prefix="order-bench-") as tmp:
        desk = Desk(Path(tmp))
        try:
            log("starting the embedded desk (migrate, demo setup, rundesk)")
            creds = desk.start()
            if args.site == "pro":
                use_pro_account(desk)
            cookie = desk.session_cookie(creds["username"], creds["password"])
            headers = {"Origin": desk.base, "Cookie": cookie}
            # Unbounded queue: events pile up while the bare and cold-start rounds read nothing;
            # with websockets' default of 16 the client stopped reading the socket, answered no
            # ping, and either side closed it after 20 s.
            with ws_connect(desk.base.replace("http", "ws") + "/ws/orders", additional_headers=headers,
                            max_queue=None) as socket_:  # fmt: skip
                log(f"first desk order on the {args.site} site (browser start and login)")
                first = desk_orders(desk, creds, 1, socket_, "first")
                log("warm-up: 10 desk orders")
                desk_orders(desk, creds, 10, socket_, "warm-up")
                rss_warm = desk.chromium_rss()
                log(f"timing {args.orders} desk orders (confirm -> SUCCESS event)")
                profiler = Profiler(desk.process.pid, f"order_placement_{args.site}") if args.profile else None
                trace: list = []
                warm = desk_orders(desk, creds, args.orders, socket_, "desk", trace=trace)
                profile = profiler.stop() if profiler else []
                log(f"timing {args.orders} bare Playwright orders on the same page")
                bare = bare_orders(desk.base, creds, args.orders, args.site)
                log(f"timing {args.cold} cold starts (launch, login, order)")
                cold = cold_starts(desk.base, creds, args.cold) if args.site == "paper" else []
                rss_end, sustained = rss_warm, []
                if args.memory_orders:
                    remaining = max(0, args.memory_orders - args.orders - 11)
                    log(f"memory: {remaining} more desk orders ({args.memory_orders} in all)")
                    # Timed too: one after another for minutes, with beat's refreshes of the earlier
                    # orders on the same browser worker (the timed round is over in seconds).
                    sustained = desk_orders(desk, creds, remaining, socket_, "memory")
                    rss_end = desk.chromium_rss()
        finally:
            desk.stop(f"order_placement_{args.site}")
        parts = split(desk, trace)

    result.update(
        {
            "first_order_ms": round(first[0], 1),
            "desk_warm": summary(warm),
            "bare_playwright": summary(bare),
            "desk_sustained": summary(sustained) if sustained else None,
            "cold_start": summary(cold) if cold else None,
            "ratio_desk_to_bare_p50": round(percentile(warm, 0.5) / percentile(bare, 0.5), 2),
            "ratio_desk_to_bare_p95": round(percentile(warm, 0.95) / percentile(bare, 0.95), 2),
            "browser_rss_mb_after_warmup": round(rss_warm / 2**20, 1),
            "browser_rss_mb_at_end": round(rss_end / 2**20, 1),
            "browser_rss_growth_pct": round((rss_end / rss_warm - 1) * 100, 1) if rss_warm else None,
            "split": parts,
            "profile_top": profile,
            "load_average": os.getloadavg(),
        }
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = "order_placement.json" if args.site == "paper" else f"order_placement_{args.site}.json"
    (out / name).write_text(json.dumps(result, indent=2))

    print()
    box = result["machine"]
    print(f"machine: {box['nproc']} cores, {box['cpu']}, Python {box['python']}")
    print(f"{'path':<34}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, key in (
        ("desk, warm session (confirm->OK)", "desk_warm"),
        ("bare Playwright, same page", "bare_playwright"),
        ("cold start (launch+login+order)", "cold_start"),
        ("desk, the memory round's orders", "desk_sustained"),
    ):
        row = result[key]
        if row:
            print(f"{name:<34}{row['n']:>6}{row['p50_ms']:>10}{row['p95_ms']:>10}{row['max_ms']:>10}")
    print(f"first desk order after start: {result['first_order_ms']} ms")
    print(
        f"desk / bare: p50 x{result['ratio_desk_to_bare_p50']}, p95 x{result['ratio_desk_to_bare_p95']} "
        "(targets: desk p50 <= 150 ms, p95 <= 300 ms, desk p50 <= 1.3 x bare p50)"
    )
    print_split(parts)
    for line in profile:
        print("  " + line)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in result['load_average'])}")
    if args.memory_orders:
        print(
            f"browser memory: {result['browser_rss_mb_after_warmup']} MB after warm-up, "
            f"{result['browser_rss_mb_at_end']} MB after {args.memory_orders} orders "
            f"({result['browser_rss_growth_pct']:+}%; target < +20%)"
        )


if __name__ == "__main__":
    main()
