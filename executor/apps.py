from django.apps import AppConfig


class ExecutorConfig(AppConfig):
    name = "executor"

    def ready(self) -> None:
        from executor import checks  # noqa: F401  (registers the system checks)
