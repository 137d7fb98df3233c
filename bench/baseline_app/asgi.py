"""Served by the same uvicorn command line as the desk (tradedesk.asgi), only the app differs."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline_app.settings")
application = get_asgi_application()
