"""A desk backup carries no secret in clear (issue 13): after the demo setup and a few orders on
PostgreSQL, `pg_dump` of the database holds no password, TOTP seed, API key or token as text."""

import shutil
import subprocess

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

from executor.models import ExchangeAccount
from tests.test_hardening_demo import credentials, setup_demo
from tradedesk import roles
from tradedesk.models import UserToken

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def pg_dump() -> str:
    database = connection.settings_dict
    command = [
        shutil.which("pg_dump") or "pg_dump",
        *("--host", database.get("HOST") or "127.0.0.1"),
        *("--port", str(database.get("PORT") or 5432)),
        *("--username", database.get("USER") or "postgres"),
        "--no-password",
        database["NAME"],
    ]
    env = {"PGPASSWORD": database.get("PASSWORD") or ""}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)  # noqa: S603
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_dump_after_the_demo_setup_and_some_orders_holds_no_secret_in_clear(
    settings, tmp_path, paper_instruments, queued_tasks
):
    settings.VAR_DIR = tmp_path
    # A transaction=True test that ran before this one flushed the tables, the role groups the
    # migrations made among them: make them again, as `manage.py migrate` would.
    for role in roles.ALL_ROLES:
        Group.objects.get_or_create(name=role)
    setup_demo()
    saved = credentials(tmp_path)
    admin = User.objects.get(username=saved["username"])
    strategy, trader = APIClient(), APIClient()
    strategy.credentials(HTTP_X_API_KEY=saved["api_key"])
    trader.force_authenticate(admin)
    for qty in ("0.01", "0.02", "0.03"):
        signal = strategy.post(
            "/api/signals",
            {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": qty, "strategy_name": "dump"},
            format="json",
        )
        assert signal.status_code == 201, signal.content
        order = trader.post(
            "/api/orders", {"signal_id": signal.json()["id"], "qty": qty, "order_type": "MARKET"}, format="json"
        )
        assert order.status_code == 201, order.content
    token = UserToken.objects.create_key(name="script", user=admin)[1]
    paper_api_key = ExchangeAccount.objects.get(connector="api", label__startswith="paper").get_secrets()["api_key"]
    secrets = {
        "admin password": saved["password"],
        "strategy key": saved["api_key"],
        "strategy key's secret part": saved["api_key"].split(".", 1)[1],
        "paper password": saved["paper_password"],
        "paper TOTP seed": saved["paper_totp_secret"],
        "bearer token": token,
        "bearer token's secret part": token.split(".", 1)[1],
        "desk's paper API key": paper_api_key,
        "paper API key's secret part": paper_api_key.split(".", 1)[-1],
    }
    assert all(len(value) >= 8 for value in secrets.values())

    dump = pg_dump()
    assert "COPY public.orders_order " in dump  # the orders are in it
    found = sorted(name for name, value in secrets.items() if value in dump)
    assert found == [], f"in clear in the dump: {found}"
