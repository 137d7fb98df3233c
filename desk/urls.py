from django.contrib.auth import views as auth_views
from django.urls import path

from desk import views

app_name = "desk"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signals/", views.signals_page, name="signals"),
    path("signals/rows/", views.signal_rows, name="signal-rows"),
    path("signals/net/", views.signal_net, name="signal-net"),
    path("signals/bulk/", views.signal_bulk_decide, name="signal-bulk"),
    path("signals/bulk/reject/", views.signal_bulk_reject_form, name="signal-bulk-reject"),
    path("signals/<int:signal_id>/", views.signal_detail, name="signal-detail"),
    path("signals/<int:signal_id>/chart/", views.signal_chart, name="signal-chart"),
    path("signals/<int:signal_id>/row/", views.signal_row, name="signal-row"),
    path("signals/<int:signal_id>/accept/", views.signal_accept, name="signal-accept"),
    path("signals/<int:signal_id>/reject/", views.signal_reject, name="signal-reject"),
    path("signals/<int:signal_id>/order/", views.order_form, name="order-form"),
    path("signals/<int:signal_id>/order/preview/", views.order_preview, name="order-preview"),
    path("signals/<int:signal_id>/order/confirm/", views.order_confirm, name="order-confirm"),
    path("orders/", views.orders_page, name="orders"),
    path("orders/rows/", views.order_rows, name="order-rows"),
    path("orders/<int:order_id>/", views.order_detail, name="order-detail"),
    path("orders/<int:order_id>/row/", views.order_row, name="order-row"),
]
