from django.apps import AppConfig


class ExecutorConfig(AppConfig):
    name = "executor"

    def ready(self) -> None:
        # The system checks; workers import their API clients before forking their pool.
        from executor import checks, warmup  # noqa: F401
        from executor.browser import worker  # noqa: F401  (only browser workers open browsers)
