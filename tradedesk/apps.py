from django.apps import AppConfig


class TradedeskConfig(AppConfig):
    name = "tradedesk"
    verbose_name = "Desk access"
