"""Schemathesis against a live desk, from the desk's own /api/schema/, as each kind of caller:
a strategy key, a trader (bearer token) and a follower (a user without a desk role, bearer token).

Every operation gets a bounded number of generated requests (SCHEMATHESIS_MAX_EXAMPLES, 10 by
default) with schemathesis's checks for server errors, response bodies against the schema,
documented status codes and content types; any failure fails the test with schemathesis's
report. New endpoints are covered as soon as they are in the schema.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desk.livedesk import LiveDesk, _argv_script

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10")
ST = Path(sys.executable).with_name("st")

# A follower (a user without a desk role) following a master's dry-run account, with one
# unresolved error, so the follow-config answers carry real rows; prints the follower's token.
SEED = """
from decimal import Decimal
from django.contrib.auth.models import User
from executor.models import ExchangeAccount
from executor.services import exchange_account_save
from following import services
from tradedesk.models import UserToken
def account(owner):
    row = ExchangeAccount(owner=owner, label=owner.username + "-acct", venue="paper", connector="dry_run")
    return exchange_account_save(account=row, secrets=None)
master = User.objects.create_user(username="mona_master", password="a-long-master-password")
master_account = account(master)
services.master_account_open(user=master, credential_id=master_account.pk)
follower = User.objects.create_user(username="fiona_follower", password="a-long-follower-password")
row = services.follow_settings_create(
    user=follower, master_credential_id=master_account.pk, follower_credential_id=account(follower).pk,
    follow_ratio=Decimal("0.1"), is_active=True,
)
services.trade_error_record(settings_id=row.pk, error_type="INSUFFICIENT_BALANCE", message="no money")
print(UserToken.objects.create_key(name="schemathesis", user=follower)[1])
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    live = LiveDesk(tmp_path_factory.mktemp("schemathesis-desk"))
    with live:
        trader = live.token("trader")
        follower = live.manage("shell", "-c", _argv_script(SEED, "")).strip().splitlines()[-1]
        # Rows to read back: a pending signal, a rejected one, and an order placed by the dry run.
        live.post_signal()
        rejected = live.post_signal(symbol="ETH/USDT")
        live.call("PATCH", f"/api/signals/{rejected['id']}", {"status": "REJECTED"}, _bearer(trader))
        ordered = live.post_signal(suggest_qty="0.01")
        live.call(
            "POST", "/api/orders", {"signal_id": ordered["id"], "qty": "0.01", "order_type": "MARKET"}, _bearer(trader)
        )
        live.identities = {
            "strategy": {"X-API-KEY": live.api_key},
            "trader": _bearer(trader),
            "follower": _bearer(follower),
        }
        yield live


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("identity", ["strategy", "trader", "follower"])
def test_every_operation_holds_to_the_schema(desk, identity, tmp_path):
    headers = desk.identities[identity]
    command = [
        str(ST) if ST.exists() else shutil.which("st") or "st",
        "run",
        f"{desk.base}/api/schema/?format=json",
        *(arg for name, value in headers.items() for arg in ("--header", f"{name}: {value}")),
        *("--checks", CHECKS),
        *("--mode", "positive"),
        *("--phases", "examples,fuzzing"),
        *("--max-examples", MAX_EXAMPLES),
        *("--seed", "13"),
        *("--workers", "1"),
        *("--request-timeout", "30"),
        "--no-shrink",
        "--continue-on-failure",
        *("--wait-for-schema", "30"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)  # noqa: S603
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
