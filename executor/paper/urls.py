from django.urls import path

app_name = "paper"

urlpatterns: list = []
