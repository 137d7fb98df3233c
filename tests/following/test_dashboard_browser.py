"""The follower's dashboard in a real Chromium against the live test server: it follows the
master's moves without a reload, and its Resolve button resumes following."""

import shutil
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect, sync_playwright

from desk.livedesk import launch_chromium
from following import services, sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page_as(live_server, settings, monkeypatch):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the dashboard's browser test (apt-get install chromium)")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on the test server
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr("following.views.REFRESH_SECONDS", 1)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)

        def open_as(user, path: str, viewport: dict | None = None):
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
            context = browser.new_context(viewport=viewport) if viewport else browser.new_context()
            context.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{live_server.url}{path}")
            return page

        yield open_as
        browser.close()


def test_the_dashboard_shows_the_followers_moves_live_and_resolves_errors(
    page_as, follower, follower_account, master_account, follow, trade
):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    page = page_as(follower, "/follow/")
    line = page.locator('[data-testid=positions] tr[data-symbol="BTC/USDT"]')
    expect(line.locator("[data-testid=own]")).to_have_text("0.1")
    page.evaluate("window.__sameDocument = true")

    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    expect(line.locator("[data-testid=expected]")).to_have_text("0.2")
    expect(line.locator("[data-testid=own]")).to_have_text("0.2")

    services.trade_error_record(settings_id=row.pk, error_type="INSUFFICIENT_BALANCE", message="top up first")
    expect(page.locator("[data-testid=follow-state]")).to_have_text("paused")
    page.locator("[data-testid=resolve]").click()
    expect(page.locator("[data-testid=follow-state]")).to_have_text("following")
    expect(page.locator("[data-testid=unresolved-errors]")).to_have_text("0")
    assert page.evaluate("window.__sameDocument") is True  # all without a reload
    row.refresh_from_db()
    assert row.is_active and row.follow_ratio == Decimal("0.1")


def test_the_dashboard_and_the_admin_page_fit_a_phone(
    page_as, follower, follower_account, master_account, follow, trade, desk_admin, settings
):
    """At 390 px nothing widens the page: the tables scroll inside their box, and the Resolve
    button of a long error is still reached and works."""
    settings.DRY_RUN_PRICES = {"BTC/USDT": Decimal("65000"), "ETH/USDT": Decimal("3200")}
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    trade(master_account, "BUY", "12.5", symbol="ETH/USDT")
    sync.follow_sync_cycle()
    services.trade_error_record(
        settings_id=row.pk,
        error_type="INSUFFICIENT_BALANCE",
        message="INSUFFICIENT_BALANCE: not enough USDT for this order (needs 40000.00, has 12.34)",
    )
    phone = {"width": 390, "height": 844}
    page = page_as(follower, "/follow/", viewport=phone)
    expect(page.locator('[data-testid=positions] tr[data-symbol="ETH/USDT"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("[data-testid=resolve]").click()
    expect(page.locator("[data-testid=follow-state]")).to_have_text("following")
    admin = page_as(desk_admin, "/follow/admin/", viewport=phone)
    expect(admin.locator('tr[data-follower="fred_follower"]')).to_be_visible()
    assert admin.evaluate("document.documentElement.scrollWidth") <= 390
