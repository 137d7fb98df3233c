"""Served like the desk (tradedesk/asgi.py): Django's WSGI handler in tradedesk.wsgi_pool's thread pool."""

import os

from bench.baseline_app.wsgi import application as wsgi_application
from tradedesk.wsgi_pool import ThreadPoolWSGI

application = ThreadPoolWSGI(wsgi_application, workers=int(os.environ.get("WEB_THREADS", "8")))
