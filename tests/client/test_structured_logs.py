"""Structured logs: JSON lines with request, order and signal ids; secrets never in them."""

import json
import logging
import os
import subprocess
import sys

import httpx
import pytest
from django.conf import settings

from tradedesk import logging as logs
from tradedesk.logging import (
    REDACTED,
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    RedactFilter,
    bind_log_context,
    log_context,
)


def format_record(formatter, message: str, *args, **extra) -> str:
    record = logging.getLogger("tests.logs").makeRecord("tests.logs", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    ContextFilter().filter(record)
    RedactFilter().filter(record)
    return formatter.format(record)


def test_a_json_line_carries_the_context_ids_and_the_extras():
    with log_context(request_id="req-1", order_id=7):
        bind_log_context(signal_id=3)
        line = json.loads(format_record(JsonFormatter(), "order %s placed", 7, duration_ms=12.5))
    assert line["message"] == "order 7 placed" and line["level"] == "INFO" and line["logger"] == "tests.logs"
    assert (line["request_id"], line["order_id"], line["signal_id"], line["duration_ms"]) == ("req-1", 7, 3, 12.5)
    assert line["time"].endswith("+00:00")
    # The context ends with its block.
    assert "order_id" not in json.loads(format_record(JsonFormatter(), "later"))


def test_an_exception_is_one_json_line_with_its_traceback():
    try:
        raise ValueError("boom with password=hunter2")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert "ValueError" in line["exc"] and "hunter2" not in line["exc"]


def test_the_plain_format_shows_the_ids_in_brackets():
    with log_context(request_id="req-9", order_id=5):
        text = format_record(PlainFormatter(), "order %s placed", 5)
    assert text.endswith("INFO tests.logs [request_id=req-9 order_id=5] order 5 placed")


@pytest.mark.parametrize(
    ("message", "args", "secret"),
    [
        ("login with password=%s", ("hunter2-pass",), "hunter2-pass"),
        ("headers %s", ({"X-API-KEY": "abcd1234.k3y", "Accept": "json"},), "abcd1234.k3y"),
        ("sent %s", ({"body": {"totp_secret": "JBSWY3DPEHPK3PXP"}},), "JBSWY3DPEHPK3PXP"),
        ("call with Authorization: Bearer %s", ("tok3n-value-12345",), "tok3n-value-12345"),
        ('json {"api_secret": "%s"}', ("s3cr3t-value",), "s3cr3t-value"),
        ("GET /x?api_key=%s&page=2", ("qs-secret-1",), "qs-secret-1"),
        ("key %s was used", ("AbCdEfGh.0123456789abcdefghijABCDEFGHIJ01",), "0123456789abcdefghijABCDEFGHIJ01"),
        ("cookie: sessionid=%s", ("sess-value-9",), "sess-value-9"),
    ],
)
def test_obvious_secrets_are_masked(message, args, secret):
    text = format_record(JsonFormatter(), message, *args)
    assert secret not in text and REDACTED in text


def _redact_every_pattern(text: str) -> str:
    # redact_text without its shortcuts: every pattern on every text.
    text = logs._BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = logs._KEY_SHAPE.sub(REDACTED, text)
    return logs._ASSIGNMENT.sub(lambda m: f"{m.group('name')}{m.group('sep')}{REDACTED}", text)


@pytest.mark.parametrize(
    "text",
    [
        "POST /api/signals 201",
        "/api/signals",
        "Authorization: Bearer abcdefgh12345",
        "BASIC dXNlcjpwYXNzd29yZA==",
        "Baſic dXNlcjpwYXNzd29yZA==",
        "ıbearer abcdefghijkl and token=x",
        "key AbCdEfGh.0123456789abcdefghijABCDEFGHIJ01 used",
        "api_key=qs-secret-1&page=2",
        '{"password": "hunter2"}',
        "signal 5 created (BUY 0.5 BTC/USDT)",
    ],
)
def test_the_redaction_shortcuts_mask_exactly_what_every_pattern_would(text):
    assert logs.redact_text(text) == _redact_every_pattern(text)


def test_secret_extras_are_masked_and_ordinary_text_is_kept():
    text = format_record(JsonFormatter(), "order 5 passed risk checks: qty 0.1", web_password="pw-123456", symbol="BTC")
    line = json.loads(text)
    assert line["web_password"] == REDACTED and line["symbol"] == "BTC"
    assert line["message"] == "order 5 passed risk checks: qty 0.1"


@pytest.mark.django_db
def test_every_answer_has_a_request_id_and_the_lines_of_that_request_carry_it(json_logs, strategy):
    response = strategy.post_signal(symbol="nope")
    generated = response["X-Request-ID"]
    assert len(generated) == 32
    body = {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1", "strategy_name": "s"}
    response = strategy.client.post("/api/signals", body, format="json", HTTP_X_REQUEST_ID="caller-id-42")
    assert response.status_code == 201 and response["X-Request-ID"] == "caller-id-42"
    signal_id = response.json()["id"]
    lines = json_logs.lines()
    created = [line for line in lines if line["message"].startswith(f"signal {signal_id} created")]
    assert created and created[0]["request_id"] == "caller-id-42" and created[0]["signal_id"] == signal_id
    requests = [line for line in lines if line["logger"] == "tradedesk.request"]
    assert [(r["request_id"], r["status"], r["method"]) for r in requests] == [
        (generated, 400, "POST"),
        ("caller-id-42", 201, "POST"),
    ]
    # A caller's id that is not plain text is replaced, not echoed.
    bad = strategy.client.post("/api/signals", body, format="json", HTTP_X_REQUEST_ID="bad id;")
    assert len(bad["X-Request-ID"]) == 32
    # The 400 is logged once, by the request line above (django.request adds no second copy of it).
    assert [line for line in lines if line["logger"] == "django.request"] == []


@pytest.mark.django_db
def test_at_info_a_new_signal_is_one_line_the_requests_with_the_signal_and_request_ids(json_logs, strategy):
    logging.getLogger().setLevel(logging.INFO)
    body = {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "1", "strategy_name": "s"}
    response = strategy.client.post("/api/signals", body, format="json", HTTP_X_REQUEST_ID="caller-id-7")
    assert response.status_code == 201
    lines = [line for line in json_logs.lines() if line["level"] != "DEBUG"]
    assert [(line["logger"], line["message"]) for line in lines] == [("tradedesk.request", "POST /api/signals 201")]
    assert (lines[0]["request_id"], lines[0]["signal_id"]) == ("caller-id-7", response.json()["id"])


def test_log_format_is_json_by_default_with_debug_off_and_plain_with_debug_on(tmp_path):
    code = (
        "import django, logging; django.setup(); from django.conf import settings; print(settings.LOG_FORMAT); "
        "logging.getLogger('probe').warning('hello password=%s', 'never-shown')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="tradedesk.settings", VAR_DIR=str(tmp_path), SECRET_KEY="k" * 50, DEBUG="false")

    def run(**extra) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], env={**env, **extra}, cwd=settings.BASE_DIR, capture_output=True, text=True
        )

    production = run()
    assert production.stdout.strip() == "json", production.stderr
    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["message"]) == ("probe", f"hello password={REDACTED}")
    development = run(DEBUG="true")
    assert development.stdout.strip() == "plain" and "WARNING probe hello password=" in development.stderr
    bad = run(LOG_FORMAT="xml")
    assert bad.returncode != 0 and "LOG_FORMAT must be json or plain" in bad.stderr


