"""The example strategy: its rule, a run against the live test server, and `rundesk --strategy`."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal

import psutil
import pytest

from desk.livedesk import migrate_sqlite
from examples.strategy import MovingAverageCross, Options, PriceFeed, Strategy, parse
from executor.paper.services.prices import paper_price_set
from signals.models import Signal
from tests.test_embedded import free_port, manage
from tradedesk_client import Retry, TradeDeskClient


def feed(cross: MovingAverageCross, *prices: int) -> list[str | None]:
    return [cross.update(Decimal(price)) for price in prices]


def test_the_rule_buys_when_the_fast_average_crosses_above_and_sells_when_it_crosses_below():
    cross = MovingAverageCross(fast=2, slow=4)
    assert feed(cross, 100, 100, 100, 100) == [None] * 4  # filling the window, then flat
    assert feed(cross, 110) == ["BUY"]
    assert feed(cross, 111, 112) == [None, None]  # still above: no new signal
    assert feed(cross, 109) == [None]  # the averages meet (110.5): no side yet
    assert feed(cross, 100) == ["SELL"]


def test_the_rule_does_not_trade_on_start_up_nor_flap_inside_its_band():
    cross = MovingAverageCross(fast=2, slow=4, threshold=Decimal("0.01"))
    assert feed(cross, 100, 101, 102, 103) == [None] * 4  # already rising when it starts: no signal
    cross = MovingAverageCross(fast=2, slow=4, threshold=Decimal("0.01"))
    assert feed(cross, 100, 100, 100, 100, 101, 100, 101) == [None] * 7  # within 1%: noise
    assert feed(cross, 110) == ["BUY"]
    with pytest.raises(ValueError):
        MovingAverageCross(fast=5, slow=5)


def test_a_postponed_cross_is_reported_again_while_it_holds():
    cross = MovingAverageCross(fast=2, slow=4)
    assert feed(cross, 100, 100, 100, 100, 110) == [None] * 4 + ["BUY"]
    cross.postpone()  # e.g. the strategy's cooldown
    assert feed(cross, 111) == ["BUY"]
    assert feed(cross, 112) == [None]


def wait_for(condition, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("argv", "env", "error"),
    [
        (["--fast", "10", "--slow", "3"], {}, "the fast average (10) must be shorter than the slow one (3)"),
        (["--qty", "abc"], {}, "argument --qty: 'abc' is not a number (--qty or STRATEGY_QTY)"),
        (["--interval", "-1"], {}, "'-1' must be a number above 0 (--interval or STRATEGY_INTERVAL)"),
        (["--qty", "nan"], {}, "'nan' must be a number above 0"),
        ([], {"STRATEGY_FAST": "five"}, "argument --fast: 'five' is not a number (--fast or STRATEGY_FAST)"),
        ([], {"STRATEGY_SYMBOLS": " , "}, "no symbol to watch: --symbols or STRATEGY_SYMBOLS"),
    ],
)
def test_bad_options_or_variables_are_named_not_a_traceback(monkeypatch, capsys, argv, env, error):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        parse(argv)
    assert exited.value.code == 2
    assert error in capsys.readouterr().err


def test_options_come_from_the_environment_and_the_command_line(monkeypatch):
    monkeypatch.setenv("STRATEGY_SYMBOLS", "eth-usdt")
    monkeypatch.setenv("STRATEGY_QTY", "0.5")
    options = parse(["--fast", "3", "--slow", "10", "--cooldown", "0"])
    assert (options.symbols, options.qty, options.fast, options.slow, options.cooldown) == (
        ["ETH-USDT"],
        Decimal("0.5"),
        3,
        10,
        0.0,
    )


def test_the_strategy_reads_the_paper_price_feed_and_sends_one_signal_per_cross(
    live_server, strategy, paper_instruments, tmp_path
):
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    client = TradeDeskClient(live_server.url, strategy.key, outbox=tmp_path / "outbox.jsonl", retry=Retry(attempts=2))
    options = Options(symbols=["BTC-USDT"], interval=0.05, fast=2, slow=4, qty=Decimal("0.01"), cooldown=0)
    bot = Strategy(client, PriceFeed(f"{live_server.url}/paper"), options)
    runner = threading.Thread(target=bot.run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: bot.crosses["BTC-USDT"].ready, "the averages to fill")
        paper_price_set(symbol="BTC-USDT", price=Decimal("70000"))
        wait_for(lambda: bot.sent, "a signal")
        time.sleep(0.3)  # more polls at the new price: the same trend sends nothing more
        assert len(bot.sent) == 1
    finally:
        bot.stopping.set()
        runner.join(timeout=5)
    signal = Signal.objects.get()
    assert [signal.pk] == bot.sent and (signal.symbol, signal.side, signal.strategy_name) == (
        "BTC/USDT",
        "BUY",
        "ma_cross_v1",
    )
    assert (signal.suggest_price, signal.suggest_qty) == (70000, Decimal("0.01"))
    assert signal.api_key_id == strategy.api_key.pk
    assert "crossed above" in signal.reason and signal.client_signal_id.startswith("ma_cross_v1-BTC-USDT-BUY-")


def test_rundesk_with_strategy_brings_live_signals_and_stops_the_strategy_with_it(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "API_KEY")}
    env.update({"VAR_DIR": str(tmp_path), "DEBUG": "true", "LOG_FORMAT": "json"})
    env.update({"STRATEGY_SYMBOLS": "BTC-USDT", "STRATEGY_INTERVAL": "0.1", "STRATEGY_FAST": "2", "STRATEGY_SLOW": "4"})
    migrate_sqlite(env)  # once per test process, copied after
    manage(env, "setup_demo")
    manage(env, "paper_set_price", "BTC-USDT", "60000")
    creds = dict(line.split("=", 1) for line in (tmp_path / "demo-credentials.txt").read_text().splitlines())
    port = free_port()
    log_path = tmp_path / "rundesk.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "rundesk", "--port", str(port), "--strategy"],
            env=env,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "BTC-USDT: averages ready" in log_path.read_text(), "the strategy to start", timeout=60)
        (child,) = psutil.Process(process.pid).children()
        assert "examples.strategy" in " ".join(child.cmdline())
        manage(env, "paper_set_price", "BTC-USDT", "70000")

        def strategy_signals():
            request = urllib.request.Request(  # noqa: S310
                f"http://127.0.0.1:{port}/api/signals?strategy_name=ma_cross_v1",
                headers={"X-API-KEY": creds["api_key"], "X-Request-ID": "rundesk-test-1"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                assert response.headers["X-Request-ID"] == "rundesk-test-1"
                return json.loads(response.read())["results"]

        (signal,) = wait_for(strategy_signals, "the strategy's signal")
        assert (signal["side"], signal["symbol"], signal["status"]) == ("BUY", "BTC/USDT", "PENDING")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE
    # The desk's own lines are JSON with request ids; the strategy's are its own text.
    desk_lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    # At INFO a new signal is the request's one line, which carries the signal's id.
    requests = [line for line in desk_lines if line["message"] == "POST /api/signals 201"]
    created = [line for line in requests if line.get("signal_id") == signal["id"]]
    assert len(created) == 1 and created[0]["request_id"]
    assert creds["api_key"] not in log_path.read_text()
