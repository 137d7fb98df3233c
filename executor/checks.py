from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

from executor.browser.profile import BUILTIN_DIR, ProfileError, parse_profile

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


@register()
def exchange_profiles_load(app_configs, **kwargs) -> list[Error]:
    """Every profile the browser executor may use parses (a mistake names its file and key)."""
    errors = []
    for directory in [*map(Path, settings.EXCHANGE_PROFILE_DIRS), BUILTIN_DIR]:
        for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
            try:
                parse_profile(path.read_text(), source=str(path))
            except ProfileError as exc:
                errors.append(
                    Error(str(exc), hint="Fix the exchange profile (README: Exchange profiles).", id="executor.E002")
                )
    return errors
