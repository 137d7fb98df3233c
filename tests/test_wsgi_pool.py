"""tradedesk.wsgi_pool: a WSGI app served from the ASGI loop in a thread pool, small bodies
read and answered whole (one handoff each way), large ones streamed."""

import asyncio
import os
import struct
import subprocess
import sys
import threading

import pytest

from tradedesk import web_load
from tradedesk.web_load import LoadBoard
from tradedesk.wsgi_pool import BUFFER_BYTES, ThreadPoolWSGI


def scope(method: str = "POST", path: str = "/api/signals") -> dict:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"a=1",
        "headers": [(b"content-type", b"application/json"), (b"x-api-key", b"k")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
    }


def serve(app, parts: list[bytes], request_scope: dict | None = None) -> tuple[list[dict], dict]:
    """Run one request through ThreadPoolWSGI; returns the messages sent and the environ seen."""
    seen: dict = {}

    def wsgi(environ, start_response):
        seen.update(environ, thread=threading.current_thread().name)
        return app(environ, start_response)

    sent: list[dict] = []
    messages = [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(ThreadPoolWSGI(wsgi, workers=2)(request_scope or scope(), receive, send))
    return sent, seen


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Len", str(len(body)))])
    return [b"got:", body]


def test_a_small_answer_is_one_start_and_one_body_message_from_a_pool_thread():
    sent, environ = serve(echo, [b'{"a":', b"1}"])
    assert sent == [
        {"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain"), (b"x-len", b"7")]},
        {"type": "http.response.body", "body": b'got:{"a":1}'},
    ]
    assert environ["thread"].startswith("WSGI")
    assert environ["PATH_INFO"] == "/api/signals" and environ["QUERY_STRING"] == "a=1"
    assert environ["HTTP_X_API_KEY"] == "k" and environ["CONTENT_TYPE"] == "application/json"


def test_a_body_larger_than_the_buffer_is_read_whole_through_the_loop():
    parts = [b"x" * 100_000] * 4 + [b"end"]
    sent, _ = serve(echo, parts)
    body = b"".join(message.get("body", b"") for message in sent[1:])
    assert body == b"got:" + b"".join(parts)
    assert dict(sent[0]["headers"])[b"x-len"] == str(400_003).encode()


def test_readline_reads_lines_across_the_parts():
    def lines(environ, start_response):
        stream = environ["wsgi.input"]
        start_response("200 OK", [])
        return [stream.readline(), b"|", stream.readline(), b"|", stream.read()]

    sent, _ = serve(lines, [b"one\ntw", b"o\nthree"])
    assert sent[1]["body"] == b"one\n|two\n|three"


