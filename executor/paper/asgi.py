"""ASGI entry point for the paper exchange alone (plain HTTP, no WebSockets)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "executor.paper.standalone")
application = get_asgi_application()
