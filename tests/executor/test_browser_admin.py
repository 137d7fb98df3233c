"""The exchange-account admin checks a browser account's profile and moves the desk default."""

import pytest

from executor.browser.profile import BUILTIN_DIR
from executor.models import ExchangeAccount

pytestmark = pytest.mark.django_db


def form(owner, **changes) -> dict:
    data = {"owner": owner.pk, "label": "site", "venue": "pro", "connector": "browser", "is_active": "on"}
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


def test_a_browser_account_with_a_broken_profile_is_refused_naming_the_file_and_key(
    client, desk_admin, trader, settings, tmp_path
):
    text = (BUILTIN_DIR / "pro.yaml").read_text().replace("time_zone: Asia/Singapore", "time_zone: Mars/Olympus")
    (tmp_path / "broken.yaml").write_text(text)
    settings.EXCHANGE_PROFILE_DIRS = [str(tmp_path)]
    client.force_login(desk_admin)
    response = client.post("/admin/executor/exchangeaccount/add/", form(trader, venue="broken"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "broken.yaml" in page and "find_order.time_zone" in page and "Mars/Olympus" in page
    response = client.post("/admin/executor/exchangeaccount/add/", form(trader, venue="nowhere"))
    assert "no exchange profile named" in response.content.decode()
    assert not ExchangeAccount.objects.exists()


def test_a_good_profile_is_saved_and_its_venue_rules_are_named(client, desk_admin, trader):
    client.force_login(desk_admin)
    response = client.post("/admin/executor/exchangeaccount/add/", form(trader), follow=True)
    assert response.status_code == 200
    assert ExchangeAccount.objects.get(label="site").venue == "pro"
    assert "venue rules for BTC/USDT, ETH/USDT are checked at confirm" in response.content.decode()


def test_a_browser_queue_must_be_one_a_browser_worker_consumes(client, desk_admin, trader):
    client.force_login(desk_admin)
    response = client.post("/admin/executor/exchangeaccount/add/", form(trader, browser_queue="celery"))
    assert "is not a browser queue" in response.content.decode()
    response = client.post("/admin/executor/exchangeaccount/add/", form(trader, browser_queue="browser-eu"))
    assert response.status_code == 302
    assert ExchangeAccount.objects.get(label="site").browser_queue == "browser-eu"
    response = client.post(
        "/admin/executor/exchangeaccount/add/",
        form(trader, label="api", venue="paper", connector="api", browser_queue="browser"),
    )
    assert "Only browser accounts have a browser queue" in response.content.decode()


def test_making_an_account_desk_default_unmarks_the_previous_one_in_plain_words(client, desk_admin, trader):
    first = ExchangeAccount.objects.create(owner=trader, label="first", venue="paper", is_desk_default=True)
    client.force_login(desk_admin)
    response = client.post(
        "/admin/executor/exchangeaccount/add/", form(trader, label="second", is_desk_default="on"), follow=True
    )
    page = response.content.decode()
    assert "Desk orders now go to second; first is no longer the desk default." in page
    assert "Constraint" not in page
    first.refresh_from_db()
    assert first.is_desk_default is False
    assert ExchangeAccount.objects.get(label="second").is_desk_default is True
    assert first.history.first().history_change_reason == "desk default moved to second"
