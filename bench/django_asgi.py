"""Any of the bench's apps under Django's own ASGI handler (`--shape django-asgi`): the desk's
HTTP shape before tradedesk/asgi.py moved HTTP to the WSGI handler in a thread pool."""

from django.core.asgi import get_asgi_application

application = get_asgi_application()
