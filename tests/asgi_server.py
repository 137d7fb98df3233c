"""`asgi_server`: the desk's real ASGI app (tradedesk.asgi: HTTP and WebSockets on one port) served by
uvicorn in a background thread, for tests that need a real client on a real socket (ccxt, ccxt.pro,
websockets, httpx). Yields the base URL, "http://127.0.0.1:<port>" (ws://127.0.0.1:<port> for sockets).

Import it into a test module (`from tests.asgi_server import asgi_server  # noqa: F401`). Like
pytest-django's live_server it runs the test on the transactional database (the server's threads
open their own connections, so they see only what the test committed, and the reverse). One server
per test, on a port the OS picks; it is stopped, and its thread joined, at teardown.
"""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tradedesk.asgi import application

STARTUP_SECONDS = 10


@pytest.fixture
def asgi_server(transactional_db, settings) -> Iterator[str]:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # lifespan off: the desk's app has no lifespan handler. proxy_headers off, as in production.
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", proxy_headers=False
    )
    # Off the main thread uvicorn installs no signal handlers: Ctrl-C stays the test run's.
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="asgi-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test ASGI server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
        listener.close()
