# ruff: noqa: F811  (fixtures imported from the paper browser tests)
"""The order page stays the tab Chromium draws after the second tab has read a list (Paper Pro's
snapshot of the order history before each submit). Chromium draws only the front tab: behind it,
a page's animation frames come about a second apart, and every real click waits for two of them
(Playwright's "stable" check), 1.5 s per click. Tracing draws every tab for its screenshots, so
these tests run with it off, as production does by choice (BROWSER_TRACE=false)."""

import pytest

from executor.browser.connector import BrowserConnector
from executor.browser.host import host
from executor.connectors.base import ResultStatus
from tests.executor.test_browser_executor import browser_dirs  # noqa: F401
from tests.executor.test_browser_pro import pro, ticket  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# Which comes first on the page: its next animation frame, or a 600 ms timer (a tab behind the
# front one gets its frame after about a second; the front one within a few milliseconds).
NEXT_FRAME_OR_TIMER = """() => new Promise(done => {
  requestAnimationFrame(() => done("frame"));
  setTimeout(() => done("timer"), 600);
})"""


def test_the_order_page_is_drawn_after_the_second_tab_read_the_order_history(pro, settings):
    settings.BROWSER_TRACE = False
    paper, account = pro
    connector = BrowserConnector(account.config())
    for number in (1, 2):
        result = connector.place_order(ticket(f"td-pro-front-{number}"))
        assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
        session = host.sessions()[connector.key]
        assert session._side_page is not None  # the snapshot was read in the second tab
        assert host.call(connector.key, None, lambda s: s.page.evaluate(NEXT_FRAME_OR_TIMER), timeout=10) == "frame"
