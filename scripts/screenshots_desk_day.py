"""The README's screenshots of the trader's day: the order form with its price chart, a toast for a
failed order, and the signals page in dark mode (with a net view and a selection), from a real run.

Starts a throwaway embedded desk whose venue is the paper exchange it serves (through its API
connector, so the chart has the feed's real history), posts signals as a strategy would, and
saves docs/screenshots/order-form-chart.png, signal-chart.png, toasts.png and signals-dark.png.

    make screenshots        (or: .venv/bin/python scripts/screenshots_desk_day.py [--out DIR])
"""

import argparse
import json
import os
import sys
import tempfile
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from desk.livedesk import LiveDesk, launch_chromium, login  # noqa: E402


def paper_venue(desk: LiveDesk) -> None:
    """The admin's paper account, reached through the paper API, as the desk's venue."""
    admin = desk.users["admin"][0]
    desk.manage("follow_account", admin, "--balance", "USDT=10000000", "--base-url", f"{desk.base}/paper")
    desk.manage(
        "shell",
        "-c",
        "from executor.models import ExchangeAccount as A\n"
        "A.objects.filter(connector='api').update(is_desk_default=True)",
    )


def price(desk: LiveDesk, symbol: str) -> Decimal:
    with urllib.request.urlopen(f"{desk.base}/paper/api/prices/{symbol}", timeout=10) as response:  # noqa: S310
        return Decimal(json.loads(response.read())["price"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        LiveDesk(Path(tmp), env={"EXECUTOR": "exchange"}) as desk,
        sync_playwright() as playwright,
    ):
        paper_venue(desk)
        btc = price(desk, "BTC-USDT")
        token = desk.token("trader")
        auth = {"Authorization": f"Bearer {token}"}
        # A filled order earlier on, so the chart has a fill to mark.
        earlier = desk.post_signal(suggest_price=str((btc * Decimal("1.002")).quantize(Decimal("0.01"))),
                                   suggest_qty="0.05", strategy_name="mean_reversion_v1")  # fmt: skip
        desk.call("PATCH", f"/api/signals/{earlier['id']}", {"status": "ACCEPTED"}, auth)
        desk.call("POST", "/api/orders", {"signal_id": earlier["id"], "qty": "0.05", "order_type": "MARKET"}, auth)
        desk.post_signal(side="SELL", suggest_price=str((btc * Decimal("1.001")).quantize(Decimal("0.01"))),
                         suggest_qty="0.3", strategy_name="breakout_v2", reason="failed breakout")  # fmt: skip
        pending = desk.post_signal(side="BUY", suggest_price=str((btc * Decimal("0.999")).quantize(Decimal("0.01"))),
                         suggest_qty="0.8", strategy_name="momentum_v3", reason="trend filter turned long")  # fmt: skip
        browser = launch_chromium(playwright)

        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        login(page, desk, "trader")
        page.wait_for_selector("#live-status.live-up")
        chart = "#modal-body [data-testid=price-chart][data-state=ready]"
        page.click(f"#signal-{pending['id']} [data-action=order]")
        page.wait_for_selector(chart)
        page.screenshot(path=out / "order-form-chart.png")
        page.keyboard.press("Escape")
        page.evaluate(
            "(id) => htmx.ajax('GET', `/signals/${id}/`, {target: '#modal-body', source: document.body})", earlier["id"]
        )
        page.wait_for_selector(chart)
        page.screenshot(path=out / "signal-chart.png")
        page.keyboard.press("Escape")

        # Toasts: a new signal, then an order filled at the venue (the unread count in the header).
        desk.post_signal(symbol="ETH/USDT", side="SELL", suggest_price=None, suggest_qty="2",
                         strategy_name="breakout_v2", reason="range break")  # fmt: skip
        page.wait_for_selector(".toast-info")
        desk.call("PATCH", f"/api/signals/{pending['id']}", {"status": "ACCEPTED"}, auth)
        desk.call("POST", "/api/orders", {"signal_id": pending["id"], "qty": "0.1", "order_type": "MARKET"}, auth)
        page.wait_for_selector(".toast-success", timeout=20_000)
        page.screenshot(path=out / "toasts.png")
        page.close()

        desk.post_signal(side="BUY", suggest_price=str(btc.quantize(Decimal("0.01"))), suggest_qty="0.5",
                         strategy_name="mean_reversion_v1", reason="z-score below -2")  # fmt: skip
        dark = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark")
        page = dark.new_page()
        login(page, desk, "trader")
        page.wait_for_selector("#live-status.live-up")
        page.wait_for_selector("[data-testid=net-view]")
        page.locator("#signal-rows .pick-row").first.check()
        page.keyboard.press("j")
        page.screenshot(path=out / "signals-dark.png")
        dark.close()
        browser.close()
    for name in ("order-form-chart.png", "signal-chart.png", "toasts.png", "signals-dark.png"):
        print((out / name).relative_to(ROOT) if (out / name).is_relative_to(ROOT) else out / name)


if __name__ == "__main__":
    main()
