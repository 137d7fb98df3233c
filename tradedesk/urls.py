from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from executor.api import ExecutorHealthApi
from orders.api import (
    OrderCancelApi,
    OrderDetailApi,
    OrderEvidenceApi,
    OrderListCreateApi,
    OrderRefreshApi,
    OrderResolveApi,
)
from signals.api import SignalDetailApi, SignalListCreateApi
from tradedesk.schema import ScopedSchemaView

api = [
    path("api/signals", SignalListCreateApi.as_view(), name="signal-list"),
    path("api/signals/<int:signal_id>", SignalDetailApi.as_view(), name="signal-detail"),
    path("api/orders", OrderListCreateApi.as_view(), name="order-list"),
    path("api/orders/<int:order_id>", OrderDetailApi.as_view(), name="order-detail"),
    path("api/orders/<int:order_id>/cancel", OrderCancelApi.as_view(), name="order-cancel"),
    path("api/orders/<int:order_id>/refresh", OrderRefreshApi.as_view(), name="order-refresh"),
    path("api/orders/<int:order_id>/resolve", OrderResolveApi.as_view(), name="order-resolve"),
    path(
        "api/orders/<int:order_id>/screenshot",
        OrderEvidenceApi.as_view(),
        {"kind": "screenshot"},
        name="order-screenshot",
    ),
    path("api/orders/<int:order_id>/trace", OrderEvidenceApi.as_view(), {"kind": "trace"}, name="order-trace"),
    path("api/executor/health", ExecutorHealthApi.as_view(), name="executor-health"),
]

urlpatterns = [
    *api,
    path("api/schema/", ScopedSchemaView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("paper/", include("executor.paper.urls")),
    path("", include("ops.urls")),
    path("", include("orders.urls")),
    path("", include("following.urls")),
    path("", include("portfolio.urls")),
    path("", include("desk.urls")),
]
