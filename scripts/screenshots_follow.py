"""The README's copy-trading screenshots, made from a real run.

Starts a throwaway embedded desk (desk.livedesk: uvicorn, the Celery worker and beat running the
follower sync) with its own paper exchange, makes a master and three followers the way the README
does (create_desk_user, follow_account, follow_setup), lets the master trade at the venue through
its API, waits for the sync, and saves PNGs of a follower's dashboard (in sync; paused by an
insufficient balance) and of the admins' followers page, at 1280 px and 390 px wide, into
docs/screenshots/.

    .venv/bin/python scripts/screenshots_follow.py [--out DIR]
"""

import argparse
import json
import os
import secrets
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

from desk.livedesk import LiveDesk, _argv_script, launch_chromium  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)
# Users as the README makes them; each gets a paper account (USDT) and follows mia.
SETUP = """
import io, json, re, sys
from decimal import Decimal
from django.core.management import call_command
from executor.models import ExchangeAccount
from executor.paper.models import PaperAccount
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set

spec = json.loads(sys.argv[1])
paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
paper_price_set(symbol="ETH-USDT", price=Decimal("3200"))
found = {}
for name, usdt, extra in spec["users"]:
    call_command("create_desk_user", name, password=spec["password"], verbosity=0)
    out = io.StringIO()
    call_command("follow_account", name, "--balance", f"USDT={usdt}", *extra, stdout=out)
    found[name] = {
        "account": ExchangeAccount.objects.get(owner__username=name).pk,
        "key": re.search(r"X-PAPER-KEY\\): (\\S+)", out.getvalue()).group(1),
    }
for name, ratio, extra in spec["follows"]:
    call_command("follow_setup", name, "--master-account", str(found["mia"]["account"]),
                 "--account", str(found[name]["account"]), "--ratio", ratio, *extra, stdout=io.StringIO())
# gina's next order is refused by the venue: the sync records the error and pauses her.
paper_fault_set(account=PaperAccount.objects.get(username="gina-paper"), kind="reject",
                value="INSUFFICIENT_BALANCE:not enough USDT for this order", once=True)
print(json.dumps(found))
"""


def _login(page, desk: LiveDesk, username: str, password: str, next_path: str) -> None:
    page.goto(f"{desk.base}/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{desk.base}{next_path}*")


def _wait(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise RuntimeError(f"{what} not reached within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        desk = LiveDesk(Path(tmp), env={"FOLLOW_SYNC_EVERY": "1"})
        desk.env["PAPER_BASE_URL"] = f"{desk.base}/paper"
        with desk, sync_playwright() as playwright:
            spec = {
                "password": PASSWORD,
                "users": [
                    ["mia", "5000000", ["--open"]],
                    ["fred", "100000", []],
                    ["gina", "100000", []],
                    ["tom", "100000", []],
                ],
                "follows": [["fred", "0.1", []], ["gina", "0.25", []], ["tom", "0.5", ["--inactive"]]],
            }
            found = json.loads(desk.manage("shell", "-c", _argv_script(SETUP, json.dumps(spec))).splitlines()[-1])
            master = {"X-PAPER-KEY": found["mia"]["key"]}
            for number, (symbol, qty) in enumerate((("BTC-USDT", "1.2"), ("ETH-USDT", "15")), start=1):
                body = {"client_order_id": f"mia-{number}", "symbol": symbol, "side": "BUY", "type": "MARKET"}
                status, answer = desk.call("POST", "/paper/api/orders", {**body, "qty": qty}, master)
                if status != 201:
                    raise RuntimeError(f"the master's order was refused: {status} {answer}")
            tokens = {name: desk.manage("create_user_token", name).strip() for name in ("fred", "gina")}

            def status_of(name: str) -> dict:
                auth = {"Authorization": f"Bearer {tokens[name]}"}
                return desk.call("GET", "/api/v1/follow-config/status", headers=auth)[1]

            _wait(lambda: all(p["in_sync"] for p in status_of("fred")["positions"]) and status_of("fred")["positions"],
                  "fred in sync with mia")  # fmt: skip
            _wait(lambda: status_of("gina")["unresolved_errors"], "gina paused by her error")
            browser = launch_chromium(playwright)
            admin, admin_password = desk.users["admin"]
            shots = (
                ("fred", PASSWORD, "/follow/", "follow-dashboard", "[data-testid=positions] tr[data-symbol]"),
                ("gina", PASSWORD, "/follow/", "follow-dashboard-paused", "[data-testid=resolve]"),
                (admin, admin_password, "/follow/admin/", "follow-admin", "tr[data-follower]"),
            )
            for width, height, suffix in ((1280, 800, ""), (390, 844, "-390")):
                for username, password, path, name, ready in shots:
                    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
                    page = context.new_page()
                    _login(page, desk, username, password, path)
                    page.wait_for_selector(ready)
                    page.screenshot(path=out / f"{name}{suffix}.png", full_page=True)
                    context.close()
            browser.close()
    for path in sorted(out.glob("follow-*.png")):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
