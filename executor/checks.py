from django.conf import settings
from django.core.checks import Error, register

from executor.connectors import CONNECTORS


@register()
def executor_is_known(app_configs, **kwargs) -> list[Error]:
    if settings.EXECUTOR in CONNECTORS:
        return []
    known = ", ".join(sorted(CONNECTORS))
    return [
        Error(f"EXECUTOR={settings.EXECUTOR!r} is not a connector", hint=f"Use one of: {known}.", id="executor.E001")
    ]
