from django.urls import path

from executor.paper.pro import api, views

app_name = "pro"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login", views.login_view, name="login"),
    path("login/verify", views.login_verify_view, name="login-verify"),
    path("logout", views.logout_view, name="logout"),
    path("trade/<str:pair>", views.trade_view, name="trade"),
    path("orders", views.orders_view, name="orders"),
    path("account", views.account_view, name="account"),
    path("rules", views.rules_view, name="rules"),
    path("assets/<str:name>", views.asset_view, name="asset"),
    path("panel/<str:tab>", api.panel_view, name="panel"),
    path("api/order/place", api.order_place_api, name="api-order-place"),
    path("api/order/<int:number>/cancel", api.order_cancel_api, name="api-order-cancel"),
    path("api/ticker/<str:pair>", api.ticker_api, name="api-ticker"),
    path("api/balances/<str:pair>", api.balances_api, name="api-balances"),
]
