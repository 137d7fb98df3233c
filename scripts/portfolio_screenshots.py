"""The README's screenshots of the positions page, the trade journal, the strategy summary and
the refusals list, made from a real run.

Starts a throwaway embedded desk (desk.livedesk) whose desk account is a paper exchange API
account on the desk's own /paper/ (holding some BTC the desk never bought, so the positions show
a drift warning), confirms a few orders through the API as a trader, moves the paper price, and
saves PNGs into docs/screenshots/.

    .venv/bin/python scripts/portfolio_screenshots.py [--out DIR]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from desk.livedesk import LiveDesk, _argv_script, launch_chromium, login  # noqa: E402

SETUP = """
import json, sys
from decimal import Decimal
from django.contrib.auth.models import User
from executor.models import ExchangeAccount
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
base = json.loads(sys.argv[1])
paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
paper_price_set(symbol="ETH-USDT", price=Decimal("3200"))
_, key = paper_account_create(username="desk-book", password="paper-password-1",
    balances={"USDT": Decimal("100000"), "BTC": Decimal("0.1")})
owner = User.objects.filter(is_superuser=True).first() or User.objects.first()
exchange_account_save(account=ExchangeAccount(owner=owner, label="paper api", venue="paper", connector="api",
    base_url=base, is_desk_default=True), secrets={"api_key": key})
"""

PRICE = """
import json, sys
from decimal import Decimal
from executor.paper.services.prices import paper_price_set
for symbol, price in json.loads(sys.argv[1]).items():
    paper_price_set(symbol=symbol, price=Decimal(price))
"""

ORDERS = [
    ("BTC/USDT", "BUY", "0.5", "65000", "mean_reversion_v1"),
    ("ETH/USDT", "BUY", "6", "3200", "breakout_v2"),
    ("BTC/USDT", "BUY", "0.3", "65000", "momentum_v3"),
]


def confirm(desk: LiveDesk, auth: dict, symbol: str, side: str, qty: str, suggest: str, strategy: str, **order) -> dict:
    signal = desk.post_signal(symbol=symbol, side=side, suggest_price=suggest, suggest_qty=qty, strategy_name=strategy)
    body = {"signal_id": signal["id"], "qty": qty, "order_type": "MARKET", **order}
    return desk.call("POST", "/api/orders", body, auth)[1]


def wait_filled(desk: LiveDesk, auth: dict, order_id: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, order = desk.call("GET", f"/api/orders/{order_id}", headers=auth)
        if status == 200 and order.get("venue_state") == "FILLED":
            return
        time.sleep(0.2)
    raise RuntimeError(f"order {order_id} did not fill: {order}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        desk = LiveDesk(Path(tmp), env={"EXECUTOR": "exchange", "PORTFOLIO_VENUE_CACHE_SECONDS": "0"})
        desk.env["PAPER_BASE_URL"] = f"{desk.base}/paper"
        with desk:
            desk.manage("shell", "-c", _argv_script(SETUP, json.dumps(f"{desk.base}/paper")))
            auth = {"Authorization": f"Bearer {desk.token('trader')}"}
            for symbol, side, qty, price, strategy in ORDERS:
                wait_filled(desk, auth, confirm(desk, auth, symbol, side, qty, price, strategy)["id"])
            desk.manage("shell", "-c", _argv_script(PRICE, json.dumps({"BTC-USDT": "66400"})))
            sold = confirm(desk, auth, "BTC/USDT", "SELL", "0.2", "66500", "mean_reversion_v1")
            wait_filled(desk, auth, sold["id"])
            desk.manage("shell", "-c", _argv_script(PRICE, json.dumps({"BTC-USDT": "67150", "ETH-USDT": "3251"})))
            # Refusals for their page: over the per-order limit, and more than the account can pay for.
            confirm(desk, auth, "ETH/USDT", "BUY", "12", "3251", "breakout_v2")
            confirm(desk, auth, "BTC/USDT", "BUY", "2", "67150", "momentum_v3", order_type="LIMIT", price="67150")
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
            login(page, desk, "viewer", "/positions/")
            page.wait_for_selector('html[data-live="up"]')
            page.wait_for_selector("[data-drift='BTC/USDT']")
            page.screenshot(path=out / "positions.png", full_page=True)
            for name in ("journal", "strategies", "refusals"):
                page.goto(f"{desk.base}/{name}/")
                page.screenshot(path=out / f"{name}.png", full_page=True)
            browser.close()
    for name in ("positions", "journal", "strategies", "refusals"):
        print(out / f"{name}.png")


if __name__ == "__main__":
    main()
