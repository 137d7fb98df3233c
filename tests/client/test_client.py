"""The strategy client against the live test server, directly and behind a flaky proxy.

The server is the real desk (live_server: real HTTP, the real intake with its idempotency);
only the network in between misbehaves.
"""

import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from signals.models import Signal
from tests.client.proxy import FlakyProxy, free_port
from tradedesk_client import (
    AuthenticationFailed,
    DeliveryFailed,
    Outbox,
    Retry,
    SignalRejected,
    TradeDeskClient,
)
from tradedesk_client.client import _retry_after

pytestmark = pytest.mark.django_db(transaction=True)

SIGNAL = {
    "symbol": "BTC/USDT",
    "side": "BUY",
    "suggest_price": Decimal("65000.5"),
    "suggest_qty": "0.1",
    "strategy_name": "mean_reversion_v1",
    "reason": "z-score below -2",
}


class Waits(list):
    """Records the client's backoff waits instead of sleeping; can run a hook on the n-th wait."""

    def __init__(self, on_wait=None) -> None:
        super().__init__()
        self.on_wait = on_wait

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.on_wait:
            self.on_wait(len(self))

    def clock(self) -> float:
        return sum(self)


def wait_until(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def server_port(live_server) -> int:
    return int(live_server.url.rsplit(":", 1)[1])


@pytest.fixture
def proxy(server_port):
    made = []

    def make(*script: str, start: bool = True, **options) -> FlakyProxy:
        flaky = FlakyProxy(server_port, list(script), **options)
        made.append(flaky)
        return flaky.start() if start else flaky

    yield make
    for flaky in made:
        flaky.stop()


def client(url: str, key: str, tmp_path: Path, waits=None, **options) -> TradeDeskClient:
    options.setdefault("retry", Retry(attempts=6, base_delay=0.2, max_delay=2.0, deadline=None))
    options.setdefault("timeout", 5.0)
    waits = waits if waits is not None else Waits()
    return TradeDeskClient(url, key, outbox=tmp_path / "outbox.jsonl", sleep=waits, clock=waits.clock, **options)


def test_a_signal_is_posted_and_its_id_returned(live_server, strategy, tmp_path):
    sent = client(live_server.url, strategy.key, tmp_path).post_signal(**SIGNAL, idempotency_key="first-1")
    signal = Signal.objects.get()
    assert (sent.id, sent.replayed, sent.attempts) == (signal.pk, False, 1)
    assert (signal.symbol, signal.side, signal.suggest_price, signal.suggest_qty) == (
        "BTC/USDT",
        "BUY",
        Decimal("65000.5"),
        Decimal("0.1"),
    )
    assert (signal.client_signal_id, signal.api_key_id, signal.status) == ("first-1", strategy.api_key.pk, "PENDING")


def test_lost_answers_are_retried_with_the_same_key_and_the_desk_keeps_one_signal(proxy, strategy, tmp_path):
    flaky = proxy("drop", "drop", "pass")
    waits = Waits()
    sent = client(flaky.url, strategy.key, tmp_path, waits).post_signal(**SIGNAL)
    # The desk processed all three requests; the first made the signal, the others replayed it.
    assert [seen.forwarded for seen in flaky.seen] == [True, True, True]
    assert len({seen.headers["idempotency-key"] for seen in flaky.seen}) == 1
    assert Signal.objects.count() == 1
    assert (sent.id, sent.replayed, sent.attempts) == (Signal.objects.get().pk, True, 3)
    assert len(waits) == 2
    assert not Outbox(tmp_path / "outbox.jsonl").pending()


def test_a_timed_out_answer_is_retried_without_a_duplicate(proxy, strategy, tmp_path):
    flaky = proxy("hang", hang_seconds=3)
    sent = client(flaky.url, strategy.key, tmp_path, timeout=0.5).post_signal(**SIGNAL)
    assert [seen.forwarded for seen in flaky.seen] == [True, True]
    assert Signal.objects.count() == 1 and sent.replayed


def test_a_retry_that_overtakes_the_original_request_still_makes_one_signal(proxy, strategy, tmp_path):
    flaky = proxy("late", hang_seconds=2.0)
    sent = client(flaky.url, strategy.key, tmp_path, timeout=0.3).post_signal(**SIGNAL)
    assert not sent.replayed  # the retry got there first and made the signal
    wait_until(lambda: flaky.seen[0].forwarded, "the late original to reach the desk")
    assert [seen.action for seen in flaky.seen] == ["late", "pass"]
    assert Signal.objects.count() == 1


def test_server_errors_and_429_are_retried_and_retry_after_is_honoured(proxy, strategy, tmp_path):
    flaky = proxy("503", "429:7", "500", "pass")
    waits = Waits()
    sent = client(flaky.url, strategy.key, tmp_path, waits).post_signal(**SIGNAL)
    assert [seen.action for seen in flaky.seen] == ["503", "429:7", "500", "pass"]
    assert waits[1] == 7.0  # what the server asked for, not the backoff
    assert 0.1 <= waits[0] <= 0.2 and 0.4 <= waits[2] <= 0.8  # exponential, with jitter
    assert (sent.replayed, sent.attempts, Signal.objects.count()) == (False, 4, 1)


def test_a_desk_that_is_down_for_a_while_gets_the_signal_once_it_is_back(proxy, strategy, tmp_path):
    flaky = proxy(start=False)  # nothing listens on its port yet: connection refused
    waits = Waits(on_wait=lambda n: n == 4 and flaky.start())
    sent = client(flaky.url, strategy.key, tmp_path, waits).post_signal(**SIGNAL)
    assert sent.attempts == 5 and not sent.replayed
    assert Signal.objects.count() == 1 and len(flaky.seen) == 1
    # Backoff doubles (0.2, 0.4, 0.8, 1.6 capped at 2.0), each wait between half and all of it.
    for wait, cap in zip(waits, [0.2, 0.4, 0.8, 1.6], strict=True):
        assert cap / 2 <= wait <= cap


def test_when_it_gives_up_the_signal_waits_in_the_outbox_and_resend_sends_it_once(
    proxy, live_server, strategy, tmp_path
):
    down = f"http://127.0.0.1:{free_port()}"
    retry = Retry(attempts=3, base_delay=0.1, deadline=None)
    with pytest.raises(DeliveryFailed) as failed:
        client(down, strategy.key, tmp_path, retry=retry).post_signal(**SIGNAL)
    assert failed.value.attempts == 3 and "ConnectionRefused" in failed.value.last_error
    assert failed.value.outbox == tmp_path / "outbox.jsonl"
    (pending,) = Outbox(tmp_path / "outbox.jsonl").pending()
    assert pending["key"] == failed.value.idempotency_key
    assert pending["body"]["suggest_price"] == "65000.5"
    assert Signal.objects.count() == 0

    report = client(live_server.url, strategy.key, tmp_path).resend()
    (sent,) = report.sent
    assert Signal.objects.get().pk == sent.id and Signal.objects.get().client_signal_id == pending["key"]
    assert client(live_server.url, strategy.key, tmp_path).resend().sent == []
    assert Signal.objects.count() == 1


def test_a_signal_the_desk_got_but_never_answered_is_not_duplicated_by_the_resend(
    proxy, live_server, strategy, tmp_path
):
    flaky = proxy("drop", repeat_last=True)
    with pytest.raises(DeliveryFailed):
        client(flaky.url, strategy.key, tmp_path, retry=Retry(attempts=3, base_delay=0.1)).post_signal(**SIGNAL)
    assert Signal.objects.count() == 1  # the desk has it; the strategy could not know
    report = client(live_server.url, strategy.key, tmp_path).resend()
    assert [sent.replayed for sent in report.sent] == [True]
    assert report.sent[0].id == Signal.objects.get().pk
    assert Signal.objects.count() == 1


def test_resend_from_the_command_line(live_server, strategy, tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    body = {**SIGNAL, "suggest_price": "65000.5"}
    outbox.add(key="cli-resend-1", body=body, error="ConnectionRefusedError")
    env = {**os.environ, "API_BASE_URL": live_server.url, "API_KEY": strategy.key}
    env["TRADEDESK_OUTBOX"] = str(outbox.path)
    env["PYTHONPATH"] = str(settings.BASE_DIR)

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "tradedesk_client", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)  # noqa: S603

    assert json.loads(run("pending").stdout)["key"] == "cli-resend-1"
    first = run("resend")
    signal = Signal.objects.get()
    assert first.returncode == 0 and f"sent cli-resend-1 -> signal {signal.pk}" in first.stdout
    second = run("resend")
    assert second.returncode == 0 and second.stdout == ""
    assert Signal.objects.count() == 1
    sent = run("send", "--symbol", "ETH/USDT", "--side", "SELL", "--qty", "1", "--strategy", "cli")
    assert sent.returncode == 0 and int(sent.stdout) == Signal.objects.get(symbol="ETH/USDT").pk
    assert strategy.key not in first.stdout + first.stderr + sent.stdout + sent.stderr


def test_the_command_line_names_a_missing_or_wrong_setting_without_a_traceback(tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    outbox.add(key="waiting-1", body=SIGNAL | {"suggest_price": "1"}, error="down")
    env = {k: v for k, v in os.environ.items() if k not in ("API_BASE_URL", "API_KEY", "TRADEDESK_TIMEOUT")}
    env.update(PYTHONPATH=str(settings.BASE_DIR), TRADEDESK_OUTBOX=str(outbox.path))

    def run(module: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", module, *args]
        return subprocess.run(command, env={**env, **extra}, capture_output=True, text=True, timeout=60)  # noqa: S603

    # Listing the outbox reads a local file: no desk, no key needed.
    listed = run("tradedesk_client", "pending")
    assert listed.returncode == 0 and json.loads(listed.stdout)["key"] == "waiting-1"
    sent = run("tradedesk_client", "send", "--symbol", "X/Y", "--side", "BUY", "--qty", "1", "--strategy", "s")
    assert sent.returncode == 2 and "base_url is required (API_BASE_URL" in sent.stderr
    assert "Traceback" not in sent.stderr
    timeout = run("tradedesk_client", "resend", API_BASE_URL="http://127.0.0.1:1", API_KEY="k", TRADEDESK_TIMEOUT="ten")
    assert timeout.returncode == 2 and "TRADEDESK_TIMEOUT must be seconds, not 'ten'" in timeout.stderr
    strategy = run("examples.strategy", API_BASE_URL="http://127.0.0.1:1")
    assert strategy.returncode == 2 and "api_key is required (API_KEY" in strategy.stderr
    assert "Traceback" not in strategy.stderr


def test_stale_signals_in_the_outbox_are_expired_not_sent(strategy, tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    outbox.add(key="stale-1", body=SIGNAL | {"suggest_price": "1"}, error="down")
    down = f"http://127.0.0.1:{free_port()}"
    report = client(down, strategy.key, tmp_path).resend(max_age=0)
    assert report.expired == ["stale-1"] and report.sent == []
    assert outbox.pending() == []


def test_a_validation_error_raises_the_desks_code_message_and_fields_without_retrying(proxy, strategy, tmp_path):
    flaky = proxy()
    with pytest.raises(SignalRejected) as rejected:
        client(flaky.url, strategy.key, tmp_path).post_signal(**{**SIGNAL, "suggest_qty": "-1", "symbol": "nope"})
    error = rejected.value
    assert (error.status, error.code) == (400, "invalid")
    # Both bad fields are named at once (the symbol's format is checked with the other fields).
    assert set(error.fields) == {"suggest_qty", "symbol"} and "suggest_qty" in error.message
    assert len(flaky.seen) == 1 and Signal.objects.count() == 0
    assert not (tmp_path / "outbox.jsonl").exists()


def test_a_bad_symbol_is_named_in_the_fields(live_server, strategy, tmp_path):
    with pytest.raises(SignalRejected) as rejected:
        client(live_server.url, strategy.key, tmp_path).post_signal(**{**SIGNAL, "symbol": "nope"})
    assert rejected.value.fields == {"symbol": ["must look like BASE/QUOTE, e.g. BTC/USDT"]}


def test_a_reused_key_with_another_body_is_a_permanent_refusal(live_server, strategy, tmp_path):
    desk = client(live_server.url, strategy.key, tmp_path)
    desk.post_signal(**SIGNAL, idempotency_key="reused-1")
    with pytest.raises(SignalRejected) as rejected:
        desk.post_signal(**{**SIGNAL, "suggest_qty": "0.2"}, idempotency_key="reused-1")
    assert (rejected.value.status, rejected.value.code) == (422, "idempotency_key_reused")
    assert "Idempotency-Key" in rejected.value.fields


def test_a_wrong_key_fails_at_once_and_never_reaches_the_outbox(proxy, strategy, tmp_path):
    flaky = proxy()
    with pytest.raises(AuthenticationFailed) as failed:
        client(flaky.url, "wrong.key", tmp_path).post_signal(**SIGNAL)
    assert failed.value.status == 401 and len(flaky.seen) == 1
    assert not (tmp_path / "outbox.jsonl").exists()


def test_the_api_key_is_never_shown(strategy, tmp_path, caplog):
    down = f"http://127.0.0.1:{free_port()}"
    desk = client(down, strategy.key, tmp_path, retry=Retry(attempts=2, base_delay=0.01))
    with pytest.raises(DeliveryFailed) as failed:
        desk.post_signal(**SIGNAL)
    shown = repr(desk) + str(failed.value) + caplog.text + (tmp_path / "outbox.jsonl").read_text()
    assert "outbox.jsonl" in shown and strategy.key not in shown


def test_the_client_gives_up_rather_than_wait_past_its_deadline(strategy, tmp_path):
    down = f"http://127.0.0.1:{free_port()}"
    retry = Retry(attempts=100, base_delay=10, max_delay=10, deadline=4)
    waits = Waits()
    with pytest.raises(DeliveryFailed) as failed:
        client(down, strategy.key, tmp_path, waits, retry=retry).post_signal(**SIGNAL)
    # The next wait (5 to 10s) would end past the 4s deadline: no wait, the outbox at once.
    assert failed.value.attempts == 1 and waits == []
    assert len(Outbox(tmp_path / "outbox.jsonl").pending()) == 1


def test_the_outbox_skips_a_torn_last_line(tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    outbox.add(key="a", body={"x": 1}, error="down")
    outbox.add(key="b", body={"x": 2}, error="down")
    outbox.mark("a", "sent", signal_id=1)
    with outbox.path.open("a") as handle:
        handle.write('{"event": "queued", "key": "c", "bo')
    assert [entry["key"] for entry in outbox.pending()] == ["b"]
    assert oct(outbox.path.stat().st_mode & 0o777) == "0o600"


def test_retry_after_is_read_as_seconds_or_an_http_date():
    assert _retry_after("3") == 3.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert 50 < _retry_after("Fri, 01 Jan 2100 00:00:00 GMT") and _retry_after("soon") is None


def test_the_client_needs_neither_django_nor_any_package_outside_the_standard_library():
    code = "import sys, tradedesk_client; assert not [m for m in ('django', 'httpx') if m in sys.modules]"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(settings.BASE_DIR)}
    subprocess.run([sys.executable, "-S", "-c", code], env=env, check=True, timeout=30)  # noqa: S603


def test_a_resend_while_the_desk_is_still_down_keeps_everything_for_the_next_one(strategy, tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    for key in ("down-1", "down-2"):
        outbox.add(key=key, body={**SIGNAL, "suggest_price": "1"}, error="down")
    waits = Waits()
    down = f"http://127.0.0.1:{free_port()}"
    report = client(down, strategy.key, tmp_path, waits, retry=Retry(attempts=2, base_delay=0.1)).resend()
    # One signal's retries showed the desk is still down; the second was not tried.
    assert report.still_pending == ["down-1", "down-2"] and len(waits) == 1
    assert [entry["key"] for entry in outbox.pending()] == ["down-1", "down-2"]
    assert "ConnectionRefused" in outbox.pending()[0]["last_error"]


def test_a_desk_down_for_a_second_in_real_time_gets_the_signal_once(proxy, strategy, tmp_path):
    flaky = proxy(start=False)
    threading.Timer(1.0, flaky.start).start()  # the desk comes up while the client backs off
    retry = Retry(attempts=20, base_delay=0.1, max_delay=0.4, deadline=30)
    desk = TradeDeskClient(flaky.url, strategy.key, outbox=tmp_path / "outbox.jsonl", retry=retry)
    sent = desk.post_signal(**SIGNAL)
    assert sent.attempts > 2 and Signal.objects.get().pk == sent.id
    assert len(flaky.seen) == 1 and not Outbox(tmp_path / "outbox.jsonl").pending()


@pytest.mark.services
def test_on_postgresql_lost_and_overtaken_answers_and_a_resend_make_one_signal_each(
    proxy, live_server, strategy, tmp_path
):
    flaky = proxy("drop", "drop", "late", "pass", hang_seconds=1.0)
    first = client(flaky.url, strategy.key, tmp_path, timeout=0.3).post_signal(**SIGNAL)
    second = client(flaky.url, strategy.key, tmp_path, timeout=0.3).post_signal(**SIGNAL)
    wait_until(lambda: all(seen.forwarded for seen in flaky.seen), "every request to reach the desk")
    # The first: two answers lost, one timed out (its request reached the desk late), then replayed.
    assert (first.replayed, first.attempts, second.replayed, len(flaky.seen)) == (True, 4, False, 5)
    dropping = proxy("drop", repeat_last=True)
    with pytest.raises(DeliveryFailed):
        client(dropping.url, strategy.key, tmp_path, retry=Retry(attempts=2, base_delay=0.1)).post_signal(**SIGNAL)
    (resent,) = client(live_server.url, strategy.key, tmp_path).resend().sent
    assert resent.replayed
    assert Signal.objects.count() == 3
    assert sorted(Signal.objects.values_list("pk", flat=True)) == sorted([first.id, second.id, resent.id])
