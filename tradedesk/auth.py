"""API authentication: strategy API keys (X-API-KEY) and user tokens (Authorization: Bearer)."""

import functools

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.models import APIKey

from tradedesk import roles
from tradedesk.db import prepared_cursor
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
    """The unrevoked, unexpired row of this key, its hash checked; None otherwise.

    What the library's `get_from_key` does (the row by the key's prefix among unrevoked keys,
    then the hash), but on PostgreSQL with one prepared statement instead of a query the ORM
    builds for every request: with the ORM the key check was 30% of the intake's CPU in the
    view's own profile, 17% after (bench/README.md, "Signal intake").
    """
    if connection.vendor != "postgresql":
        try:
            row = model.objects.get_from_key(key)
        except model.DoesNotExist:
            return None
    else:
        row = _usable_key_by_prefix(model, key.partition(".")[0])
        if row is None or not row.is_valid(key):
            return None
    return None if row.has_expired else row


def _usable_key_by_prefix(model, prefix: str):
    sql, attnames = _key_statement(model)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [prefix])
        values = cursor.fetchone()
    return None if values is None else model.from_db(connection.alias, attnames, values)


@functools.cache
def _key_statement(model) -> tuple[str, list[str]]:
    """The library's `get_usable_keys().get(prefix=...)` as SQL, built once from the model (its
    own table and column names, quoted; the prefix goes as a parameter)."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(model._meta.db_table)
    prefix, revoked = (quote(model._meta.get_field(name).column) for name in ("prefix", "revoked"))
    sql = f"SELECT {columns} FROM {table} WHERE {prefix} = %s AND NOT {revoked}"  # noqa: S608
    return sql, [field.attname for field in fields]


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
