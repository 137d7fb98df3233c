# ruff: noqa: F811 (the copy-trading fixtures are imported by name, then used as arguments)
"""The rough edges a newcomer hit (issue 16), each pinned by a test that failed before its fix.
The ones that are page behaviour are Chromium tests: a stale refusal and the emptied queue in
test_queue_browser.py, the expiry line and a forced confirm in test_rough_edges_browser.py."""

import logging
import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from executor.models import ExchangeAccount
from executor.services import exchange_account_save
from following import sync
from following.models import SyncRun
from following.tasks import sync_followers
from signals.models import Signal, SignalStatus
from tests.following.conftest import (  # noqa: F401 (fixtures)
    clean_engine_state,
    follow,
    follower,
    follower_account,
    make_account,
    master,
    master_account,
    trade,
)

pytestmark = pytest.mark.django_db


def test_a_strategy_may_send_the_side_in_lower_case(strategy):
    response = strategy.post_signal(side="buy", symbol="eth-usdt")
    assert response.status_code == 201, response.json()
    assert (response.json()["side"], response.json()["symbol"]) == ("BUY", "ETH/USDT")
    assert Signal.objects.get().side == "BUY"


def test_a_side_that_is_no_side_is_still_refused_naming_the_field(strategy):
    response = strategy.post_signal(side="hold")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["side"]


def test_the_error_message_joins_the_fields_without_a_stray_full_stop(strategy):
    response = strategy.client.post("/api/signals", {"symbol": "BTC/USDT"}, format="json")
    message = response.json()["message"]
    assert response.status_code == 400 and ".;" not in message
    assert message == (
        "side: This field is required; suggest_qty: This field is required; strategy_name: This field is required"
    )


def _handlers_reached(logger_name: str, level: int) -> int:
    """How many handlers a record of `level` on `logger_name` is written by (as logging does it)."""
    logger = logging.getLogger(logger_name)
    if not logger.isEnabledFor(level):
        return 0
    count = 0
    while logger is not None:
        count += sum(1 for handler in logger.handlers if level >= handler.level)
        if not logger.propagate:
            break
        logger = logger.parent
    return count


def test_a_4xx_is_logged_once(strategy, capsys, settings):
    import logging.config

    settings.DEBUG = True  # Django's own console handler on "django" writes only with DEBUG on
    logging.config.dictConfig(settings.LOGGING)  # its handlers now write to the captured stderr
    try:
        capsys.readouterr()
        response = strategy.client.post("/api/signals", {"symbol": "BTC/USDT"}, format="json")
        lines = [line for line in capsys.readouterr().err.splitlines() if "/api/signals" in line]
    finally:
        with capsys.disabled():  # back to the real stderr for the tests after this one
            logging.config.dictConfig(settings.LOGGING)
    assert response.status_code == 400
    assert len(lines) == 1 and "POST /api/signals 400" in lines[0], lines
    assert _handlers_reached("django.request", logging.ERROR) == 1  # a 5xx still is logged, with its traceback


def test_a_quiet_follower_sync_logs_nothing_at_info(
    settings, caplog, follower, follower_account, master_account, follow, trade
):
    settings.FOLLOW_DEFAULT_LOT_SIZE = Decimal("0.01")
    follow(follower, follower_account, "1")
    trade(master_account, "BUY", "0.5")
    sync.follow_sync_cycle()
    trade(follower_account, "SELL", "0.005")  # a drift below one lot: found again every cycle
    settings.FOLLOW_RECHECK_SECONDS = 0
    settings.FOLLOW_SYNC_PER_MASTER = False  # the cycle in the beat task itself, as one worker runs it
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            sync_followers()
    noisy = [r.getMessage() for r in caplog.records if r.name.startswith("following") and r.levelno >= logging.INFO]
    assert noisy == []
    # ... although every one of those cycles did evaluate the follower (and found it below the minimum).
    assert list(SyncRun.objects.order_by("-id").values_list("below_min", flat=True)[:3]) == [1, 1, 1]


def test_follow_account_does_not_print_a_login_on_a_port_the_desk_may_not_use(monkeypatch, master, paper_instruments):
    monkeypatch.delenv("PAPER_BASE_URL", raising=False)
    out = StringIO()
    call_command("follow_account", master.username, "--balance", "USDT=1000", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("Paper login at"))
    assert ":8000" not in line and "/paper/login on the desk" in line


def test_follow_account_prints_the_paper_exchange_it_was_given(master, paper_instruments):
    out = StringIO()
    call_command(
        "follow_account", master.username, "--balance", "USDT=1000", "--base-url", "http://desk:9000/paper/", stdout=out
    )
    assert "Paper login at http://desk:9000/paper/login:" in out.getvalue()


@pytest.fixture
def desk_account(desk_admin):
    account = ExchangeAccount(
        owner=desk_admin, label="paper (browser)", venue="paper", connector="browser", is_desk_default=True
    )
    return exchange_account_save(account=account, secrets={})


def test_the_follow_page_does_not_offer_the_desks_own_account(page_for, desk_admin, desk_account, make_account):
    own = make_account(desk_admin, label="ada-personal")
    html = page_for(desk_admin).get("/follow/").content.decode()
    options = re.findall(r'<option value="(\d+)"', html.split('name="follower_credential_id"')[1].split("</select>")[0])
    assert options == [str(own.pk)]


def test_the_demo_setup_s_other_ways_into_the_desk_venue_are_not_offered_for_following(page_for, paper_instruments):
    # setup_demo gives the demo admin the desk's browser account and, into the same paper account,
    # an API and a ccxt account: none of them is the admin's own to follow with.
    call_command("setup_demo", stdout=StringIO())
    admin = User.objects.get(username="admin")
    assert ExchangeAccount.objects.filter(owner=admin).count() == 3
    html = page_for(admin).get("/follow/").content.decode()
    select = html.split('name="follower_credential_id"')
    assert len(select) == 1 or re.findall(r'<option value="(\d+)"', select[1].split("</select>")[0]) == []


def test_the_follow_api_refuses_the_desks_own_account_as_a_follower_account(
    client_for, desk_admin, desk_account, master_account
):
    response = client_for(desk_admin).post(
        "/api/v1/follow-config/settings",
        {"master_credential_id": master_account.pk, "follower_credential_id": desk_account.pk, "follow_ratio": "0.1"},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["follower_credential_id"]
    assert "desk's own account" in response.json()["message"]


def test_a_refused_confirm_on_a_canceled_signal_keeps_confirm_off_and_says_why(page_for, trader, make_signal):
    signal = make_signal(suggest_price=Decimal("65000"))
    Signal.objects.filter(pk=signal.pk).update(
        status=SignalStatus.CANCELED, decided_at=timezone.now() - timedelta(seconds=5)
    )
    response = page_for(trader).post(
        f"/signals/{signal.pk}/order/confirm/",
        {"order_type": "LIMIT", "price": "65000", "qty": "0.5", "nonce": "forced"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert re.search(r'<button type="submit" class="primary" id="order-confirm" disabled', html)
    assert f"Signal #{signal.pk} is CANCELED" in html and "it can no longer be ordered" in html
