"""ASGI entry point for the paper exchange alone: Django's ASGI handler for HTTP, Channels for the
Binance dialect's WebSocket API (/paper/binance/ws-api/v3)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "executor.paper.standalone")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from executor.paper.binance.routing import websocket_urlpatterns  # noqa: E402
from tradedesk import events  # noqa: E402

router = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})


async def application(scope, receive, send):
    # Events are sent from the views' threads; they are handed to this loop (see tradedesk.events).
    events.remember_server_loop()
    return await router(scope, receive, send)
