"""Connector registry: (connector kind, venue) → the class that reaches it.

Use executor.selectors.connector_for(account) to get the connector of an exchange account;
this module only maps kinds to classes."""

from django.utils.module_loading import import_string

from executor.connectors.base import AccountConfig, Connector

DRY_RUN = "executor.connectors.dry_run.DryRunConnector"
BROWSER = "executor.browser.connector.BrowserConnector"
# Every exchange ccxt knows, by the account's exchange_id (binance, bybit, okx, kraken...).
CCXT = "executor.connectors.ccxt_connector.CcxtConnector"
API_CONNECTORS = {"paper": "executor.connectors.paper_api.PaperApiConnector"}
KINDS = ("dry_run", "api", "browser", "ccxt")


def connector_path(kind: str, venue: str = "") -> str:
    if kind == "dry_run":
        return DRY_RUN
    if kind == "api":
        if venue not in API_CONNECTORS:
            raise ValueError(f"no API connector for venue {venue!r}; known: {', '.join(sorted(API_CONNECTORS))}")
        return API_CONNECTORS[venue]
    if kind == "browser":
        return BROWSER
    if kind == "ccxt":
        return CCXT
    raise ValueError(f"unknown connector kind {kind!r}; use one of: {', '.join(KINDS)}")


def get_connector(kind: str, account: AccountConfig | None = None) -> Connector:
    return import_string(connector_path(kind, account.venue if account else ""))(account=account)
