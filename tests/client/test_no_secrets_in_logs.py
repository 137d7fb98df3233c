"""A full run of the desk with every log line captured (DEBUG, as JSON): no secret value appears.

Real HTTP to the live test server: a strategy key posts signals through the client, a desk
admin logs in (a wrong password first), creates exchange accounts in admin with a password, a
TOTP secret and an API key and secret, confirms orders with a bearer token, and the orders are
placed on the paper exchange through a real Chromium (password + TOTP login) and its JSON API.
"""

import io
import re
import secrets
import shutil
from decimal import Decimal

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from executor.browser.host import host
from executor.browser.profile import BUILTIN_DIR
from executor.models import ExchangeAccount
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from orders import tasks
from orders.models import Order
from tradedesk_client import TradeDeskClient

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_PASSWORD = "correct horse battery staple"  # the desk_admin persona's


@pytest.fixture
def browser_settings(settings, tmp_path):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed (apt-get install chromium; .ci/run does)")
    settings.BROWSER_STATE_DIR = str(tmp_path / "state")
    settings.BROWSER_ARTIFACTS_DIR = str(tmp_path / "artifacts")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (BUILTIN_DIR / "paper.yaml").read_text()
    (profiles / "paper.yaml").write_text(text.replace("result: 10 ", "result: 3 ").replace("step: 5 ", "step: 2 "))
    settings.EXCHANGE_PROFILE_DIRS = [str(profiles)]
    settings.EXECUTOR = "exchange"
    yield
    host.shutdown()


def admin_form(web: httpx.Client, path: str) -> str:
    page = web.get(path)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def add_exchange_account(web: httpx.Client, fields: dict[str, str]) -> ExchangeAccount:
    token = admin_form(web, "/admin/executor/exchangeaccount/add/")
    answer = web.post(
        "/admin/executor/exchangeaccount/add/",
        data={"csrfmiddlewaretoken": token, "is_active": "on", "_save": "Save", **fields},
        headers={"Referer": f"{web.base_url}/admin/"},
    )
    assert answer.status_code == 302, answer.text[:2000]
    return ExchangeAccount.objects.get(label=fields["label"])


def confirm_and_place(web: httpx.Client, token: str, signal_id: int) -> Order:
    answer = web.post(
        "/api/orders",
        json={"signal_id": signal_id, "qty": "0.01", "order_type": "LIMIT", "price": "60000"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    # The worker's part, in this process: the placement task as the worker runs it.
    tasks.place_order(answer.json()["id"])
    return Order.objects.get(pk=answer.json()["id"])


def test_a_full_run_logs_ids_and_outcomes_but_no_secret(
    live_server,
    desk_admin,
    browser_settings,
    paper_instruments,
    json_logs,
    tmp_path,
):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    paper_password = "paper-" + secrets.token_urlsafe(12)
    paper, paper_api_key = paper_account_create(
        username="log-desk", password=paper_password, balances={"USDT": Decimal("100000"), "BTC": Decimal("1")}
    )
    api_secret = "apisecret-" + secrets.token_urlsafe(16)
    wrong_password = "wrong-" + secrets.token_urlsafe(8)

    out = io.StringIO()
    call_command("create_api_key", "log-strategy", stdout=out, stderr=io.StringIO())
    strategy_key = re.search(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b", out.getvalue()).group(0)
    strategy = TradeDeskClient(live_server.url, strategy_key, outbox=tmp_path / "outbox.jsonl")
    first = strategy.send_signal(symbol="BTC/USDT", side="BUY", suggest_qty="0.01", strategy_name="logs")
    second = strategy.send_signal(symbol="BTC/USDT", side="BUY", suggest_qty="0.01", strategy_name="logs")

    with httpx.Client(base_url=live_server.url, timeout=30) as web:
        for password in (wrong_password, ADMIN_PASSWORD):
            token = admin_form(web, "/admin/login/")
            web.post(
                "/admin/login/",
                data={"username": desk_admin.username, "password": password, "csrfmiddlewaretoken": token},
                headers={"Referer": f"{live_server.url}/admin/login/"},
            )
        session_cookie = web.cookies.get("sessionid")
        assert session_cookie, "the admin login did not work"
        browser_account = add_exchange_account(
            web,
            {
                "owner": str(desk_admin.pk),
                "label": "paper browser",
                "venue": "paper",
                "connector": "browser",
                "base_url": f"{live_server.url}/paper",
                "is_desk_default": "on",
                "web_username": paper.username,
                "web_password": paper_password,
                "totp_secret": paper.totp_secret,
            },
        )
        assert browser_account.config().secrets["totp_secret"] == paper.totp_secret
        out = io.StringIO()
        call_command("create_user_token", desk_admin.username, stdout=out, stderr=io.StringIO())
        bearer = out.getvalue().strip()

        by_browser = confirm_and_place(web, bearer, first)
        assert by_browser.status == "SUCCESS", (by_browser.error_code, by_browser.error_message)

        ExchangeAccount.objects.filter(pk=browser_account.pk).update(is_desk_default=False)
        add_exchange_account(
            web,
            {
                "owner": str(desk_admin.pk),
                "label": "paper api",
                "venue": "paper",
                "connector": "api",
                "base_url": f"{live_server.url}/paper",
                "is_desk_default": "on",
                "api_key": paper_api_key,
                "api_secret": api_secret,
            },
        )
        by_api = confirm_and_place(web, bearer, second)
        assert by_api.status == "SUCCESS", (by_api.error_code, by_api.error_message)
    assert PaperOrder.objects.filter(account=paper).count() == 2

    lines = json_logs.lines()
    text = json_logs.getvalue()
    secrets_used = {
        "strategy API key": strategy_key,
        "strategy key secret part": strategy_key.split(".", 1)[1],
        "admin password": ADMIN_PASSWORD,
        "wrong password": wrong_password,
        "session cookie": session_cookie,
        "bearer token": bearer,
        "bearer secret part": bearer.split(".", 1)[1],
        "paper password": paper_password,
        "TOTP secret": paper.totp_secret,
        "paper API key": paper_api_key,
        "paper key secret part": paper_api_key.split(".", 1)[1],
        "API secret": api_secret,
        "credentials key": settings.CREDENTIALS_KEYS[0],
        "SECRET_KEY": settings.SECRET_KEY,
    }
    leaked = [name for name, value in secrets_used.items() if value in text]
    assert leaked == [], f"secrets in the logs: {leaked}"

    # The capture saw the run: the requests, the orders and their ids.
    assert len(lines) > 20
    assert {line["order_id"] for line in lines if line.get("order_id")} >= {by_browser.pk, by_api.pk}
    results = [line for line in lines if line["message"].startswith(f"order {by_api.pk} SUCCESS")]
    assert results and results[0]["signal_id"] == second
    assert any(line.get("path") == "/admin/login/" and line.get("request_id") for line in lines)
