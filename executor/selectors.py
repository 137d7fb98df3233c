from executor.connectors import get_connector
from executor.connectors.base import Connector
from executor.models import ExchangeAccount


def desk_account_get() -> ExchangeAccount | None:
    """The exchange account desk orders go to when EXECUTOR=exchange."""
    return ExchangeAccount.objects.filter(is_desk_default=True, is_active=True).first()


def connector_for(*, kind: str, account: ExchangeAccount | None) -> Connector:
    """The connector for an order: the account's own, or the dry run when there is no account."""
    if account is None:
        return get_connector("dry_run")
    return get_connector(account.connector, account.config())
