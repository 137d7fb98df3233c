"""Positions, balances, the trade journal and the strategy summary, for staff (viewer and up)."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio import journal, selectors
from portfolio.forms import JournalFilterForm, PeriodForm, RefusalFilterForm, filters_of
from portfolio.serializers import (
    AccountBalancesOutput,
    AccountPositionsOutput,
    JournalFillOutput,
    RefusalOutput,
    StrategySummaryOutput,
)
from tradedesk.auth import IsViewer
from tradedesk.exceptions import NotFound
from tradedesk.ids import MAX_ID
from tradedesk.schema import ERROR_RESPONSES

ACCOUNT_PARAMETER = OpenApiParameter(
    "account", int, description="Only this exchange account (its id); all the desk's accounts when absent."
)


class AccountQuery(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


def _portfolios(request) -> list[selectors.AccountPortfolio]:
    query = AccountQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    account_id = query.validated_data.get("account")
    portfolios = selectors.portfolio_list(account_id=account_id)
    if account_id is not None and not portfolios:
        raise NotFound(f"exchange account {account_id} does not exist or is not one the desk trades", field="account")
    return portfolios


class PositionListApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        parameters=[ACCOUNT_PARAMETER],
        responses={
            200: inline_serializer(
                "PositionList",
                {"cost_method": serializers.CharField(), "accounts": AccountPositionsOutput(many=True)},
            ),
            **ERROR_RESPONSES,
        },
        description="Per exchange account: positions from the desk's own fills by average cost (qty, "
        "average entry, realized P&L after fees, unrealized P&L at the venue's last price), next to the "
        "venue's own position; `drift` is true where the two disagree.",
    )
    def get(self, request):
        return Response(
            {"cost_method": "average_cost", "accounts": AccountPositionsOutput(_portfolios(request), many=True).data}
        )


class BalanceListApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        parameters=[ACCOUNT_PARAMETER],
        responses={
            200: inline_serializer("BalanceList", {"accounts": AccountBalancesOutput(many=True)}),
            **ERROR_RESPONSES,
        },
        description="Per exchange account: the venue's balances (free, locked); `error` says why a venue "
        "could not be read. The dry run has no balances.",
    )
    def get(self, request):
        return Response({"accounts": AccountBalancesOutput(_portfolios(request), many=True).data})


def _filters(form_class, request) -> dict:
    form = form_class(request.query_params)
    if not form.is_valid():
        raise ValidationError(
            {name: [e["message"] for e in errors] for name, errors in form.errors.get_json_data().items()}
        )
    return filters_of(form)


def _form_parameters(form_class) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(name, str, description=str(field.help_text or field.label or name))
        for name, field in form_class.base_fields.items()
    ]


class FillListApi(ListAPIView):
    """The trade journal as JSON: one row per fill with its order, oldest first."""

    permission_classes = [IsViewer]
    serializer_class = JournalFillOutput
    filter_backends: list = []

    def get_queryset(self):
        return journal.journal_fills(**_filters(JournalFilterForm, self.request))

    @extend_schema(parameters=_form_parameters(JournalFilterForm))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class JournalCsvApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        parameters=_form_parameters(JournalFilterForm),
        responses={(200, "text/csv"): OpenApiResponse(str, description="One row per fill."), **ERROR_RESPONSES},
        description="The trade journal as CSV (a header, then one row per fill, oldest first), with the "
        "same filters as /api/fills. Opens in a spreadsheet.",
    )
    def get(self, request):
        return journal_csv_response(journal.journal_fills(**_filters(JournalFilterForm, request)))


def journal_csv_response(fills) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        journal.journal_csv_lines(fills.iterator()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="tradedesk-journal-{stamp}.csv"'
    return response


class StrategySummaryApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        parameters=_form_parameters(PeriodForm),
        responses={
            200: inline_serializer("StrategySummaryList", {"strategies": StrategySummaryOutput(many=True)}),
            **ERROR_RESPONSES,
        },
        description="Per strategy: signals, orders, fill rate, realized P&L (average cost, after fees), "
        "slippage of fills against the signal's suggested price, median confirm-to-fill time.",
    )
    def get(self, request):
        rows = journal.strategy_summary(**_filters(PeriodForm, request))
        return Response({"strategies": StrategySummaryOutput(rows, many=True).data})


class RefusalListApi(ListAPIView):
    """Refused confirms, newest first, with the rule and the figures it compared."""

    permission_classes = [IsViewer]
    serializer_class = RefusalOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.refusal_list(**_filters(RefusalFilterForm, self.request))

    @extend_schema(parameters=_form_parameters(RefusalFilterForm))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
