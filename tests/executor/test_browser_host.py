"""The browser thread runs each call in its caller's log context."""

from executor.browser.host import BrowserHost
from tradedesk.logging import get_context, log_context, new_log_context


def test_work_on_the_browser_thread_sees_the_callers_order_id():
    host = BrowserHost()
    try:
        with log_context(order_id=42, signal_id=7):
            seen = host.call(None, lambda: None, lambda _: get_context(), timeout=5)
        assert seen["order_id"] == 42 and seen["signal_id"] == 7
        with new_log_context(task_id="t-2"):
            seen = host.call(None, lambda: None, lambda _: get_context(), timeout=5)
        assert seen == {"task_id": "t-2"}
    finally:
        host.shutdown()
