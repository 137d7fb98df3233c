"""The Binance dialect's WebSocket API path, under /paper/ as its REST paths are."""

from django.urls import path

from executor.paper.binance.stream import PaperUserDataConsumer

websocket_urlpatterns = [
    path("paper/binance/ws-api/v3", PaperUserDataConsumer.as_asgi()),
]