def test_workers_and_beat_log_at_log_level_whatever_celerys_loglevel_says(tmp_path):
    """`celery worker --loglevel INFO` (our commands) set the root logger to INFO over LOG_LEVEL."""
    code = (
        "import logging; from tradedesk.celery import app; import django; django.setup(); "
        "app.log.setup_logging_subsystem(loglevel='INFO'); "  # what `celery worker --loglevel INFO` runs
        "print(logging.getLevelName(logging.getLogger().level)); "
        "logging.getLogger('orders.services').info('an info line'); "
        "logging.getLogger('orders.services').warning('a warning line')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DEBUG", "LOG_LEVEL")}
    env.update(DJANGO_SETTINGS_MODULE="tradedesk.settings", VAR_DIR=str(tmp_path), SECRET_KEY="k" * 50, DEBUG="false")

    def run(**extra) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], env={**env, **extra}, cwd=settings.BASE_DIR, capture_output=True, text=True
        )

    quiet = run(LOG_LEVEL="WARNING")
    assert quiet.stdout.strip() == "WARNING", quiet.stderr
    messages = [json.loads(line)["message"] for line in quiet.stderr.splitlines() if line.startswith("{")]
    assert messages == ["a warning line"]
    default = run()
    assert default.stdout.strip() == "INFO", default.stderr
    assert "an info line" in default.stderr and default.stderr.count('"logger": "orders.services"') == 2


def test_httpx_request_lines_are_left_out_unless_log_level_is_debug(settings, json_logs):
    """Each paper-connector call and webhook was a line from httpx beside the desk's own."""
    with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200))) as client:
        client.get("http://venue.invalid/api/positions")
    assert [line for line in json_logs.lines() if line["logger"] == "httpx"] == []
    assert logging.getLogger("httpx").level == logging.WARNING and settings.LOG_LEVEL != "DEBUG"


@pytest.mark.django_db
def test_a_task_logs_with_its_task_id_and_the_order_it_works_on(json_logs, make_signal, make_order):
    from orders.tasks import place_order

    order = make_order(make_signal(), status="SUCCESS")
    result = place_order.apply(args=(order.pk,), task_id="task-123")
    assert result.successful()
    message = f"order {order.pk} is SUCCESS; nothing to place"
    (line,) = [line for line in json_logs.lines() if line["message"] == message]
    assert (line["task_id"], line["task"], line["order_id"]) == ("task-123", "orders.tasks.place_order", order.pk)
    assert line["signal_id"] == order.signal_id


def test_celerys_lines_for_the_routine_beat_tasks_are_left_out_but_not_their_failures(settings, json_logs):
    from celery import beat
    from celery.app import trace
    from celery.worker import strategy

    loggers = [logging.getLogger(name) for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)  # as in production (TASK_LOG_LEVEL = LOG_LEVEL)
    try:
        for name in ("following.tasks.sync_followers", "ops.tasks.heartbeat", "orders.tasks.place_order"):
            context = {"id": f"id-{name}", "name": name, "args": "()", "kwargs": "{}", "eta": None}
            strategy.logger.info(trace.LOG_RECEIVED, context, extra={"data": context})
            trace.info(trace.LOG_SUCCESS, {**context, "return_value": "None", "runtime": 0.01})
            beat.info("Scheduler: Sending due task %s (%s)", "entry", name)
        trace.logger.error(
            trace.LOG_FAILURE, {"id": "x", "name": "ops.tasks.heartbeat", "exc": "boom", "description": ""}
        )
        lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
        routine = [line for line in lines if "sync_followers" in line["message"] or "heartbeat" in line["message"]]
        assert [line["level"] for line in routine] == ["ERROR"]  # only the failure
        assert len([line for line in lines if "place_order" in line["message"]]) == 3
        settings.LOG_ROUTINE_TASKS = True
        beat.info("Scheduler: Sending due task %s (%s)", "entry", "ops.tasks.heartbeat")
        assert "Sending due task entry (ops.tasks.heartbeat)" in json_logs.getvalue()
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
