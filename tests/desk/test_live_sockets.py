"""A desk socket lives only as long as its login: a logout elsewhere, an expired session, a
password change or a role taken away closes it at the page's next ping (close code 4401)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from tradedesk.asgi import application
from tradedesk.consumers import SESSION_ENDED

pytestmark = pytest.mark.django_db(transaction=True)


def login_session(user) -> SessionStore:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session


async def open_socket(session: SessionStore, path: str = "/ws/signals") -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def ping(communicator: WebsocketCommunicator) -> dict:
    await communicator.send_json_to({"type": "ping"})
    return await communicator.receive_output(timeout=5)


async def test_a_live_login_keeps_getting_pongs(viewer):
    session = await database_sync_to_async(login_session)(viewer)
    communicator = await open_socket(session)
    for _ in range(2):
        answer = await ping(communicator)
        assert answer["type"] == "websocket.send" and '"pong"' in answer["text"]
    await communicator.disconnect()


def _log_out(user, session):
    session.flush()


def _take_the_role(user, session):
    user.groups.clear()


def _change_the_password(user, session):
    user.set_password("a-new-password-1")
    user.save()


def _deactivate(user, session):
    user.is_active = False
    user.save()


@pytest.mark.parametrize("end", [_log_out, _take_the_role, _change_the_password, _deactivate])
async def test_a_socket_whose_login_ended_is_closed_at_the_next_ping(trader, end):
    session = await database_sync_to_async(login_session)(trader)
    communicator = await open_socket(session, "/ws/orders")
    assert '"pong"' in (await ping(communicator))["text"]
    await database_sync_to_async(end)(trader, SessionStore(session.session_key))
    answer = await ping(communicator)
    assert answer == {"type": "websocket.close", "code": SESSION_ENDED}
