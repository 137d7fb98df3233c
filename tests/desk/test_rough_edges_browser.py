"""The order form's rough edges around expiry, in a real Chromium against a live desk whose
signals expire after 4 s: the expiry line says "Expired" (not "Expires in expired"), and a
confirm forced past it is refused with Confirm kept off and the reason shown."""

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from desk.livedesk import LiveDesk, launch_chromium, login


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the desk's browser tests (apt-get install chromium; .ci/run does)")
    env = {"SIGNAL_MAX_AGE": "4", "SIGNAL_EXPIRY_EVERY": "1"}
    with LiveDesk(tmp_path_factory.mktemp("expiring-desk"), env=env) as running:
        yield running


@pytest.fixture(scope="module")
def browser(desk):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def test_an_expired_form_says_expired_and_a_forced_confirm_keeps_confirm_off(browser, desk):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, desk, "trader")
    expect(page.locator("#live-status")).to_have_text("live")
    signal = desk.post_signal()
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    line = page.locator("#modal-body .summary .expiry")
    expect(line).to_contain_text("Expires in")
    expect(line).to_have_text("Expired: the desk refuses orders for it now.", timeout=8000)
    expect(page.locator("#modal-body")).not_to_contain_text("Expires in expired")
    expect(page.locator("#order-confirm")).to_be_disabled()
    # Forced past the page's guard (the button re-enabled by hand): the desk refuses, and the
    # form it answers with keeps Confirm off and says why instead of dropping the expiry line.
    expect(page.locator(f"#signal-{signal['id']}")).to_have_count(0, timeout=8000)  # canceled by beat
    page.evaluate("document.getElementById('order-confirm').disabled = false")
    page.click("#order-confirm")
    expect(page.locator("#order-error")).to_contain_text("CANCELED")
    expect(page.locator("[data-testid=order-closed]")).to_contain_text(f"Signal #{signal['id']} is CANCELED")
    expect(page.locator("#order-confirm")).to_be_disabled()
    assert desk.orders_for(signal["id"], desk.token("trader")) == []
    context.close()
