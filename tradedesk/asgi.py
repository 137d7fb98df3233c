"""ASGI entry point: Django's WSGI handler for HTTP, Channels for the /ws/ sockets and the paper
exchange's Binance WebSocket API (/paper/binance/ws-api/v3).

HTTP requests run Django's sync handler in a pool of WEB_THREADS threads (tradedesk.wsgi_pool)
rather than Django's ASGI handler: the desk's views and middleware are sync, and under the ASGI
handler every sync middleware hook and request signal is a hop to a thread and back (about 3-6
ms of CPU per request, bench/README.md); here a request is one hop into a pool thread and its
answer one hop back. Requests under /api/ go through a second Django handler with a shorter
middleware chain (settings.API_MIDDLEWARE). One process still answers both HTTP and WebSockets on
one port, so pages open their sockets on their own origin.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from executor.paper.binance.routing import websocket_urlpatterns as paper_websocket_urlpatterns  # noqa: E402
from tradedesk import events  # noqa: E402
from tradedesk.middleware import API_PREFIX, ApiWSGIHandler  # noqa: E402
from tradedesk.routing import websocket_urlpatterns  # noqa: E402
from tradedesk.wsgi_pool import ThreadPoolWSGI  # noqa: E402

# The API's requests skip the middleware only pages use (settings.API_MIDDLEWARE).
api_wsgi_app = ApiWSGIHandler()


def wsgi_app(environ: dict, start_response):
    handler = api_wsgi_app if environ["PATH_INFO"].startswith(API_PREFIX) else django_wsgi_app
    return handler(environ, start_response)


router = ProtocolTypeRouter(
    {
        # The pool's threads each hold one database connection from the pool while they serve.
        "http": ThreadPoolWSGI(wsgi_app, workers=settings.WEB_THREADS),
        # The paper exchange's Binance socket is an API's: its clients send no Origin and no
        # session, so it is routed before the desk's origin check and login; the rest falls through.
        "websocket": URLRouter(
            [
                *paper_websocket_urlpatterns,
                re_path(r"^", AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
            ]
        ),
    }
)

# The ~110,000 objects of the loaded code (modules, classes, url patterns, settings) live as long
# as the process: kept out of the collector's sight, a full collection no longer walks them all
# (75-85 ms on the 2-core bench machine, with every request thread of the process stopped).
gc.freeze()


async def application(scope, receive, send):
    # The server's loop is where sockets wait on the channel layer; events sent from request
    # and worker threads are handed to that loop (see tradedesk.events).
    events.remember_server_loop()
    return await router(scope, receive, send)
