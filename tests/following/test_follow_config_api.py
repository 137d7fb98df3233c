"""The follow-config API: settings, status, errors, resolve; access and validation."""

from decimal import Decimal

import pytest

from following import services
from following.models import FollowSettings, TradeError
from tests.following.conftest import positions

pytestmark = pytest.mark.django_db

URL = "/api/v1/follow-config"


def body(master_account, follower_account, **overrides) -> dict:
    return {
        "master_credential_id": master_account.pk,
        "follower_credential_id": follower_account.pk,
        "follow_ratio": "0.1",
        **overrides,
    }


def record_error(row: FollowSettings, message: str = "INSUFFICIENT_BALANCE: no money") -> TradeError:
    return services.trade_error_record(settings_id=row.pk, error_type="INSUFFICIENT_BALANCE", message=message)


def test_a_follower_creates_reads_and_changes_their_settings(client_for, follower, master_account, follower_account):
    client = client_for(follower)
    created = client.post(f"{URL}/settings", body(master_account, follower_account), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["master_user_id"], data["follow_ratio"], data["is_active"]) == (
        master_account.owner_id,
        "0.1",
        True,
    )
    assert client.get(f"{URL}/settings").json()["id"] == data["id"]
    changed = client.put(f"{URL}/settings", {"follow_ratio": "0.2", "is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["follow_ratio"] == "0.2"
    row = FollowSettings.objects.get(user=follower)
    assert row.follow_ratio == Decimal("0.2") and not row.is_active
    history = list(FollowSettings.history.filter(id=row.pk).order_by("history_date"))
    assert [h.follow_ratio for h in history] == [Decimal("0.1"), Decimal("0.2")]
    assert history[-1].history_change_reason == f"changed by {follower.username}"


def test_a_second_create_is_a_conflict(client_for, follower, master_account, follower_account):
    client = client_for(follower)
    client.post(f"{URL}/settings", body(master_account, follower_account), format="json")
    again = client.post(f"{URL}/settings", body(master_account, follower_account), format="json")
    assert again.status_code == 409 and again.json()["code"] == "settings_exist"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"follow_ratio": "0"}, "follow_ratio", "greater than 0"),
        ({"follow_ratio": "-0.5"}, "follow_ratio", "greater than 0"),
        ({"follow_ratio": "10.5"}, "follow_ratio", "at most 10"),
        ({"follow_ratio": "abc"}, "follow_ratio", "number"),
        ({"follow_ratio": None}, "follow_ratio", "null"),
        ({"master_credential_id": "x"}, "master_credential_id", "integer"),
        ({"master_credential_id": 999999}, "master_credential_id", "not open for following"),
        ({"follower_credential_id": 999999}, "follower_credential_id", "not one of yours"),
        ({"master_user_id": 999999}, "master_user_id", "not the owner"),
        # Beyond a 64-bit id: a 400, not the database driver's overflow (a 500 on SQLite).
        ({"master_credential_id": 10**20}, "master_credential_id", "less than or equal"),
        ({"follower_credential_id": 10**20}, "follower_credential_id", "less than or equal"),
        ({"master_user_id": 10**20}, "master_user_id", "less than or equal"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    client_for, follower, master_account, follower_account, overrides, field, reason
):
    response = client_for(follower).post(f"{URL}/settings", body(master_account, follower_account, **overrides),
                                         format="json")  # fmt: skip
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"] and reason in " ".join(response.json()["fields"][field]).lower()
    assert not FollowSettings.objects.exists()


def test_a_missing_field_is_named(client_for, follower):
    response = client_for(follower).post(f"{URL}/settings", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) >= {"master_credential_id", "follower_credential_id", "follow_ratio"}


def test_the_follower_account_must_be_the_callers_own(
    client_for, follower, other_follower, master_account, make_account
):
    someone_elses = make_account(other_follower)
    response = client_for(follower).post(f"{URL}/settings", body(master_account, someone_elses), format="json")
    assert response.status_code == 400 and "not one of yours" in response.json()["message"]


def test_a_master_account_must_be_open_for_following(client_for, follower, master, make_account, follower_account):
    closed = make_account(master, label="private")
    response = client_for(follower).post(f"{URL}/settings", body(closed, follower_account), format="json")
    assert response.status_code == 400 and response.json()["fields"]["master_credential_id"]


