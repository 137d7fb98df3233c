"""A WSGI app served from an ASGI server's loop in a thread pool, one handoff each way.

a2wsgi's WSGIMiddleware (what tradedesk/asgi.py used before) makes the request thread wait on
the loop for every step: reading the body, the response's start, each body chunk and the end,
four round trips for a small POST, each waiting for the loop thread and then for the GIL again
while the other request threads run. Here the loop reads a small body before the request goes
to a thread, the thread runs the app and buffers its answer, and the loop sends it: the thread
never waits on the loop. Bodies over BUFFER_BYTES (uploads, the journal's CSV, files) still
stream, chunk by chunk. a2wsgi still builds the environ.
"""

import asyncio
import contextvars
import io
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from a2wsgi.wsgi import build_environ

from tradedesk import web_load

# Request and response bodies up to this size are read and sent whole; larger ones stream.
BUFFER_BYTES = 256 * 1024


class _Input(io.RawIOBase):
    """wsgi.input: the part of the body the loop has read, then the rest from the loop."""

    def __init__(self, head: bytes, more: bool, loop: asyncio.AbstractEventLoop, receive) -> None:
        self._buffer = bytearray(head)
        self._more = more
        self._loop = loop
        self._receive = receive

    def _fill(self, size: int) -> None:
        # Past BUFFER_BYTES only: wait on the loop for the next part, as a2wsgi does for all.
        while self._more and (size < 0 or len(self._buffer) < size):
            message = asyncio.run_coroutine_threadsafe(self._receive(), self._loop).result()
            self._buffer += message.get("body", b"")
            self._more = message.get("more_body", False)

    def read(self, size: int = -1) -> bytes:
        size = -1 if size is None else size
        self._fill(size)
        if size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        return data

    def readline(self, size: int = -1) -> bytes:
        while b"\n" not in self._buffer and self._more and (size < 0 or len(self._buffer) < size):
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find(b"\n")
        end = len(self._buffer) if end < 0 else end + 1
        if size >= 0:
            end = min(end, size)
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    def readable(self) -> bool:
        return True


async def _read_head(receive) -> tuple[bytes, bool]:
    """The request body up to BUFFER_BYTES, and whether more follows."""
    body, more = b"", True
    while more and len(body) < BUFFER_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body, False
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body, more


class _Answer:
    """What the app answered, collected in the request thread."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.rest: Iterator[bytes] | None = None  # the body past BUFFER_BYTES, still to read
        self.iterable: Iterable[bytes] | None = None

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info=None) -> Callable:
        # Nothing is sent before the app returns, so a later call (an error page) replaces all.
        self.status = int(status.split(" ", 1)[0])
        self.headers = [
            (name.strip().lower().encode("latin1"), value.strip().encode("latin1")) for name, value in headers
        ]
        return self.chunks.append


def _run(app, environ: dict, answer: _Answer) -> _Answer:
    """In a pool thread: the app, and its body up to BUFFER_BYTES."""
    iterable = app(environ, answer.start_response)
    answer.iterable = iterable
    chunks = iter(iterable)
    size = sum(len(chunk) for chunk in answer.chunks)
    for chunk in chunks:
        answer.chunks.append(chunk)
        size += len(chunk)
        if size >= BUFFER_BYTES:
            answer.rest = chunks
            return answer
    _close(answer)
    return answer


def _close(answer: _Answer) -> None:
    # WSGI: the server calls close() when done (Django's signals request_finished, files closed).
    close = getattr(answer.iterable, "close", None)
    if close is not None:
        close()


_END = object()


_CLOSE = (b"connection", b"close")


class ThreadPoolWSGI:
    """ASGI app for HTTP: `app` (WSGI) in a pool of `workers` threads.

    A request that finds every thread of the pool busy is answered with `Connection: close`
    when another worker process of the same server has a free thread (tradedesk.web_load).
    A keep-alive connection stays with the worker process that accepted it, and uvicorn's
    workers take new connections as they come (a burst of 16 went 11/5, 12/4, 12/4/0 over the
    workers in bench/signal_intake.py), so one process queued requests while another idled. The
    client's next request opens a new connection, which the kernel hands to whichever worker
    accepts first: one whose loop is not waiting behind busy request threads. When every worker
    is busy, a new connection would land on one as busy: the connection is kept.
    """

    def __init__(self, app, workers: int, board: "web_load.LoadBoard | None" = None) -> None:
        self.app = app
        self.workers = workers
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="WSGI")
        self.in_flight = 0  # requests of this process in the pool or waiting for it; loop only
        self._board = board  # None: this process's own board, found on the first request

    def _publish(self) -> web_load.LoadBoard | None:
        board = self._board or web_load.board()
        if board is not None:
            board.set_in_flight(self.in_flight)
        return board

    def _hand_over(self, board: "web_load.LoadBoard | None") -> bool:
        """Whether a crowded request's connection should be closed: another worker has room
        (no board: unknown, so as before, yes)."""
        return board is None or board.other_has_room(self.workers)

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"ThreadPoolWSGI serves HTTP only, not {scope['type']}")
        loop = asyncio.get_running_loop()
        head, more = await _read_head(receive)
        environ = build_environ(scope, _Input(head, more, loop, receive))
        environ["wsgi.input_terminated"] = True
        answer = _Answer()
        context = contextvars.copy_context()  # the request's context vars reach the thread
        crowded = self.in_flight >= self.workers
        self.in_flight += 1
        self._publish()
        try:
            await loop.run_in_executor(self.executor, context.run, _run, self.app, environ, answer)
        finally:
            self.in_flight -= 1
            board = self._publish()
        if crowded and _CLOSE not in answer.headers and self._hand_over(board):
            answer.headers.append(_CLOSE)
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        if answer.rest is None:
            await send({"type": "http.response.body", "body": b"".join(answer.chunks)})
            return
        await self._stream(loop, context, answer, send)

    async def _stream(self, loop, context, answer: _Answer, send) -> None:
        try:
            await send({"type": "http.response.body", "body": b"".join(answer.chunks), "more_body": True})
            while True:
                chunk = await loop.run_in_executor(self.executor, context.run, next, answer.rest, _END)
                if chunk is _END:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await loop.run_in_executor(self.executor, context.run, _close, answer)
