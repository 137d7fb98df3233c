"""The web process's own counters: requests and WebSocket connections (served from /metrics).

They exist only in the process that serves them, so they are prometheus-client counters; with
several web processes (uvicorn --workers N) PROMETHEUS_MULTIPROC_DIR makes them write to shared
files that /metrics adds up. This module is below the apps (the middleware and the sockets' base
class count here); ops.metrics, which reads the apps' tables at scrape time, is above them.
"""

import os

from prometheus_client import Counter, Gauge, Histogram

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

HTTP_REQUESTS = Counter(
    "tradedesk_http_requests",
    "HTTP requests answered, by route (the URL pattern), method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "tradedesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBSOCKETS = Gauge(
    "tradedesk_websocket_connections",
    "Open WebSocket connections, by path.",
    ["path"],
    multiprocess_mode="livesum",
)
WEBSOCKET_REFUSED = Counter(
    "tradedesk_websocket_refused", "WebSocket handshakes refused (not logged in, no desk role).", ["path"]
)
