"""Positions, balances, the trade journal and the strategy summary, for staff (viewer and up)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio import selectors
from portfolio.serializers import AccountBalancesOutput, AccountPositionsOutput
from tradedesk.auth import IsViewer
from tradedesk.exceptions import NotFound
from tradedesk.schema import ERROR_RESPONSES

ID_MAX = 2**63 - 1
ACCOUNT_PARAMETER = OpenApiParameter(
    "account", int, description="Only this exchange account (its id); all the desk's accounts when absent."
)


class AccountQuery(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)


def _portfolios(request) -> list[selectors.AccountPortfolio]:
    query = AccountQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    account_id = query.validated_data.get("account")
    portfolios = selectors.portfolio_list(account_id=account_id)
    if account_id is not None and not portfolios:
        raise NotFound(f"exchange account {account_id} does not exist", field="account")
    return portfolios


class PositionListApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        parameters=[ACCOUNT_PARAMETER],
        responses={200: AccountPositionsOutput(many=True), **ERROR_RESPONSES},
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
        responses={200: AccountBalancesOutput(many=True), **ERROR_RESPONSES},
        description="Per exchange account: the venue's balances (free, locked); `error` says why a venue "
        "could not be read. The dry run has no balances.",
    )
    def get(self, request):
        return Response({"accounts": AccountBalancesOutput(_portfolios(request), many=True).data})
