from django.urls import path

from portfolio import api, views

app_name = "portfolio"

urlpatterns = [
    path("api/positions", api.PositionListApi.as_view(), name="api-positions"),
    path("api/balances", api.BalanceListApi.as_view(), name="api-balances"),
    path("positions/", views.positions_page, name="positions"),
    path("positions/fragment/", views.positions_fragment, name="positions-fragment"),
]