def test_a_closed_master_refuses_new_followers(client_for, follower, master, master_account, follower_account):
    closed = client_for(master).post(f"{URL}/masters/{master_account.pk}/close")
    assert closed.status_code == 200 and closed.json()["is_open"] is False
    response = client_for(follower).post(f"{URL}/settings", body(master_account, follower_account), format="json")
    assert response.status_code == 400


def test_nobody_follows_their_own_account(client_for, master, master_account, make_account):
    own = make_account(master, label="second")
    response = client_for(master).post(f"{URL}/settings", body(master_account, own), format="json")
    assert response.status_code == 400 and "your own account" in response.json()["message"]


def test_every_endpoint_needs_a_login(client_for):
    client = client_for(None)
    for method, path in [
        ("get", "settings"),
        ("post", "settings"),
        ("put", "settings"),
        ("get", "status"),
        ("get", "errors"),
        ("post", "errors/1/resolve"),
        ("get", "masters"),
        ("post", "masters"),
        ("get", "credentials"),
    ]:
        response = getattr(client, method)(f"{URL}/{path}", {}, format="json")
        assert response.status_code in (401, 403), (method, path, response.status_code)


def test_a_user_cannot_read_or_change_another_users_settings_or_errors(
    client_for, follower, other_follower, master_account, follower_account, follow, make_account
):
    row = follow(follower, follower_account)
    error = record_error(row)
    intruder = client_for(other_follower)
    assert intruder.get(f"{URL}/settings").status_code == 404
    assert intruder.put(f"{URL}/settings", {"follow_ratio": "5"}, format="json").status_code == 404
    assert intruder.get(f"{URL}/status").status_code == 404
    assert intruder.get(f"{URL}/errors").json() == []
    assert intruder.post(f"{URL}/errors/{error.pk}/resolve").status_code == 404
    row.refresh_from_db()
    error.refresh_from_db()
    assert row.follow_ratio == Decimal("0.1") and not error.is_resolved and not row.is_active


def test_resolving_the_last_error_resumes_following(
    client_for, follower, follower_account, follow, monkeypatch, django_capture_on_commit_callbacks
):
    alerts = []
    monkeypatch.setattr("ops.alerts.send_alert", lambda **kwargs: alerts.append(kwargs) or True)
    row = follow(follower, follower_account)
    with django_capture_on_commit_callbacks(execute=True):
        first, second = record_error(row), record_error(row, "REJECTED: again")
        client = client_for(follower)
        errors = client.get(f"{URL}/errors").json()
        assert [e["id"] for e in errors] == [second.pk, first.pk] and errors[0]["is_resolved"] is False
        one = client.post(f"{URL}/errors/{first.pk}/resolve").json()
        assert (one["resumed"], one["is_active"]) == (False, False)
        refused = client.put(f"{URL}/settings", {"is_active": True}, format="json")
        assert refused.status_code == 409 and refused.json()["code"] == "unresolved_errors"
        last = client.post(f"{URL}/errors/{second.pk}/resolve").json()
        assert (last["resumed"], last["is_active"], last["error"]["resolved_by"]) == (True, True, follower.username)
        assert client.post(f"{URL}/errors/{second.pk}/resolve").status_code == 409
        assert client.get(f"{URL}/errors", {"is_resolved": "false"}).json() == []
    assert [a["event"] for a in alerts] == ["follow_paused", "follow_resumed"]
    assert "fred_follower" in alerts[0]["title"] and "INSUFFICIENT_BALANCE" in alerts[0]["body"]


def test_status_shows_master_and_own_positions_and_the_expected_quantity(
    client_for, follower, follower_account, master_account, follow, trade
):
    from following import sync

    follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.5")
    sync.follow_sync_cycle()
    trade(master_account, "BUY", "0.5")  # not synced yet: drift
    data = client_for(follower).get(f"{URL}/status").json()
    assert data["settings"]["follow_ratio"] == "0.1" and data["unresolved_errors"] == 0
    assert data["positions"] == [
        {
            "symbol": "BTC/USDT",
            "master_qty": "2",
            "expected_qty": "0.2",
            "target_unrounded": "0.2",
            "rounds_to_zero": False,
            "own_qty": "0.15",
            "drift": "-0.05",
            "in_sync": False,
            "last_action": "ordered",
            "lot_size": "0.0001",
        }
    ]
    assert data["positions_source"] == "live" and data["last_sync_outcome"] == "ordered" and data["last_synced_at"]
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.15")}


