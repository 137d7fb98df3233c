from django.apps import AppConfig


class PaperConfig(AppConfig):
    name = "executor.paper"
    label = "paper"
    verbose_name = "Paper exchange"
