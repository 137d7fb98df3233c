from django.urls import path

from portfolio import api, views

app_name = "portfolio"

urlpatterns = [
    path("api/positions", api.PositionListApi.as_view(), name="api-positions"),
    path("api/balances", api.BalanceListApi.as_view(), name="api-balances"),
    path("api/fills", api.FillListApi.as_view(), name="api-fills"),
    path("api/journal.csv", api.JournalCsvApi.as_view(), name="api-journal-csv"),
    path("api/strategies/summary", api.StrategySummaryApi.as_view(), name="api-strategy-summary"),
    path("api/refusals", api.RefusalListApi.as_view(), name="api-refusals"),
    path("positions/", views.positions_page, name="positions"),
    path("positions/fragment/", views.positions_fragment, name="positions-fragment"),
    path("journal/", views.journal_page, name="journal"),
    path("journal/export.csv", views.journal_csv, name="journal-csv"),
    path("strategies/", views.strategies_page, name="strategies"),
    path("refusals/", views.refusals_page, name="refusals"),
]
