"""The paper exchange alone, still under /paper/ so its URLs match the embedded ones."""

from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("paper/", include("executor.paper.urls")),
    path("", RedirectView.as_view(url="/paper/", permanent=False)),
]
