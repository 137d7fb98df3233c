"""The price chart and dark mode in a real Chromium, against a live embedded desk whose venue is
the paper exchange it serves (through its API connector): the chart on the order form and the
signal details with the suggested price, the limits and the fills marked; the dark theme from
the system setting and from the toggle, remembered."""

import json
import shutil
import urllib.request
from decimal import Decimal

import pytest
from playwright.sync_api import expect, sync_playwright

from desk.livedesk import LiveDesk, launch_chromium, login


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the desk's browser tests (apt-get install chromium; .ci/run does)")
    with LiveDesk(tmp_path_factory.mktemp("chart-desk"), env={"EXECUTOR": "exchange"}) as running:
        admin = running.users["admin"][0]
        running.manage("follow_account", admin, "--balance", "USDT=10000000", "--base-url", f"{running.base}/paper")
        running.manage(
            "shell",
            "-c",
            "from executor.models import ExchangeAccount as A\n"
            "A.objects.filter(connector='api').update(is_desk_default=True)",
        )
        yield running


@pytest.fixture(scope="module")
def browser(desk):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def paper_price(desk, symbol: str = "BTC-USDT") -> Decimal:
    with urllib.request.urlopen(f"{desk.base}/paper/api/prices/{symbol}", timeout=10) as response:  # noqa: S310
        return Decimal(json.loads(response.read())["price"])


def test_the_chart_shows_the_venue_prices_with_the_suggestion_the_limit_and_the_fill(page, desk):
    limit = (paper_price(desk) * Decimal("1.05")).quantize(Decimal("0.01"))  # above the market: fills at once
    signal = desk.post_signal(suggest_price=str(limit), suggest_qty="0.01", strategy_name="chart_check")
    login(page, desk, "trader", "/signals/?strategy=chart_check")
    expect(page.locator("#live-status")).to_have_text("live")
    page.locator(f"#signal-{signal['id']} [data-action=order]").click()
    chart = page.locator("#modal-body [data-testid=price-chart]")
    expect(chart).to_have_attribute("data-state", "ready")
    assert int(chart.get_attribute("data-points")) > 100  # the last 15 minutes of the feed
    expect(chart).to_have_attribute("data-lines", "suggested")
    expect(chart).to_have_attribute("data-markers", "signal")
    expect(chart).to_have_attribute("data-typed-limit", str(limit).rstrip("0").rstrip("."))
    assert chart.locator("canvas").count() > 0
    page.fill("#order-price", str(limit + 1))
    expect(chart).to_have_attribute("data-typed-limit", str(limit + 1).rstrip("0").rstrip("."))
    page.fill("#order-price", str(limit))
    page.click("#order-confirm")
    expect(page.locator("#placed-status")).to_have_text("SUCCESS")

    page.keyboard.press("Escape")
    page.goto(f"{desk.base}/signals/?status=&strategy=chart_check")
    page.evaluate(
        "(id) => htmx.ajax('GET', `/signals/${id}/`, {target: '#modal-body', source: document.body})", signal["id"]
    )
    details = page.locator("#modal-body [data-testid=price-chart]")
    expect(details).to_have_attribute("data-state", "ready")
    markers = details.get_attribute("data-markers").split("|")
    assert markers[0] == "signal" and any(m.startswith("fill 0.01 @ ") for m in markers), markers
    assert details.get_attribute("data-lines").split("|")[0] == "suggested"
    assert any(line.startswith("limit #") for line in details.get_attribute("data-lines").split("|"))


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(browser, desk):
    dark = browser.new_context(color_scheme="dark")
    page = dark.new_page()
    login(page, desk, "viewer")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == "rgb(15, 20, 27)"
    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")  # the choice outlives the page
    assert background(page) == "rgb(246, 247, 249)"
    page.goto(f"{desk.base}/follow/")  # the copy-trading pages wear the same theme
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    dark.close()

    light = browser.new_context(color_scheme="light")
    page = light.new_page()
    login(page, desk, "viewer")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.goto(f"{desk.base}/orders/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == "rgb(15, 20, 27)"
    light.close()
