"""Served like the desk (tradedesk/asgi.py): Django's WSGI handler in a2wsgi's thread pool."""

import os

from a2wsgi import WSGIMiddleware

from bench.drf_anchor.wsgi import application as wsgi_application

application = WSGIMiddleware(wsgi_application, workers=int(os.environ.get("WEB_THREADS", "8")))
