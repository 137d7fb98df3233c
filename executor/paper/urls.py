from django.urls import include, path

from executor.paper import api, views

app_name = "paper"

urlpatterns = [
    path("pro/", include("executor.paper.pro.urls")),
    path("binance/", include("executor.paper.binance.urls")),
    path("", views.home_view, name="home"),
    path("login", views.login_view, name="login"),
    path("login/2fa", views.login_2fa_view, name="login-2fa"),
    path("logout", views.logout_view, name="logout"),
    path("trade/<str:symbol>", views.trade_view, name="trade"),
    path("orders", views.orders_view, name="orders"),
    path("orders/<str:order_id>/cancel", views.order_cancel_view, name="order-cancel"),
    path("trades", views.trades_view, name="trades"),
    path("account", views.account_view, name="account"),
    path("assets/<str:name>", views.asset_view, name="asset"),
    path("api/orders", api.OrderListCreateApi.as_view(), name="api-orders"),
    path("api/orders/open", api.OpenOrderListApi.as_view(), name="api-orders-open"),
    path("api/orders/<str:order_id>", api.OrderByIdApi.as_view(), name="api-order"),
    path("api/orders/<str:order_id>/cancel", api.OrderCancelByIdApi.as_view(), name="api-order-cancel-by-id"),
    path("api/trades", api.TradeListApi.as_view(), name="api-trades"),
    path(
        "api/orders/by-client-id/<str:client_order_id>",
        api.OrderByClientIdApi.as_view(),
        name="api-order-by-client-id",
    ),
    path(
        "api/orders/by-client-id/<str:client_order_id>/cancel",
        api.OrderCancelApi.as_view(),
        name="api-order-cancel",
    ),
    path("api/positions", api.PositionListApi.as_view(), name="api-positions"),
    path("api/balances", api.BalanceListApi.as_view(), name="api-balances"),
    path("api/prices/<str:symbol>", api.PriceApi.as_view(), name="api-price"),
    path("api/instruments", api.InstrumentListApi.as_view(), name="api-instruments"),
]
