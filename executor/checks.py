from django.conf import settings
from django.core.checks import Error, register

EXECUTORS = ("dry_run", "exchange")


@register()
def executor_is_known(app_configs, **kwargs) -> list[Error]:
    if settings.EXECUTOR in EXECUTORS:
        return []
    return [
        Error(
            f"EXECUTOR={settings.EXECUTOR!r} is not known",
            hint="dry_run (fill without a venue) or exchange (the desk's default exchange account).",
            id="executor.E001",
        )
    ]
