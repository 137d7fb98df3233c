"""Connector registry: settings.EXECUTOR names the one that places desk orders."""

from django.utils.module_loading import import_string

from executor.connectors.base import Connector

CONNECTORS = {
    "dry_run": "executor.connectors.dry_run.DryRunConnector",
}


def get_connector(name: str, account: str = "") -> Connector:
    try:
        path = CONNECTORS[name]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise ValueError(f"unknown connector {name!r}; EXECUTOR must be one of: {known}") from None
    return import_string(path)(account=account)
