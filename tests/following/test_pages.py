"""The follower's dashboard, the admins' follower list, and sign-up (closed unless enabled)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from following import services, sync, watch
from following import venue as follow_venue
from following.models import FollowSettings, TradeError

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_pages_need_a_login(client):
    for url in ("/follow/", "/follow/status/", "/follow/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client.post("/follow/errors/1/resolve/").status_code == 302


def test_a_new_follower_starts_following_from_the_dashboard(logged_in, follower, master_account, follower_account):
    page = logged_in(follower)
    form = page.get("/follow/")
    assert form.status_code == 200 and b"You follow no one yet" in form.content
    assert f'value="{master_account.pk}"'.encode() in form.content  # the open master is offered
    assert b'data-testid="no-account"' not in form.content and b'data-testid="no-master"' not in form.content
    response = page.post(
        "/follow/",
        {"master_credential_id": master_account.pk, "follower_credential_id": follower_account.pk,
         "follow_ratio": "0.25", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    row = FollowSettings.objects.get(user=follower)
    assert (row.follow_ratio, row.is_active) == (Decimal("0.25"), True)


def test_bad_settings_are_shown_as_form_errors(logged_in, follower, master_account, follower_account):
    response = logged_in(follower).post(
        "/follow/",
        {"master_credential_id": master_account.pk, "follower_credential_id": follower_account.pk,
         "follow_ratio": "0"},
    )  # fmt: skip
    assert response.status_code == 400 and b"errorlist" in response.content
    assert not FollowSettings.objects.exists()


def test_the_live_status_shows_master_own_expected_drift_and_errors(
    logged_in, follower, follower_account, master_account, follow, trade
):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    trade(master_account, "BUY", "1.0")
    services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="REJECTED: venue said no")
    html = logged_in(follower).get("/follow/status/").content.decode()
    assert 'data-symbol="BTC/USDT"' in html
    assert '<td class="num" data-testid="expected">0.2</td>' in html
    assert '<td class="num" data-testid="own">0.1</td>' in html
    assert "-0.1" in html and "paused" in html and "REJECTED: venue said no" in html
    assert 'data-testid="resolve"' in html


def test_the_resolve_button_resumes_following(logged_in, follower, follower_account, follow):
    row = follow(follower, follower_account)
    error = services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="no")
    response = logged_in(follower).post(f"/follow/errors/{error.pk}/resolve/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"following resumed" in response.content
    row.refresh_from_db()
    assert row.is_active and TradeError.objects.get().is_resolved


def test_nobody_resolves_another_users_error(logged_in, follower, other_follower, follower_account, follow):
    row = follow(follower, follower_account)
    error = services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="no")
    assert logged_in(other_follower).post(f"/follow/errors/{error.pk}/resolve/").status_code == 404
    assert not TradeError.objects.get().is_resolved


def test_the_admin_page_lists_every_follower_for_admins_only(
    logged_in, desk_admin, follower, other_follower, make_account, follow
):
    follow(follower, make_account(follower), "0.1")
    paused = follow(other_follower, make_account(other_follower), "0.3")
    services.trade_error_record(settings_id=paused.pk, error_type="REJECTED", message="no")
    assert logged_in(follower).get("/follow/admin/").status_code == 403
    html = logged_in(desk_admin).get("/follow/admin/").content.decode()
    assert 'data-follower="fred_follower"' in html and 'data-follower="gina_follower"' in html
    assert html.count("badge paused") == 1 and html.count("badge active") == 1


def test_sign_up_is_closed_unless_enabled(client, settings):
    assert client.get("/follow/signup/").status_code == 404
    settings.FOLLOW_SIGNUP_OPEN = True
    response = client.post("/follow/signup/", {"username": "newbie", "password": "a long passphrase 42"})
    assert response.status_code == 302 and User.objects.filter(username="newbie").exists()
    again = client.post("/follow/signup/", {"username": "newbie", "password": "a long passphrase 42"})
    assert again.status_code == 400


def test_users_are_made_by_command_and_settings_by_command(master, master_account, follower, follower_account):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("follow_master", "close", str(master_account.pk), stdout=out)
    call_command("follow_master", "open", master_account.label, stdout=out)
    call_command(
        "follow_setup", follower.username, "--master-account", str(master_account.pk),
        "--account", str(follower_account.pk), "--ratio", "0.5", stdout=out,
    )  # fmt: skip
    assert FollowSettings.objects.get(user=follower).follow_ratio == Decimal("0.5")
    call_command("follow_sync", stdout=out)
    assert "is open for following" in out.getvalue() and "0 errors" in out.getvalue()


def test_a_paper_account_for_following_is_made_by_command(master, follower, paper_instruments):
    from io import StringIO

    from django.core.management import call_command

    from executor.models import ExchangeAccount
    from following.models import MasterAccount

    out = StringIO()
    call_command("follow_account", master.username, "--balance", "USDT=1000000", "--open", stdout=out)
    call_command("follow_account", follower.username, "--balance", "USDT=5000", "--label", "fred-main", stdout=out)
    master_account = ExchangeAccount.objects.get(owner=master)
    assert master_account.connector == "api" and master_account.get_secrets()["api_key"]
    assert MasterAccount.objects.get().credential == master_account
    assert ExchangeAccount.objects.get(owner=follower).label == "fred-main"
    assert "open for following" in out.getvalue() and "TOTP secret" in out.getvalue()
    # The key the README's "the master trades" step uses, printed once.
    assert f"Paper API key (X-PAPER-KEY): {master_account.get_secrets()['api_key']}" in out.getvalue()


def test_an_admin_resolves_errors_from_django_admin_and_the_follower_resumes(
    logged_in, desk_admin, follower, follower_account, follow
):
    row = follow(follower, follower_account)
    error = services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="no")
    page = logged_in(desk_admin)
    response = page.post(
        "/admin/following/tradeerror/", {"action": "resolve", "_selected_action": [error.pk]}, follow=True
    )
    assert b"1 resolved; 1 follower(s) resumed." in response.content
    error.refresh_from_db()
    row.refresh_from_db()
    assert error.is_resolved and error.resolved_by == desk_admin and row.is_active
    assert error.history.first().history_change_reason == f"resolved by {desk_admin.username}"


def test_a_browser_account_without_an_api_key_counts_its_filled_follower_orders(
    follower, make_account, master_account, follow
):
    from orders.models import Order

    browser = make_account(follower, label="web-only", connector="browser")
    row = follow(follower, browser, "0.1")
    for side, qty, status in (("BUY", "0.3", "SUCCESS"), ("SELL", "0.1", "SUCCESS"), ("BUY", "5", "FAILED")):
        Order.objects.create(
            follow_settings=row, symbol="BTC/USDT", side=side, order_type="MARKET", qty=Decimal(qty),
            filled_qty=Decimal(qty), venue="browser", exchange_account=browser, status=status,
        )  # fmt: skip
    assert {p.symbol: p.qty for p in follow_venue.read_positions(browser)} == {"BTC/USDT": Decimal("0.2")}


def test_a_follower_of_a_closed_master_changes_the_ratio_from_the_dashboard(
    logged_in, follower, master, master_account, follower_account, follow
):
    follow(follower, follower_account, "0.1")
    services.master_account_close(user=master, credential_id=master_account.pk)
    page = logged_in(follower)
    assert b"(closed)" in page.get("/follow/").content
    response = page.post(
        "/follow/",
        {"master_credential_id": master_account.pk, "follower_credential_id": follower_account.pk,
         "follow_ratio": "0.4", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert FollowSettings.objects.get(user=follower).follow_ratio == Decimal("0.4")


def test_home_sends_a_follower_without_a_desk_role_to_the_dashboard_and_staff_to_the_queue(client, follower, trader):
    client.force_login(follower)
    assert client.get("/").url == "/follow/"
    page = client.get("/follow/").content.decode()
    assert 'href="/follow/"' in page and 'href="/signals/"' not in page
    client.force_login(trader)
    assert client.get("/").url == "/signals/"
    assert 'href="/follow/"' in client.get("/signals/").content.decode()


def test_a_user_with_no_account_and_no_master_is_told_what_is_missing(logged_in, other_follower):
    html = logged_in(other_follower).get("/follow/").content.decode()
    assert 'data-testid="no-account"' in html and "follow_account" in html and 'data-testid="no-master"' in html


def test_the_status_says_whether_the_masters_trades_are_pushed_or_read_every_beat(
    logged_in, follower, follower_account, master_account, follow, settings
):
    settings.FOLLOW_SYNC_EVERY = 2.0
    follow(follower, follower_account)
    client = logged_in(follower)
    html = client.get("/follow/status/").content.decode()
    assert "read every 2 s" in html and "pushed by its venue" not in html
    assert client.get("/api/v1/follow-config/status").json()["master_trades_pushed"] is False
    watch._mark_live(master_account.pk, True)  # as the follow watcher does once subscribed
    html = client.get("/follow/status/").content.decode()
    assert "pushed by its venue" in html and "read every" not in html
    assert client.get("/api/v1/follow-config/status").json()["master_trades_pushed"] is True
    watch._mark_live(master_account.pk, False)
    assert "read every 2 s" in client.get("/follow/status/").content.decode()
    assert client.get("/api/v1/follow-config/status").json()["master_read_every"] == 2.0
    settings.FOLLOW_WATCH_POLL = 0.1
    watch._mark_polled(master_account.pk)  # as the follow watcher does after each read
    assert "read every 0.1 s" in client.get("/follow/status/").content.decode()
    assert client.get("/api/v1/follow-config/status").json()["master_read_every"] == 0.1
