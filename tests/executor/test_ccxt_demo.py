"""`make run`'s demo account `paper (binance-api)`: in the embedded desk (one rundesk process,
SQLite, in-memory broker) an order confirmed to it reaches the paper exchange's Binance dialect
through ccxt and ends SUCCESS, with no setting beyond what setup_demo made."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from websockets.sync.client import connect as ws_connect

from desk.livedesk import migrate_sqlite
from tests.test_embedded import BASE_DIR, Desk, free_port, manage


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ccxt-demo")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"VAR_DIR": str(tmp_path), "DEBUG": "true"})
    migrate_sqlite(env)  # once per test process, copied after
    manage(env, "setup_demo")
    creds = dict(line.split("=", 1) for line in (tmp_path / "demo-credentials.txt").read_text().splitlines())
    manage(
        env,
        "shell",
        "-c",
        "from executor.models import ExchangeAccount as A; A.objects.update(is_desk_default=False); "
        "A.objects.filter(label='paper (binance-api)').update(is_desk_default=True)",
    )
    port = free_port()
    log = open(tmp_path / "rundesk.log", "w")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "rundesk", "--port", str(port)], env=env, cwd=BASE_DIR, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, "rundesk exited"
            assert time.monotonic() < deadline, "rundesk did not start"
            time.sleep(0.1)
    yield Desk(port), creds, env
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_the_demo_ccxt_account_places_an_order_on_the_paper_binance_api(demo_desk):
    desk, creds, env = demo_desk
    cookie = desk.login(creds["username"], creds["password"])
    token = manage(env, "create_user_token", creds["username"]).strip()
    status, signal = desk.call(
        "POST",
        "/api/signals",
        {"symbol": "BTC/USDT", "side": "BUY", "suggest_qty": "0.01", "strategy_name": "ccxt-demo"},
        {"X-API-KEY": creds["api_key"]},
    )
    assert status == 201, signal
    with ws_connect(
        desk.base.replace("http", "ws") + "/ws/orders", additional_headers={"Origin": desk.base, "Cookie": cookie}
    ) as orders_socket:
        status, order = desk.call(
            "POST",
            "/api/orders",
            {"signal_id": signal["id"], "qty": "0.01", "order_type": "MARKET"},
            {"Authorization": f"Bearer {token}"},
        )
        assert status == 201, order
        while True:
            event = json.loads(orders_socket.recv(timeout=60))
            if event["data"]["id"] == order["id"] and event["data"]["status"] not in ("SUBMITTING", "UNKNOWN"):
                break
    assert event["data"]["status"] == "SUCCESS", event["data"]
    status, stored = desk.call("GET", f"/api/orders/{order['id']}", headers={"Authorization": f"Bearer {token}"})
    assert (stored["venue"], stored["venue_state"]) == ("ccxt", "FILLED")
    # The paper exchange has it, under the desk's client order id, placed through its Binance API.
    found = manage(
        env,
        "shell",
        "-c",
        "from executor.paper.models import PaperOrder as O; "
        f"print(O.objects.filter(client_order_id='{stored['client_order_id']}').count())",
    )
    assert found.strip().splitlines()[-1] == "1"
