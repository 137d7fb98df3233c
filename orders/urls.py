from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<int:order_id>/refresh/", views.order_refresh, name="order-refresh"),
    path("orders/<int:order_id>/resolve/", views.order_resolve, name="order-resolve"),
]
