"""Binance Spot REST v3 paths, mounted at /paper/binance/ (so ccxt's urls['api'] is <base>/api/v3)."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from executor.paper.binance import market, trading
from executor.paper.binance.errors import unknown_endpoint
from executor.paper.binance.wire import route

app_name = "binance"


@csrf_exempt
def _unknown(request, rest: str = ""):
    return unknown_endpoint().response()


urlpatterns = [
    path("api/v3/ping", route(GET=market.ping), name="ping"),
    path("api/v3/time", route(GET=market.server_time), name="time"),
    path("api/v3/exchangeInfo", route(GET=market.exchange_info), name="exchange-info"),
    path("api/v3/ticker/price", route(GET=market.ticker_price), name="ticker-price"),
    path("api/v3/ticker/bookTicker", route(GET=market.book_ticker), name="book-ticker"),
    path("api/v3/ticker/24hr", route(GET=market.ticker_24hr), name="ticker-24hr"),
    path("api/v3/depth", route(GET=market.depth), name="depth"),
    path("api/v3/account", route(GET=trading.account), name="account"),
    path(
        "api/v3/order",
        route(POST=trading.order_new, GET=trading.order_query, DELETE=trading.order_cancel),
        name="order",
    ),
    path("api/v3/order/test", route(POST=trading.order_test), name="order-test"),
    path(
        "api/v3/openOrders",
        route(GET=trading.open_orders, DELETE=trading.open_orders_cancel),
        name="open-orders",
    ),
    path("api/v3/allOrders", route(GET=trading.all_orders), name="all-orders"),
    path("api/v3/myTrades", route(GET=trading.my_trades), name="my-trades"),
    re_path(r"^(?P<rest>.*)$", _unknown, name="unknown"),
]
