"""ASGI entry point: Django's WSGI handler for HTTP, Channels for the /ws/ sockets.

HTTP requests run Django's sync handler in a pool of WEB_THREADS threads (a2wsgi) rather than
Django's ASGI handler: the desk's views and middleware are sync, and under the ASGI handler every
sync middleware hook and request signal is a hop to a thread and back (about 3-6 ms of CPU per
request, bench/README.md); here a request is one hop into a pool thread. One process still
answers both HTTP and WebSockets on one port, so pages open their sockets on their own origin.
"""

import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from tradedesk import events  # noqa: E402
from tradedesk.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        # The pool's threads each hold one database connection from the pool while they serve.
        "http": WSGIMiddleware(django_wsgi_app, workers=settings.WEB_THREADS),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    # The server's loop is where sockets wait on the channel layer; events sent from request
    # and worker threads are handed to that loop (see tradedesk.events).
    events.remember_server_loop()
    return await router(scope, receive, send)
