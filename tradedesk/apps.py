from django.apps import AppConfig


class TradedeskConfig(AppConfig):
    name = "tradedesk"
    verbose_name = "Desk access"

    def ready(self) -> None:
        from tradedesk import formatting

        formatting.install_api_formats()
        formatting.install_admin_formats()
