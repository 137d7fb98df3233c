"""A worker imports its exchange API clients before it forks its pool (Celery's worker_init, in
the main process): every pool process inherits them. Imported on first use instead, ccxt
(~0.5 s of CPU here, about 1 s on a busy machine) was paid by a pool process's first order or
position read on a ccxt account: a copy of a master's trade waited that long after each worker
start (bench/README.md). The browser connector is not imported here: only browser workers use it
(executor/browser/worker.py)."""

from celery import signals
from django.utils.module_loading import import_string

from executor.connectors import API_CONNECTORS, CCXT


@signals.worker_init.connect
def import_api_connectors(**_) -> None:
    for path in (CCXT, *API_CONNECTORS.values()):
        import_string(path)