def test_masters_and_own_credentials_are_listed(client_for, follower, master, master_account, follower_account):
    masters = client_for(follower).get(f"{URL}/masters").json()
    assert [(m["master_credential_id"], m["master_username"]) for m in masters] == [
        (master_account.pk, master.username)
    ]
    own = client_for(follower).get(f"{URL}/credentials").json()
    assert [a["id"] for a in own] == [follower_account.pk]
    opened = client_for(follower).post(f"{URL}/masters", {"credential_id": master_account.pk}, format="json")
    assert opened.status_code == 400  # not the caller's account


def test_the_schema_documents_the_follow_config_api(client_for, desk_admin):
    schema = client_for(desk_admin).get("/api/schema/", {"format": "json"}).json()
    assert {f"{URL}/settings", f"{URL}/status", f"{URL}/errors", f"{URL}/errors/{{error_id}}/resolve"} <= set(
        schema["paths"]
    )


def test_status_falls_back_to_the_last_sync_when_the_venue_cannot_answer(
    monkeypatch, client_for, follower, follower_account, master_account, follow, trade
):
    from following import sync, venue

    follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    monkeypatch.setattr(venue, "read_positions", lambda account: (_ for _ in ()).throw(OSError("venue down")))
    data = client_for(follower).get(f"{URL}/status").json()
    assert data["positions_source"] == "last_sync" and "venue down" in data["problems"][0]
    assert (data["positions"][0]["master_qty"], data["positions"][0]["own_qty"]) == ("1", "0.1")


def test_a_follower_of_a_closed_master_can_still_change_the_ratio(
    client_for, follower, master, master_account, follower_account, follow
):
    follow(follower, follower_account)
    services.master_account_close(user=master, credential_id=master_account.pk)
    body = {"master_credential_id": master_account.pk, "follow_ratio": "0.3"}
    response = client_for(follower).put(f"{URL}/settings", body, format="json")
    assert response.status_code == 200 and response.json()["follow_ratio"] == "0.3"


def test_resolving_does_not_turn_on_a_follower_who_had_turned_following_off_by_hand(
    client_for, follower, follower_account, follow
):
    """The seed's resume undoes the error's pause; it never overrides the follower's own off
    (an order sent before they turned it off can still fail afterwards)."""
    row = follow(follower, follower_account)
    client = client_for(follower)
    assert client.put(f"{URL}/settings", {"is_active": False}, format="json").status_code == 200
    error = record_error(row)
    assert client.get(f"{URL}/settings").json()["paused_by_error"] is False
    refused = client.put(f"{URL}/settings", {"is_active": True}, format="json")
    assert refused.status_code == 409 and refused.json()["message"].endswith("then turn following on")
    resolved = client.post(f"{URL}/errors/{error.pk}/resolve").json()
    assert (resolved["resumed"], resolved["is_active"]) == (False, False)
    row.refresh_from_db()
    assert not row.is_active and not row.paused_by_error
    # Nothing unresolved is left: the follower turns it back on when they choose.
    assert client.put(f"{URL}/settings", {"is_active": True}, format="json").json()["is_active"] is True


def test_a_follower_paused_by_an_error_still_resumes_after_changing_the_ratio(
    client_for, follower, follower_account, follow
):
    row = follow(follower, follower_account)
    error = record_error(row)
    client = client_for(follower)
    assert client.get(f"{URL}/settings").json()["paused_by_error"] is True
    # The dashboard's form sends is_active=False while paused (the box is unticked).
    changed = client.put(f"{URL}/settings", {"follow_ratio": "0.3", "is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["paused_by_error"] is True
    resolved = client.post(f"{URL}/errors/{error.pk}/resolve").json()
    assert (resolved["resumed"], resolved["is_active"]) == (True, True)
    assert client.get(f"{URL}/settings").json()["paused_by_error"] is False


@pytest.mark.parametrize("field", ["master_credential_id", "follower_credential_id", "master_user_id"])
def test_a_change_with_an_id_beyond_64_bits_is_a_400(client_for, follower, follower_account, follow, field):
    follow(follower, follower_account)
    response = client_for(follower).put(f"{URL}/settings", {field: 10**20}, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]


def test_opening_a_master_with_an_id_beyond_64_bits_is_a_400(client_for, master):
    response = client_for(master).post(f"{URL}/masters", {"credential_id": 10**20}, format="json")
    assert response.status_code == 400 and "credential_id" in response.json()["fields"]


def test_closing_a_master_with_an_id_beyond_64_bits_is_a_404(client_for, master):
    assert client_for(master).post(f"{URL}/masters/{10**20}/close").status_code == 404
