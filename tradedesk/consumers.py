"""The base of the desk's live sockets: authenticate, join one group, forward its events."""

from importlib import import_module

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils.crypto import constant_time_compare

from ops import counters
from tradedesk import roles

# Close code for a socket whose login ended after the handshake (4000-4999: the application's own).
SESSION_ENDED = 4401


class DeskEventsConsumer(AsyncJsonWebsocketConsumer):
    group: str = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await database_sync_to_async(roles.has_role)(user, roles.VIEWER):
            # Refuse the handshake: anonymous users and users without a desk role get a 403.
            counters.WEBSOCKET_REFUSED.labels(path=self.scope["path"]).inc()
            await self.close()
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self._counted = True
        counters.WEBSOCKETS.labels(path=self.scope["path"]).inc()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            counters.WEBSOCKETS.labels(path=self.scope["path"]).dec()
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # Read-only stream; a client's pings are answered so it can detect a dead socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            if not await database_sync_to_async(self._still_allowed)():
                # Logged out (in another tab, or the session expired), deactivated or lost the
                # role since the handshake: no more events; the page goes to the login.
                await self.close(code=SESSION_ENDED)
                return
            await self.send_json({"type": "pong"})

    def _still_allowed(self) -> bool:
        user = self.scope.get("user")
        fresh = get_user_model().objects.filter(pk=getattr(user, "pk", None)).first()
        if fresh is None or not roles.has_role(fresh, roles.VIEWER):
            return False
        session = self.scope.get("session")
        if session is None or not session.session_key:
            return True
        # The session as stored now (not the copy read at the handshake): gone after a logout or
        # its expiry; its password hash stale after a password change, as Django's own check.
        stored = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key).load()
        if stored.get(SESSION_KEY) != str(fresh.pk):
            return False
        return constant_time_compare(stored.get(HASH_SESSION_KEY, ""), fresh.get_session_auth_hash())

    async def desk_event(self, message: dict) -> None:
        await self.send_json(message["event"])
