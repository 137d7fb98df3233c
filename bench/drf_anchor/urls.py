from django.urls import path

from bench.drf_anchor.views import SignalCreateApi

urlpatterns = [path("api/signals", SignalCreateApi.as_view())]
