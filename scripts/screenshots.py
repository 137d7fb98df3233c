"""The README's screenshots of the staff desk, made from a real run.

Starts a throwaway embedded desk (desk.livedesk), posts a few signals through the API as a
strategy would, logs in as a trader in Chromium and saves PNGs of the signals page, the order
form and the orders page, at 1280 px and at 390 px wide, into docs/screenshots/.

    make screenshots        (or: .venv/bin/python scripts/screenshots.py [--out DIR])
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from desk.livedesk import LiveDesk, launch_chromium, login  # noqa: E402

SIGNALS = [
    {
        "symbol": "ETH/USDT",
        "side": "SELL",
        "suggest_price": "3215.5",
        "suggest_qty": "4",
        "strategy_name": "breakout_v2",
        "reason": "lost the 20-day high on volume",
    },
    {
        "symbol": "BTC/USDT",
        "side": "BUY",
        "suggest_price": None,
        "suggest_qty": "0.25",
        "strategy_name": "momentum_v3",
        "reason": "trend filter turned long",
    },
    {
        "symbol": "BTC/USDT",
        "side": "BUY",
        "suggest_price": "64950",
        "suggest_qty": "0.5",
        "strategy_name": "mean_reversion_v1",
        "reason": "z-score below -2 on the 5m bars",
    },
    {
        "symbol": "ETH/USDT",
        "side": "BUY",
        "suggest_price": "3190",
        "suggest_qty": "15",
        "strategy_name": "mean_reversion_v1",
        "reason": "z-score below -2.5",
    },
    {
        "symbol": "BTC/USDT",
        "side": "SELL",
        "suggest_price": "65420",
        "suggest_qty": "0.8",
        "strategy_name": "breakout_v2",
        "reason": "failed breakout, back under the range",
    },
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, LiveDesk(Path(tmp)) as desk, sync_playwright() as playwright:
        signals = [desk.post_signal(**fields) for fields in SIGNALS]
        # Some history for the orders page: two orders through the desk's API, one of them refused by the venue.
        token = desk.token("trader")
        auth = {"Authorization": f"Bearer {token}"}
        desk.call("PATCH", f"/api/signals/{signals[0]['id']}", {"status": "ACCEPTED"}, auth)
        _, market = desk.call(
            "POST", "/api/orders", {"signal_id": signals[1]["id"], "qty": "0.25", "order_type": "MARKET"}, auth
        )
        desk.call(
            "POST",
            "/api/orders",
            {"signal_id": signals[0]["id"], "qty": "4", "order_type": "LIMIT", "price": "3215.5"},
            auth,
        )
        # A venue refusal: the dry run has no price for this market, so the order fails with its reason.
        odd = desk.post_signal(
            symbol="SOL/USDT",
            side="BUY",
            suggest_price=None,
            suggest_qty="20",
            strategy_name="breakout_v2",
            reason="range break",
        )
        desk.call("POST", "/api/orders", {"signal_id": odd["id"], "qty": "5", "order_type": "MARKET"}, auth)
        browser = launch_chromium(playwright)
        for width, height, suffix in ((1280, 800, ""), (390, 844, "-390")):
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            login(page, desk, "trader")
            page.wait_for_selector("#live-status.live-up")
            fresh = desk.post_signal(
                symbol="BTC/USDT",
                side="SELL",
                suggest_price="65510",
                suggest_qty="0.3",
                strategy_name="scalper_v1",
                reason="spread widened past 3 ticks",
            )
            page.wait_for_selector(f"#signal-{fresh['id']}")
            page.screenshot(path=out / f"signals{suffix}.png", full_page=width > 400)
            page.click(f"#signal-{signals[2]['id']} [data-action=order]")
            page.wait_for_selector("#order-form #limit-usage")
            page.fill("#order-qty", "0.8")
            # The preview follows the typed qty (per-order usage "0.8 / ..."): shoot only once it has.
            page.wait_for_function("document.querySelector('#limit-usage').textContent.includes('0.8 /')")
            page.screenshot(path=out / f"order-form{suffix}.png")
            page.keyboard.press("Escape")
            page.goto(f"{desk.base}/orders/")
            page.wait_for_selector("#order-rows tr[data-status=FAILED]")
            page.screenshot(path=out / f"orders{suffix}.png", full_page=width > 400)
            if not suffix:
                # An order's details with its venue state, fills and fees (the dry run fills at once).
                page.click(f"#order-{market['id']} a[hx-get]")
                page.wait_for_selector("#modal-body [data-testid=order-fills]")
                page.locator("#modal").screenshot(path=out / "order-fills.png")
                page.keyboard.press("Escape")
            page.close()
        browser.close()
    for path in sorted(out.glob("*.png")):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
