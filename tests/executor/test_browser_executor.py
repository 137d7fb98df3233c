"""The browser executor with a real Chromium against the paper exchange on the live test server."""

import shutil
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from executor.browser.connector import BrowserConnector
from executor.browser.host import host
from executor.browser.profile import BUILTIN_DIR
from executor.connectors.base import ErrorCode, OrderTicket, ResultStatus
from executor.models import ExchangeAccount
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from orders import services as order_services
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def chromium_or_fail():
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the browser executor tests (apt-get install chromium; .ci/run does)")


@pytest.fixture
def browser_dirs(settings, tmp_path):
    chromium_or_fail()
    settings.BROWSER_STATE_DIR = str(tmp_path / "state")
    settings.BROWSER_ARTIFACTS_DIR = str(tmp_path / "artifacts")
    # A copy of the shipped profile with short waits, found first: tests stay quick.
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (BUILTIN_DIR / "paper.yaml").read_text()
    text = text.replace("result: 10 ", "result: 3 ").replace("step: 5 ", "step: 2 ")
    (profiles / "paper.yaml").write_text(text)
    settings.EXCHANGE_PROFILE_DIRS = [str(profiles)]
    yield tmp_path
    host.shutdown()


@pytest.fixture
def venue(live_server, browser_dirs, trader, paper_instruments):
    """A paper account with money, and the desk's browser account for it."""
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    paper, _ = paper_account_create(
        username="desk-bot", password="paper-password-1", balances={"USDT": Decimal("1000000"), "BTC": Decimal("5")}
    )
    account = ExchangeAccount(owner=trader, label="paper-browser", venue="paper", connector="browser")
    account.base_url = f"{live_server.url}/paper"
    exchange_account_save(
        account=account,
        secrets={"web_username": "desk-bot", "web_password": "paper-password-1", "totp_secret": paper.totp_secret},
    )
    return paper, account


def desk_order(account: ExchangeAccount, settings) -> Order:
    """A desk order confirmed and placed through the desk's pipeline on `account` (made desk default)."""
    from signals import services as signal_services

    settings.EXECUTOR = "exchange"
    ExchangeAccount.objects.filter(pk=account.pk).update(is_desk_default=True)
    signal, _ = signal_services.signal_create(
        api_key=None, symbol="BTC/USDT", side="BUY", suggest_qty=Decimal("0.01"), strategy_name="t"
    )
    order = order_services.order_create(
        user=account.owner, signal_id=signal.pk, qty=Decimal("0.01"), order_type="LIMIT", price=Decimal("60000")
    )
    order_services.order_place(order_id=order.pk)
    order.refresh_from_db()
    return order


def ticket(client_order_id: str, order_type: str = "LIMIT", price: str | None = "60000", side: str = "BUY"):
    return OrderTicket(
        client_order_id=client_order_id,
        symbol="BTC/USDT",
        side=side,
        order_type=order_type,
        qty=Decimal("0.01"),
        price=Decimal(price) if price else None,
    )


def test_a_limit_order_is_placed_through_the_page(venue):
    paper, account = venue
    result = BrowserConnector(account.config()).place_order(ticket("td-limit-1"))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    placed = PaperOrder.objects.get(account=paper, client_order_id="td-limit-1")
    assert result.exchange_order_id == placed.order_id
    assert (placed.order_type, placed.price, placed.status) == ("LIMIT", Decimal("60000"), "NEW")


def test_a_market_order_is_placed_and_filled(venue):
    paper, account = venue
    result = BrowserConnector(account.config()).place_order(ticket("td-market-1", "MARKET", None, side="SELL"))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    placed = PaperOrder.objects.get(account=paper, client_order_id="td-market-1")
    assert (placed.side, placed.status, placed.avg_price) == ("SELL", "FILLED", Decimal("65000"))


def test_the_login_is_kept_on_disk_privately_and_reused(venue, browser_dirs):
    _, account = venue
    connector = BrowserConnector(account.config())
    connector.place_order(ticket("td-login-1"))
    state_dir = browser_dirs / "state"
    files = list(state_dir.glob("*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    host.shutdown()  # a restart: a new browser, the login comes from disk
    assert connector.place_order(ticket("td-login-2")).status == ResultStatus.SUCCESS


def test_an_expired_session_logs_in_again_and_the_order_goes_through(venue):
    paper, account = venue
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-exp-1")).status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="session_expired")
    result = connector.place_order(ticket("td-exp-2"))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    assert PaperOrder.objects.filter(account=paper, client_order_id="td-exp-2").count() == 1


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("captcha", "", ErrorCode.CAPTCHA_REQUIRED),
        ("reject", "INSUFFICIENT_BALANCE", ErrorCode.REJECTED),
        ("layout_changed", "", ErrorCode.ELEMENT_NOT_FOUND),
    ],
)
def test_each_fault_gives_its_typed_error_with_evidence(venue, kind, value, code):
    paper, account = venue
    connector = BrowserConnector(account.config())
    if kind != "layout_changed":
        # Logged in and warm. (A new layout shows on the next page load, and a warm session
        # reuses the page its last order left open, so the layout case starts cold.)
        connector.place_order(ticket(f"td-warm-{kind}"))
    paper_fault_set(account=paper, kind=kind, value=value)
    result = connector.place_order(ticket(f"td-{kind}"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, code), result
    assert Path(result.screenshot).is_file() and Path(result.trace).is_file()
    if code == ErrorCode.REJECTED:
        assert "INSUFFICIENT_BALANCE" in result.error_message
    else:
        assert not PaperOrder.objects.filter(account=paper, client_order_id=f"td-{kind}").exists()


def test_a_slow_venue_still_gets_the_order(venue):
    paper, account = venue
    paper_fault_set(account=paper, kind="slow", value="800")
    result = BrowserConnector(account.config()).place_order(ticket("td-slow"))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)


