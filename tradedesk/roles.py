"""Desk roles are Django groups. An admin (or superuser) can do everything a trader can,
a trader everything a viewer can."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

VIEWER = "viewer"
TRADER = "trader"
ADMIN = "admin"
ALL_ROLES = (VIEWER, TRADER, ADMIN)

_RANK = {VIEWER: 1, TRADER: 2, ADMIN: 3}


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_desk_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = max((name for name in names if name in _RANK), key=_RANK.__getitem__, default=None)
    user._desk_role = role
    return role


def has_role(user, role: str) -> bool:
    current = role_of(user)
    return current is not None and _RANK[current] >= _RANK[role]
