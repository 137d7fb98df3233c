"""/ws/signals and /ws/orders: authenticated staff get the seed's events, everyone else is refused."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from orders import services as order_services
from signals import services as signal_services
from tradedesk.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


async def connect(path: str, user=None) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


async def test_staff_receive_signal_created_and_updated(viewer, trader):
    communicator, connected = await connect("/ws/signals", viewer)
    assert connected
    signal, _ = await database_sync_to_async(signal_services.signal_create)(
        api_key=None, symbol="BTC/USDT", side="BUY", suggest_qty=1, strategy_name="ws"
    )
    event = await communicator.receive_json_from(timeout=5)
    assert event["type"] == "signal_created"
    assert event["data"]["id"] == signal.pk and event["data"]["status"] == "PENDING"
    await database_sync_to_async(signal_services.signal_decide)(signal_id=signal.pk, status="ACCEPTED", user=trader)
    event = await communicator.receive_json_from(timeout=5)
    assert (event["type"], event["data"]["status"]) == ("signal_updated", "ACCEPTED")
    await communicator.disconnect()


async def test_staff_receive_order_updated_through_to_the_result(trader, make_signal, queued_tasks):
    from orders import tasks

    signal = await database_sync_to_async(make_signal)()
    communicator, connected = await connect("/ws/orders", trader)
    assert connected
    order = await database_sync_to_async(order_services.order_create)(
        user=trader, signal_id=signal.pk, qty=1, order_type="LIMIT", price=100
    )
    event = await communicator.receive_json_from(timeout=5)
    assert (event["type"], event["data"]["id"], event["data"]["status"]) == ("order_updated", order.pk, "SUBMITTING")
    await database_sync_to_async(tasks.place_order)(order.pk)
    event = await communicator.receive_json_from(timeout=5)
    assert (event["data"]["status"], event["data"]["exchange_order_id"][:4]) == ("SUCCESS", "dry-")
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/ws/signals", "/ws/orders"])
async def test_anonymous_sockets_are_refused(path):
    communicator, connected = await connect(path)
    assert not connected


@pytest.mark.parametrize("path", ["/ws/signals", "/ws/orders"])
async def test_users_without_a_desk_role_are_refused(path, outsider):
    communicator, connected = await connect(path, outsider)
    assert not connected


async def test_a_foreign_origin_is_refused(viewer):
    cookie = await database_sync_to_async(session_cookie)(viewer)
    communicator = WebsocketCommunicator(
        application, "/ws/signals", headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert not connected


async def test_the_socket_answers_pings(viewer):
    communicator, _ = await connect("/ws/orders", viewer)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()
