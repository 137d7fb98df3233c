"""Shared by the client and log tests: a clean log context per test, and a JSON log capture."""

import io
import json
import logging

import pytest

from tradedesk.logging import JsonFormatter, new_log_context


@pytest.fixture(autouse=True)
def clean_log_context():
    # Services called directly by earlier tests bind ids to this thread's context.
    with new_log_context():
        yield


class Captured(io.StringIO):
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.getvalue().splitlines()]


@pytest.fixture
def json_logs():
    """Everything logged in this process, at DEBUG, through the console handler's filters, as JSON."""
    (console,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    captured = Captured()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    for configured in console.filters:
        handler.addFilter(configured)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)
