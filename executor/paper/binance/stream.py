"""Binance's Spot WebSocket API, the part a User Data Stream needs (binance-spot-api-docs
web-socket-api.md): `ping`, `time`, `userDataStream.subscribe.signature`,
`userDataStream.unsubscribe` and `session.subscriptions`, on <paper>/binance/ws-api/v3.

Requests are JSON text frames {"id", "method", "params"} (a method may be written `v3/<method>`);
each is answered {"id", "status": 200, "result"} or {"id", "status": 4xx, "error": {"code", "msg"}}.
A subscribe is SIGNED like any WebSocket API request: `signature` = hex HMAC-SHA256, keyed with the
secret, of the other params sorted by name and joined as name=value&...; the checks and their codes
are the REST dialect's (wire.verify_signed). Each subscription joins the account's group; the
events user_data publishes after commit reach the socket as {"subscriptionId", "event"}.

No writes; the key is looked up as the REST dialect does. The socket is not the desk's: no session,
no Origin check (API clients send neither). Pings are the server's own (uvicorn's ws_ping_interval).
"""

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from executor.paper.binance import errors, user_data
from executor.paper.binance.errors import BinanceError
from executor.paper.binance.wire import Call, now_ms, verify_signed

logger = logging.getLogger(__name__)

SUBSCRIBE = "userDataStream.subscribe.signature"


def _param_text(value: object) -> str:
    """A JSON param as the text it is signed as: numbers and strings as written, booleans lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def signing_payload(params: dict[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in sorted(params.items()) if name != "signature")


class PaperUserDataConsumer(AsyncWebsocketConsumer):
    """One WebSocket API connection: its subscriptions (id -> account id), numbered from 0."""

    async def connect(self) -> None:
        self.subscriptions: dict[int, int] = {}
        self.next_subscription_id = 0
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for account_id in set(getattr(self, "subscriptions", {}).values()):
            await self.channel_layer.group_discard(user_data.group(account_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        request_id = None
        try:
            try:
                request = json.loads(text_data if text_data is not None else bytes_data)
            except ValueError:
                raise errors.invalid_json() from None
            if not isinstance(request, dict):
                raise errors.invalid_json()
            request_id = request.get("id")
            if not isinstance(request_id, int | str | None) or isinstance(request_id, bool):
                request_id = None
                raise errors.mandatory("id")
            method = request.get("method")
            params = request.get("params", {})
            if not isinstance(method, str) or not method:
                raise errors.mandatory("method")
            if not isinstance(params, dict):
                raise errors.mandatory("params")
            result = await self._answer(method.removeprefix("v3/"), params)
        except BinanceError as exc:
            answer = {"id": request_id, "status": exc.status, "error": {"code": exc.code, "msg": exc.msg}}
        else:
            answer = {"id": request_id, "status": 200, "result": result}
        await self.send(text_data=json.dumps(answer))

    async def _answer(self, method: str, params: dict) -> dict | list:
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": now_ms()}
        if method == SUBSCRIBE:
            return await self._subscribe(params)
        if method == "userDataStream.unsubscribe":
            return await self._unsubscribe(params)
        if method == "session.subscriptions":
            return [{"subscriptionId": subscription_id} for subscription_id in sorted(self.subscriptions)]
        raise errors.unsupported_operation()

    async def _subscribe(self, params: dict) -> dict:
        call = Call(params={name: _param_text(value) for name, value in params.items()})
        api_key = call.text("apiKey", required=True)
        await database_sync_to_async(verify_signed)(call, api_key=api_key, payload=signing_payload(call.params))
        account_id = call.account.pk
        if account_id in self.subscriptions.values():
            raise errors.stream_already_subscribed()
        subscription_id = self.next_subscription_id
        self.next_subscription_id += 1
        self.subscriptions[subscription_id] = account_id
        await self.channel_layer.group_add(user_data.group(account_id), self.channel_name)
        logger.info("paper binance user data stream %s for account %s", subscription_id, account_id)
        return {"subscriptionId": subscription_id}

    async def _unsubscribe(self, params: dict) -> dict:
        if params.get("subscriptionId") is None:
            ended = list(self.subscriptions)
        else:
            subscription_id = Call(params={"subscriptionId": _param_text(params["subscriptionId"])}).long(
                "subscriptionId"
            )
            if subscription_id not in self.subscriptions:
                raise errors.stream_not_subscribed()
            ended = [subscription_id]
        for subscription_id in ended:
            account_id = self.subscriptions.pop(subscription_id)
            await self.channel_layer.group_discard(user_data.group(account_id), self.channel_name)
        return {}

    async def paper_binance_event(self, message: dict) -> None:
        for subscription_id, account_id in self.subscriptions.items():
            if account_id == message["account"]:
                await self.send(text_data=json.dumps({"subscriptionId": subscription_id, "event": message["event"]}))
