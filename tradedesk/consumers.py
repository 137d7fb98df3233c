"""The base of the desk's live sockets: authenticate, join one group, forward its events."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ops import metrics
from tradedesk import roles


class DeskEventsConsumer(AsyncJsonWebsocketConsumer):
    group: str = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await database_sync_to_async(roles.has_role)(user, roles.VIEWER):
            # Refuse the handshake: anonymous users and users without a desk role get a 403.
            metrics.WEBSOCKET_REFUSED.labels(path=self.scope["path"]).inc()
            await self.close()
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self._counted = True
        metrics.WEBSOCKETS.labels(path=self.scope["path"]).inc()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            metrics.WEBSOCKETS.labels(path=self.scope["path"]).dec()
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # Read-only stream; a client's pings are answered so it can detect a dead socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def desk_event(self, message: dict) -> None:
        await self.send_json(message["event"])
