"""Structured logs: a per-request/per-task context of ids, a JSON formatter, and secret redaction.

`LOG_FORMAT=json` (the default with DEBUG off) writes one JSON object per line:
`{"time", "level", "logger", "message", "request_id"?, "order_id"?, "signal_id"?, ..., "exc"?}`.
`LOG_FORMAT=plain` writes the same as text for development.

The ids come from a context variable: the request middleware binds `request_id`, every Celery
task its `task_id` (signal handlers below), the order tasks and services `order_id` and
`signal_id`, and every line logged meanwhile (in this thread or task, whatever the logger)
carries them.

Secrets must never be logged in the first place; `RedactFilter` is the safety net for the
obvious ones (fields and headers named like password, secret, token, key, cookie, totp).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from celery import signals
from django.conf import settings

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "tradedesk_log_context", default=MappingProxyType({})
)

REDACTED = "[redacted]"

# Names of fields and headers whose values are secrets.
_NAMES = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|authorization|cookie|sessionid|csrf|totp|"
    r"credential|private[_-]?key|signature|fernet"
)
SECRET_NAME = re.compile(rf"({_NAMES}|\botp\b|^x-paper-key$)", re.IGNORECASE)
# `name=value`, `name: value`, `"name": "value"` in free text, for the names above.
_ASSIGNMENT = re.compile(
    # A name starts a token (not "#login-password", a CSS selector in a step's log line).
    rf"""(?<![\w#.-])(?P<name>["']?[\w-]*(?:{_NAMES})[\w-]*["']?|\botp\b|x-paper-key)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>(?:Bearer|Basic|Token)\s+[^\s"',;&}]+|"[^"]*"|'[^']*'|[^\s"',;&}]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
# The shape of the desk's and the paper exchange's API keys and tokens: prefix.secret.
_KEY_SHAPE = re.compile(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
# (uvicorn's `color_message` is its message with terminal colours: noise in a log file.)
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
# The context's ids, in the order they are printed.
CONTEXT_KEYS = ("request_id", "task", "task_id", "order_id", "signal_id")


def get_context() -> dict[str, Any]:
    return dict(_context.get())


def bind_log_context(**ids: Any) -> None:
    """Add ids to the current context (until the enclosing request or `log_context` ends)."""
    _context.set({**_context.get(), **{key: value for key, value in ids.items() if value is not None}})


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Ids for everything logged inside the block; the previous context comes back after it."""
    token = _context.set({**_context.get(), **{key: value for key, value in ids.items() if value is not None}})
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def new_log_context(**ids: Any) -> Iterator[None]:
    """Like `log_context`, but starting from no ids at all (a new unit of work on a reused thread)."""
    token = _context.set({key: value for key, value in ids.items() if value is not None})
    try:
        yield
    finally:
        _context.reset(token)


def push_context(**ids: Any) -> contextvars.Token:
    """For code that cannot use a `with` block (middleware): pair with `pop_context(token)`."""
    return _context.set({**_context.get(), **ids})


def pop_context(token: contextvars.Token) -> None:
    _context.reset(token)


def redact_text(text: str) -> str:
    # Each pattern runs only on text that could hold it (a scheme word, a dot, a `:` or `=`):
    # most lines (a request's "POST /api/signals 201", its path and method) hold none, and the
    # three scans were most of the cost of a log line on the intake's path (bench/README.md).
    # The scheme check is exact for ASCII only (IGNORECASE also matches "ı" and "ſ"), so any
    # other text is always scanned.
    lowered = text.lower()
    if not text.isascii() or "bearer" in lowered or "basic" in lowered:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if "." in text:
        text = _KEY_SHAPE.sub(REDACTED, text)
    if ":" in text or "=" in text:
        text = _ASSIGNMENT.sub(lambda m: f"{m.group('name')}{m.group('sep')}{REDACTED}", text)
    return text


@functools.lru_cache(maxsize=1024)
def is_secret_name(name: str) -> bool:
    """Whether a field or header named `name` holds a secret (the same few names every line)."""
    return SECRET_NAME.search(name) is not None


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of `value` with the values of secret-named keys replaced, and secrets in text masked."""
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and is_secret_name(key) else redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(item, depth + 1) for item in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


class ContextFilter(logging.Filter):
    """Puts the context's ids on every record (as attributes), so any formatter can show them."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        request_id = getattr(getattr(record, "request", None), "request_id", None)
        if request_id and "request_id" not in context:
            # django.request logs a 4xx/5xx after the middleware chain, with the request attached.
            context = {**context, "request_id": request_id}
        record.log_context = context
        for key in CONTEXT_KEYS:
            if not hasattr(record, key):
                setattr(record, key, context.get(key))
        return True


class RedactFilter(logging.Filter):
    """Masks secrets in the message, its arguments and `extra` fields before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's error path
            return True
        redacted = redact_text(message)
        if redacted != message or record.args:
            # Freeze the redacted text: arguments are not formatted again downstream.
            record.msg, record.args = redacted, None
        for key, value in list(vars(record).items()):
            if key in _RECORD_FIELDS or key == "log_context":
                continue
            if is_secret_name(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, Mapping | list | tuple | str):
                setattr(record, key, redact(value))
        return True


class RoutineTaskFilter(logging.Filter):
    """Drops Celery's own "received", "succeeded" and "Sending due task" lines below WARNING for
    the tasks beat runs every few seconds (CELERY_BEAT_SCHEDULE: follower sync, heartbeats,
    watchdog, expiry, reconciliation), which would otherwise be most of a production log. Their
    failures (ERROR) and their own log lines are kept, and so are the lines of every other task
    (order placement). LOG_ROUTINE_TASKS=true keeps them all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if getattr(settings, "LOG_ROUTINE_TASKS", True):
            return True
        return _task_name(record) not in _routine_tasks(settings)


def _routine_tasks(settings) -> set[str]:
    names = {entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values()}
    return names | {"ops.tasks.browser_heartbeat"}  # relayed by the worker with every heartbeat


def _task_name(record: logging.LogRecord) -> str | None:
    data = getattr(record, "data", None)
    if isinstance(data, Mapping) and data.get("name"):
        return str(data["name"])
    args = record.args
    if record.name == "celery.beat" and isinstance(args, tuple) and len(args) == 2:
        return str(args[1])  # "Scheduler: Sending due task %s (%s)", entry name, task name
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, ids, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = getattr(record, "log_context", None) or _context.get()
        entry.update({key: value for key, value in context.items() if value is not None})
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key != "log_context" and value is not None:
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """Text for development: `time LEVEL logger [request_id=... order_id=...] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        context = getattr(record, "log_context", None) or {}
        ids = " ".join(f"{key}={context[key]}" for key in CONTEXT_KEYS if context.get(key) is not None)
        text = super().formatMessage(record)
        if not ids:
            return text
        head, _, message = text.partition(f" {record.name} ")
        return f"{head} {record.name} [{ids}] {message}"

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return redact_text(super().formatException(ei))


_task_tokens: dict[str, contextvars.Token] = {}


def _task_started(task_id: str | None = None, task=None, **_: Any) -> None:
    if task_id:
        _task_tokens[task_id] = _context.set({"task_id": task_id, "task": getattr(task, "name", None)})


def _task_finished(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            _context.reset(token)
        except ValueError:  # set in another context (a pool that moved the task): nothing to undo
            pass


def _connect_celery() -> None:
    # This module is imported wherever Django configures logging, Celery workers included, so
    # every task's lines carry its id; a task starts with a clean context (threads are reused).
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="tradedesk.logging.prerun")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="tradedesk.logging.postrun")


_connect_celery()
