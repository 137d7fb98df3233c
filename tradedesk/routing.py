from django.urls import path

from orders.consumers import OrdersConsumer
from signals.consumers import SignalsConsumer

websocket_urlpatterns = [
    path("ws/signals", SignalsConsumer.as_asgi()),
    path("ws/orders", OrdersConsumer.as_asgi()),
]
