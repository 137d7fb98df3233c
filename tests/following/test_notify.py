"""The follower's own notifications: channels and events of their choosing, received at a local
apprise json:// receiver; sent after commit, failures logged; the channels secret and masked; the
operator's alerts unchanged and separate."""

import pytest

from following import notify, services, sync, tasks
from following.models import FollowerNotifySettings
from tests.ops.conftest import AlertReceiver

pytestmark = pytest.mark.django_db

URL = "/api/v1/follow-config/notifications"


@pytest.fixture
def receiver():
    receiver = AlertReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def worker(monkeypatch) -> list[tuple]:
    """The Celery worker: each queued notification runs as the task would, in order."""
    queued: list[tuple] = []

    def run(args, kwargs=None, **options) -> None:
        queued.append(tuple(args))
        tasks.send_follower_notification(*args)

    assert tasks.send_follower_notification.name == notify.SEND_TASK  # queued by this name
    monkeypatch.setattr(tasks.send_follower_notification, "apply_async", run)
    return queued


def choose(client, **body):
    answer = client.put(URL, body, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_a_follower_receives_their_pause_and_resume_at_their_own_receiver(
    client_for, follower, follower_account, follow, receiver, worker, settings, django_capture_on_commit_callbacks
):
    operator = AlertReceiver()
    settings.ALERT_URLS = [operator.url]
    choose(client_for(follower), apprise_url=receiver.url, events=["pause", "resume"])
    row = follow(follower, follower_account)
    with django_capture_on_commit_callbacks(execute=True):
        error = services.trade_error_record(
            settings_id=row.pk, error_type="INSUFFICIENT_BALANCE", message="INSUFFICIENT_BALANCE: 3 USDT free"
        )
    assert receiver.wait_for(1) == ["[TradeDesk] Copy trading of mia_master paused: INSUFFICIENT_BALANCE"]
    assert "INSUFFICIENT_BALANCE: 3 USDT free" in receiver.messages[0]["message"]
    with django_capture_on_commit_callbacks(execute=True):
        services.trade_error_resolve(user=follower, error_id=error.pk)
    assert receiver.wait_for(2)[1] == "[TradeDesk] Copy trading of mia_master resumed"
    # The operator's alerts still go to the operator's receiver, and only there.
    assert len(operator.wait_for(2)) == 2
    assert all("[TradeDesk test]" not in title for title in receiver.titles())
    operator.close()


def test_a_copied_trade_is_notified_once_the_order_is_recorded(
    client_for, follower, follower_account, master_account, follow, trade, receiver, worker,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    choose(client_for(follower), apprise_url=receiver.url, events=["copied_trade"])
    follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    with django_capture_on_commit_callbacks(execute=True):
        sync.follow_sync_cycle()
    assert receiver.wait_for(1) == ["[TradeDesk] Copied: BUY 0.1 BTC/USDT"]
    assert "on your account: filled 0.1 @ " in receiver.messages[0]["message"]


def test_nothing_is_queued_before_the_commit_and_only_chosen_events_are_sent(
    client_for, follower, follower_account, other_follower, make_account, follow, receiver, worker,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    choose(client_for(follower), apprise_url=receiver.url, events=["resume"])
    choose(client_for(other_follower), apprise_url=receiver.url, events=["pause"])
    row = follow(follower, follower_account)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="refused")
    # Fred chose resume only: no pause or failure message is queued for him, before or after commit.
    for callback in callbacks:
        callback()
    assert worker == []
    gina = follow(other_follower, make_account(other_follower))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.trade_error_record(settings_id=gina.pk, error_type="REJECTED", message="refused")
        assert worker == []  # inside the transaction: nothing queued yet
    for callback in callbacks:
        callback()
    assert [event for _, event, _, _ in worker] == ["pause"]
    assert receiver.wait_for(1) == ["[TradeDesk] Copy trading of mia_master paused: REJECTED"]


def test_a_failure_of_a_follower_already_off_is_sent_as_a_failure(
    client_for, follower, follower_account, follow, receiver, worker, django_capture_on_commit_callbacks
):
    choose(client_for(follower), apprise_url=receiver.url, events=["failure", "pause"])
    row = follow(follower, follower_account, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="a late refusal")
    assert receiver.wait_for(1) == ["[TradeDesk] Copy trade failed (mia_master): REJECTED"]


def test_a_channel_that_fails_is_logged_and_never_raised(follower, caplog):
    notify.notify_settings_update(user=follower, apprise_url="json://127.0.0.1:1/", events=["pause"])
    assert notify.follower_notify(user_id=follower.pk, event="pause", title="t", body="b") is False
    assert "notification pause to user" in caplog.text
    assert "127.0.0.1:1" not in caplog.text


def test_the_channels_are_encrypted_masked_and_kept_out_of_the_audit(client_for, follower, receiver):
    secret = f"{receiver.url}?token=abcd-secret-wxyz"
    shown = choose(client_for(follower), apprise_url=secret, events=["pause"])
    assert shown["apprise_url"].startswith("json://••••")
    assert "secret" not in str(shown) and "127.0.0.1" not in str(shown)
    assert "secret" not in str(client_for(follower).get(URL).json())
    row = FollowerNotifySettings.objects.get(user=follower)
    assert "secret" not in row.channels_encrypted and row.channels_encrypted
    assert notify.notify_channels(row)["apprise_url"] == secret
    history = row.history.first()
    assert not hasattr(history, "channels_encrypted")
    assert history.history_change_reason == f"changed by {follower.username} (channels: apprise_url)"


def test_each_user_reads_and_sets_only_their_own(client_for, follower, other_follower, receiver):
    choose(client_for(follower), apprise_url=receiver.url, events=["pause"])
    theirs = client_for(other_follower).get(URL).json()
    assert theirs == {"apprise_url": "", "email": "", "events": [], "email_available": False}
    assert client_for(None).get(URL).status_code in (401, 403)
    assert client_for(None).put(URL, {"events": []}, format="json").status_code in (401, 403)
    # A field left out keeps its value; an empty string removes the channel.
    assert choose(client_for(follower), events=["resume"])["apprise_url"].startswith("json://")
    assert choose(client_for(follower), apprise_url="")["apprise_url"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"apprise_url": "not a url"}, "apprise_url"),
        ({"apprise_url": "json://" + "a" * 1000}, "apprise_url"),
        ({"events": ["pause", "weather"]}, "events"),
        ({"events": "pause"}, "events"),
        ({"email": "fred@example.com"}, "email"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_for, follower, body, field):
    answer = client_for(follower).put(URL, body, format="json")
    assert answer.status_code == 400, answer.json()
    assert field in str(answer.json())


def test_email_goes_through_the_desks_mail_server_to_the_followers_address(settings, follower, client_for):
    settings.FOLLOW_NOTIFY_EMAIL_URL = "mailtos://desk:pw@smtp.example.com"
    shown = choose(client_for(follower), email="fred@example.com", events=["pause"])
    assert (shown["email"], shown["email_available"]) == ("••••@example.com", True)
    row = FollowerNotifySettings.objects.get(user=follower)
    assert notify._urls(notify.notify_channels(row)) == ["mailtos://desk:pw@smtp.example.com?to=fred%40example.com"]
    bad = client_for(follower).put(URL, {"email": "fred@example.com?bcc=x@y.z"}, format="json")
    assert bad.status_code == 400 and "email" in str(bad.json())


def test_the_task_sends_nothing_to_a_user_without_settings(follower):
    assert notify.follower_notify(user_id=follower.pk, event="pause", title="t", body="b") is False
    assert not FollowerNotifySettings.objects.filter(user=follower).exists()


def test_the_dashboard_form_sets_the_users_own_channel_and_events_and_shows_it_masked(follower, receiver):
    from django.test import Client

    client = Client()
    client.force_login(follower)
    assert 'hx-get="/follow/notifications/"' in client.get("/follow/").content.decode()
    answer = client.post("/follow/notifications/", {"apprise_url": f"{receiver.url}?k=s3cret", "events": ["pause"]})
    page = answer.content.decode()
    assert answer.status_code == 200 and "Saved." in page
    assert "s3cret" not in page and "127.0.0.1" not in page
    row = FollowerNotifySettings.objects.get(user=follower)
    assert row.events == ["pause"] and notify.notify_channels(row)["apprise_url"].endswith("?k=s3cret")
    # An empty field keeps the channel; the events are what is ticked.
    client.post("/follow/notifications/", {"events": ["pause", "resume"]})
    row.refresh_from_db()
    assert row.events == ["pause", "resume"] and notify.notify_channels(row)["apprise_url"]
    bad = client.post("/follow/notifications/", {"apprise_url": "nonsense"})
    assert bad.status_code == 400 and 'data-testid="notify-error">apprise_url' in bad.content.decode()
    client.post("/follow/notifications/", {"remove_apprise_url": "1", "events": []})
    row.refresh_from_db()
    assert notify.notify_channels(row) == {} and row.events == []


def test_the_dashboard_form_needs_a_login(client):
    assert client.get("/follow/notifications/").status_code == 302
    assert client.post("/follow/notifications/", {"events": ["pause"]}).status_code == 302
