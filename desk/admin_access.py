"""Django admin follows the desk's roles.

The admin role (the `admin` group, or a superuser) opens Django admin and may do everything in
it; no other login does, whatever its `is_staff` flag says. So an admin who puts a colleague in
the `admin` group in admin (Users) has made a full admin, and one who takes them out of it has
closed admin to them, with nothing else to keep in step.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from tradedesk import roles


def is_desk_admin(user) -> bool:
    return roles.role_of(user) == roles.ADMIN


class AdminRoleBackend(BaseBackend):
    """Every model permission for the admin role (authenticates nobody: ModelBackend does that)."""

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return is_desk_admin(user_obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return is_desk_admin(user_obj)


class AdminRoleLoginForm(AdminAuthenticationForm):
    """Admin's own login page lets in the admin role, not `is_staff`."""

    def confirm_login_allowed(self, user) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # an inactive user is refused as usual
        if not is_desk_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


def _admin_site_has_permission(request: HttpRequest) -> bool:
    return request.user.is_active and is_desk_admin(request.user)


def install() -> None:
    admin.site.has_permission = _admin_site_has_permission
    admin.site.login_form = AdminRoleLoginForm
