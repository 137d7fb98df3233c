from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = "Staff desk"

    def ready(self) -> None:
        from desk import admin_access

        admin_access.install()