def test_a_large_answer_streams_in_chunks_and_the_iterable_is_closed_after_the_last():
    closed = threading.Event()

    class Chunks:
        def __iter__(self):
            for _ in range(5):
                yield b"y" * (BUFFER_BYTES // 2)

        def close(self):
            closed.set()

    def big(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        return Chunks()

    sent, _ = serve(big, [b""])
    bodies = [message for message in sent if message["type"] == "http.response.body"]
    assert len(bodies) > 2 and bodies[-1] == {"type": "http.response.body", "body": b""}
    assert all(message["more_body"] for message in bodies[:-1])
    assert sum(len(message["body"]) for message in bodies) == 5 * (BUFFER_BYTES // 2)
    assert closed.is_set()


def test_a_small_answers_iterable_is_closed_before_it_is_sent():
    order: list[str] = []

    class Body(list):
        def close(self):
            order.append("closed")

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body([b"ok"])

    sent, _ = serve(app, [b""])
    assert order == ["closed"] and sent[1]["body"] == b"ok"


def test_a_second_start_response_with_exc_info_replaces_the_first():
    def failing(environ, start_response):
        start_response("200 OK", [("X-A", "1")])
        start_response("500 Internal Server Error", [("X-B", "2")], exc_info=(None, None, None))
        return [b"error page"]

    sent, _ = serve(failing, [b""])
    assert sent[0]["status"] == 500 and sent[0]["headers"] == [(b"x-b", b"2")]


def test_an_app_that_raises_raises_to_the_server():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        serve(broken, [b""])


def test_it_refuses_anything_but_http():
    with pytest.raises(ValueError, match="HTTP only"):
        asyncio.run(ThreadPoolWSGI(echo, workers=1)({"type": "websocket"}, None, None))


def _crowded_requests(board) -> tuple[list[dict], list[dict], list[dict]]:
    """Three requests on a pool of one thread: the second arrives while the first holds it."""
    entered, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/first":
            entered.set()
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    async def request(pool: ThreadPoolWSGI, path: str) -> list[dict]:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await pool(scope(path=path), receive, send)
        return sent

    async def main() -> tuple[list[dict], list[dict], list[dict]]:
        loop = asyncio.get_running_loop()
        pool = ThreadPoolWSGI(app, workers=1, board=board)
        first = asyncio.create_task(request(pool, "/first"))
        assert await loop.run_in_executor(None, entered.wait, 10)
        second = asyncio.create_task(request(pool, "/second"))
        deadline = loop.time() + 10
        while pool.in_flight < 2 and loop.time() < deadline:
            await asyncio.sleep(0.001)
        assert board is None or _in_flight(board) == 2  # published for the other workers
        release.set()
        return await first, await second, await request(pool, "/third")

    return asyncio.run(main())


def _in_flight(board: LoadBoard) -> int:
    return struct.unpack_from("q", board._map, board.slot * 16 + 8)[0]


CLOSE = (b"connection", b"close")


@pytest.fixture
def boards(tmp_path):
    """This worker's board and another live worker's slot on it (the test runner's parent pid)."""
    path = tmp_path / "server.load"
    mine, other = LoadBoard(path), LoadBoard(path, pid=os.getppid())
    yield mine, other
    mine.close()
    other.close()


def test_a_request_that_finds_every_thread_busy_is_answered_with_connection_close_when_another_worker_has_room(
    boards,
):
    mine, other = boards
    other.set_in_flight(0)
    first, second, third = _crowded_requests(mine)
    assert CLOSE not in first[0]["headers"] and CLOSE in second[0]["headers"]
    # Once the pool has a free thread again, connections are kept alive.
    assert CLOSE not in third[0]["headers"] and third[1]["body"] == b"ok"
    assert _in_flight(mine) == 0


def test_when_every_worker_is_busy_the_crowded_connection_is_kept_a_new_one_would_land_on_one_as_busy(boards):
    mine, other = boards
    other.set_in_flight(1)  # its one thread busy
    first, second, third = _crowded_requests(mine)
    assert [CLOSE in answer[0]["headers"] for answer in (first, second, third)] == [False, False, False]


def test_a_worker_alone_on_its_server_never_closes_and_a_dead_workers_slot_is_no_room(tmp_path):
    path = tmp_path / "server.load"
    mine = LoadBoard(path)
    _, _, _ = answers = _crowded_requests(mine)
    assert not any(CLOSE in answer[0]["headers"] for answer in answers)  # nobody to hand it to
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    gone.wait()
    dead = LoadBoard(path, pid=gone.pid)
    dead.set_in_flight(0)
    assert not mine.other_has_room(1)
    # A new worker takes the dead one's slot.
    assert LoadBoard(path, pid=os.getppid()).slot == dead.slot


def test_without_a_board_a_crowded_request_closes_as_before(monkeypatch):
    monkeypatch.setattr(web_load, "board", lambda: None)
    first, second, _ = _crowded_requests(None)
    assert CLOSE not in first[0]["headers"] and CLOSE in second[0]["headers"]


def test_a_processs_board_is_one_file_per_server_in_var_dir_and_gone_servers_boards_are_removed(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    stale = tmp_path / "web-load" / "tradedesk-web-999999999.load"
    stale.parent.mkdir()
    stale.write_bytes(b"")
    before = web_load._board, web_load._board_pid
    try:
        web_load._board_pid = 0
        found = web_load.board()
        assert found is not None and found.pid == os.getpid()
        assert web_load.board_path() == tmp_path / "web-load" / f"tradedesk-web-{os.getppid()}.load"
        assert web_load.board_path().exists() and not stale.exists()
        assert web_load.board() is found  # claimed once per process
        found.close()
    finally:
        web_load._board, web_load._board_pid = before