def test_a_lost_reply_is_settled_by_lookup_with_one_order_at_the_venue(venue, settings, queued_tasks):
    paper, account = venue
    BrowserConnector(account.config()).place_order(ticket("td-warm-lost"))
    paper_fault_set(account=paper, kind="lost_reply", value="5", once=True)
    order = desk_order(account, settings)
    assert order.status == "SUCCESS", (order.error_code, order.error_message)
    assert order.exchange_order_id
    assert PaperOrder.objects.filter(account=paper, client_order_id=order.client_order_id).count() == 1
    reasons = [r.history_change_reason for r in Order.history.filter(id=order.pk).order_by("history_date")]
    assert "venue answer lost" in reasons


def test_a_second_profile_for_another_page_layout_works_by_configuration_alone(venue, browser_dirs, settings):
    paper, account = venue
    profiles = Path(settings.EXCHANGE_PROFILE_DIRS[0])
    text = (profiles / "paper.yaml").read_text()
    v2 = (
        text.replace("name: paper", "name: paper-v2")
        .replace("#order-price", "#limit-v2")
        .replace("#order-qty", "#amount-v2")
        .replace("#place-order", "#submit-order-v2")
    )
    (profiles / "paper-v2.yaml").write_text(v2)
    paper_fault_set(account=paper, kind="layout_changed")
    ExchangeAccount.objects.filter(pk=account.pk).update(venue="paper-v2")
    account.refresh_from_db()
    result = BrowserConnector(account.config()).place_order(ticket("td-v2"))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    assert PaperOrder.objects.filter(account=paper, client_order_id="td-v2").count() == 1


def test_session_health_follows_the_browser_and_is_served_to_staff(venue, client_for, viewer, outsider):
    paper, account = venue
    ExchangeAccount.objects.filter(pk=account.pk).update(is_desk_default=True)
    connector = BrowserConnector(account.config())
    connector.place_order(ticket("td-health-1"))
    response = client_for(viewer).get("/api/executor/health")
    assert response.status_code == 200
    assert response.json()["accounts"][0]["state"] == "logged_in"
    paper_fault_set(account=paper, kind="captcha")
    connector.place_order(ticket("td-health-2"))
    response = client_for(viewer).get("/api/executor/health")
    assert response.status_code == 503
    assert response.json()["accounts"][0]["state"] == "captcha"
    assert client_for(outsider).get("/api/executor/health").status_code == 403
    assert client_for(None).get("/api/executor/health").status_code == 401


def test_executor_login_logs_in_with_the_stored_secrets(venue, browser_dirs):
    from io import StringIO

    from django.core.management import call_command

    _, account = venue
    out = StringIO()
    call_command("executor_login", account.label, "--auto", stdout=out)
    assert "logged in" in out.getvalue()
    assert len(list((browser_dirs / "state").glob("*.json"))) == 1
    assert account.venue_session.state == "logged_in"


def test_a_failed_order_links_its_screenshot_and_trace(venue, settings, client_for, viewer, outsider, queued_tasks):
    paper, account = venue
    paper_fault_set(account=paper, kind="layout_changed")
    order = desk_order(account, settings)
    assert (order.status, order.error_code) == ("FAILED", "ELEMENT_NOT_FOUND")
    response = client_for(viewer).get(f"/api/orders/{order.pk}/screenshot")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client_for(viewer).get(f"/api/orders/{order.pk}/trace").status_code == 200
    assert client_for(outsider).get(f"/api/orders/{order.pk}/screenshot").status_code == 403
    Order.objects.filter(pk=order.pk).update(screenshot="/etc/passwd")
    assert client_for(viewer).get(f"/api/orders/{order.pk}/screenshot").status_code == 404


def test_a_warm_session_reloads_the_page_after_a_failure(venue):
    paper, account = venue
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-r-1")).status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="reject", value="INSUFFICIENT_BALANCE", once=True)
    assert connector.place_order(ticket("td-r-2")).status == ResultStatus.FAILED
    paper_fault_set(account=paper, kind="layout_changed")
    # Not reusing the page after a failure: the reload shows the new layout at once.
    result = connector.place_order(ticket("td-r-3"))
    assert result.error_code == ErrorCode.ELEMENT_NOT_FOUND


def test_a_warm_order_asks_the_paper_site_once_and_logs_each_steps_time_in_one_line(venue, caplog):
    _, account = venue
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-steps-warm")).status == ResultStatus.SUCCESS
    posts: list[str] = []

    def listen(session) -> None:
        session.page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    host.call(connector.key, None, listen, timeout=10)
    with caplog.at_level("INFO", logger="executor.browser.session"):
        assert connector.place_order(ticket("td-steps")).status == ResultStatus.SUCCESS
    # The confirmation is drawn in the page; the confirm is the one request (no reload after it).
    assert [url.rsplit("/paper", 1)[1] for url in posts] == ["/trade/BTC-USDT"]
    [line] = [record for record in caplog.records if "td-steps:" in record.getMessage()]
    names = [name for name, _ in line.browser_steps]
    assert names[-3:] == ["place_order[10] click #confirm-order", "answer", "fills"] and "arm" in names
    assert line.browser_flow_ms >= sum(ms for _, ms in line.browser_steps) - 1
    assert "td-steps: browser flow SUCCESS in" in line.getMessage()
