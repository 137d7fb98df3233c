"""API authentication: strategy API keys (X-API-KEY) and user tokens (Authorization: Bearer)."""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.models import APIKey

from tradedesk import roles
from tradedesk.models import UserToken


class StrategyKeyAuthentication(authentication.BaseAuthentication):
    """`X-API-KEY: <key>`; request.user stays anonymous, request.auth is the APIKey row."""

    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        key = request.META.get(self.header)
        if key is None:
            return None
        api_key = _valid_key(APIKey, key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("X-API-KEY is wrong, revoked or expired.")
        return (AnonymousUser(), api_key)

    def authenticate_header(self, request) -> str:
        return "X-API-KEY"


class UserTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization must be 'Bearer <token>'.")
        token = _valid_key(UserToken, parts[1].decode("latin-1"))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("The bearer token is wrong, revoked or expired.")
        return (token.user, token)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def _valid_key(model, key: str):
    # get_from_key looks the row up by its prefix among unrevoked keys and checks the hash.
    try:
        row = model.objects.get_from_key(key)
    except model.DoesNotExist:
        return None
    return None if row.has_expired else row


def strategy_key_of(request) -> APIKey | None:
    return request.auth if isinstance(request.auth, APIKey) else None


class IsStrategy(permissions.BasePermission):
    message = "A valid X-API-KEY header is required."

    def has_permission(self, request, view) -> bool:
        return strategy_key_of(request) is not None


class IsUserOrStrategy(permissions.BasePermission):
    """Any logged-in user (session or bearer token) or a strategy key: who may read the schema."""

    message = "Log in, or send a bearer token or a strategy X-API-KEY."

    def has_permission(self, request, view) -> bool:
        return strategy_key_of(request) is not None or bool(request.user and request.user.is_authenticated)


class IsViewer(permissions.BasePermission):
    message = "Desk access (viewer, trader or admin role) is required."

    def has_permission(self, request, view) -> bool:
        return roles.has_role(request.user, roles.VIEWER)


class IsTrader(permissions.BasePermission):
    message = "The trader role is required."

    def has_permission(self, request, view) -> bool:
        return roles.has_role(request.user, roles.TRADER)


class StrategyKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tradedesk.auth.StrategyKeyAuthentication"
    name = "StrategyApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-KEY"}


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tradedesk.auth.UserTokenAuthentication"
    name = "BearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
