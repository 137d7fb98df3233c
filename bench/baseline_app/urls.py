from django.urls import path

from bench.baseline_app.views import intake

urlpatterns = [path("api/signals", intake)]
