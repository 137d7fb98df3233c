"""Who may open which desk page or action, enforced on the server for every view.

Anonymous users are sent to the login page (an HTMX request is told to go there with
HX-Redirect, since a redirect inside a fragment would land the login form in a table cell);
logged-in users without the role get 403.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from tradedesk import roles


def role_required(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                    return response
                return redirect_to_login(request.get_full_path())
            if not roles.has_role(request.user, role):
                raise PermissionDenied(f"the {role} role is required")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


viewer_required = role_required(roles.VIEWER)
trader_required = role_required(roles.TRADER)
