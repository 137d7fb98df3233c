"""The executor's quick click and fill (executor/browser/click.py) in a real Chromium: it presses a
button the page shows clickable at once, and for anything it cannot vouch for (covered, moving,
disabled, several matches, events landing elsewhere) it clicks nothing and leaves the click to
Playwright's own, which waits; a fill types over what a plain text field held, and leaves any
other field to Playwright's fill."""

import shutil

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from desk.livedesk import launch_chromium
from executor.browser import click
from executor.browser.click import ARM_JS, GUARD, quick_click, quick_fill

BUTTON = """<button id=go style="position:absolute; left:40px; top:40px; width:120px; height:40px"
  onclick="window.clicks = (window.clicks || 0) + 1">Go</button>"""
OVERLAY = """<div id=toast style="position:absolute; left:0; top:0; width:400px; height:200px"
  onclick="window.toastClicks = (window.toastClicks || 0) + 1">notice</div>"""


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the quick click tests (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.set_default_timeout(3_000)
    yield page
    page.close()


def clicks(page, name: str = "clicks") -> int:
    return page.evaluate(f"window.{name} || 0")


def test_it_presses_a_visible_still_button_with_real_mouse_events(page):
    page.set_content(BUTTON + "<script>addEventListener('mousedown', e => window.trusted = e.isTrusted)</script>")
    assert quick_click(page, page.locator("#go")) is True
    assert clicks(page) == 1
    assert page.evaluate("window.trusted") is True  # a real press, not a synthetic event


def test_it_clicks_nothing_when_a_notice_covers_the_button(page):
    page.set_content(BUTTON + OVERLAY)
    assert quick_click(page, page.locator("#go")) is False
    assert clicks(page) == 0
    assert clicks(page, "toastClicks") == 0


def test_it_clicks_nothing_while_the_button_is_animated(page):
    page.set_content(
        "<style>@keyframes slide { from { transform: translateY(-30px) } to { transform: none } }"
        " #box { animation: slide 5s linear }</style><div id=box>" + BUTTON + "</div>"
    )
    assert page.locator("#go").evaluate_all(ARM_JS, GUARD) == "animating"
    assert quick_click(page, page.locator("#go")) is False
    assert clicks(page) == 0


def test_it_clicks_nothing_on_a_disabled_or_hidden_button(page):
    page.set_content(BUTTON.replace("<button", "<button disabled"))
    assert quick_click(page, page.locator("#go")) is False
    page.set_content(BUTTON.replace("position:absolute", "visibility:hidden; position:absolute"))
    assert quick_click(page, page.locator("#go")) is False
    assert clicks(page) == 0


def test_it_leaves_a_locator_matching_several_elements_to_playwright(page):
    page.set_content(BUTTON + BUTTON.replace("left:40px", "left:240px"))
    assert page.locator("#go").evaluate_all(ARM_JS, GUARD) == "2 matches"
    assert quick_click(page, page.locator("#go")) is False
    assert clicks(page) == 0


def test_it_leaves_a_button_outside_the_viewport_to_playwright(page):
    page.set_content(BUTTON.replace("top:40px", "top:4000px"))
    assert page.locator("#go").evaluate_all(ARM_JS, GUARD) == "outside the viewport"
    assert quick_click(page, page.locator("#go")) is False


def test_the_guard_cancels_the_press_when_something_else_is_hit_after_the_check(page, monkeypatch):
    page.set_content(BUTTON)
    real_press = click._press

    def press_after_a_notice_came(page, x, y):  # the notice comes between the check and the press
        page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", OVERLAY)
        real_press(page, x, y)

    monkeypatch.setattr(click, "_press", press_after_a_notice_came)
    assert quick_click(page, page.locator("#go")) is False
    assert clicks(page) == 0
    assert clicks(page, "toastClicks") == 0  # the guard cancelled the events on the notice too
    assert page.evaluate(f"window.{GUARD} === undefined")  # the guard is gone after the click


def test_a_click_that_falls_back_is_done_by_playwright_once_the_button_is_free(page):
    page.set_content(BUTTON + OVERLAY + "<script>setTimeout(() => toast.remove(), 300)</script>")
    button = page.locator("#go")
    if not quick_click(page, button):
        button.click()  # what the session does: Playwright waits until nothing covers it
    assert clicks(page) == 1


FIELD = """<input id=qty value="0.5"><script>
  qty.addEventListener('input', e => { window.inputs = (window.inputs || 0) + 1; window.trusted = e.isTrusted; });
</script>"""


def test_a_fill_types_over_what_the_field_held_as_typing_would(page):
    page.set_content(FIELD)
    assert quick_fill(page, page.locator("#qty"), "0.001") is True
    assert page.locator("#qty").input_value() == "0.001"
    assert clicks(page, "inputs") == 1  # one input event for the typed text, from the browser
    assert page.evaluate("window.trusted") is True


def test_a_fill_of_a_read_only_disabled_or_date_field_is_left_to_playwright(page):
    for field in ('<input id=qty readonly value="0.5">', "<input id=qty disabled>", "<input id=qty type=date>"):
        page.set_content(field)
        assert quick_fill(page, page.locator("#qty"), "0.001") is False
        assert page.locator("#qty").input_value() in ("0.5", "")


def test_a_number_field_refuses_text_in_the_quick_fill_too(page):
    page.set_content("<input id=qty type=number>")
    assert quick_fill(page, page.locator("#qty"), "abc") is False
    assert quick_fill(page, page.locator("#qty"), " 0.25 ") is True
    assert page.locator("#qty").input_value() == "0.25"


class NavigatingLocator:
    """A locator whose page is between two documents (the click before it started a navigation)."""

    def evaluate_all(self, script, argument):
        raise PlaywrightError("Execution context was destroyed, most likely because of a navigation")


def test_a_page_between_two_documents_is_left_to_playwright_with_nothing_done(page):
    assert quick_fill(page, NavigatingLocator(), "0.001") is False
    assert quick_click(page, NavigatingLocator()) is False
