from django.apps import AppConfig


class ExecutorConfig(AppConfig):
    name = "executor"

    def ready(self) -> None:
        from executor import checks  # noqa: F401  (registers the system checks)
        from executor.browser import worker  # noqa: F401  (only browser workers open browsers)
