"""Copy-trading statistics API: the caller's own as a follower, and a master account's (its owner
or a desk admin only). See following/stats.py for what each figure means."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from executor.models import ExchangeAccount
from following import stats
from tradedesk import roles
from tradedesk.exceptions import NotFound
from tradedesk.ids import is_row_id
from tradedesk.schema import error_responses


class FollowerStatsApi(APIView):
    """GET: the statistics of the caller's copy trading (every master they follow or followed)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(stats.stats_as_dict(stats.follower_stats(user=request.user)))


class MasterStatsApi(APIView):
    """GET: the statistics of everyone copying one master account, added up (no follower names).
    Only the account's owner and desk admins may read them; for anyone else it does not exist."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(404)})
    def get(self, request, credential_id: int):
        account = ExchangeAccount.objects.filter(pk=credential_id).first() if is_row_id(credential_id) else None
        if account is None or (account.owner_id != request.user.pk and not roles.has_role(request.user, roles.ADMIN)):
            raise NotFound(f"exchange account {credential_id} is not one of your master accounts")
        return Response(stats.stats_as_dict(stats.master_stats(credential_id=account.pk)))
