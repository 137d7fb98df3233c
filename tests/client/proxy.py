"""A flaky HTTP proxy in front of the live test server, for the strategy client's retry tests.

Each request it receives takes the next action from its script (then `pass` forever, or the
last action when `repeat_last`):

- `pass`: forward to the server and relay the answer;
- `drop`: forward to the server, let it process the request, then close the connection
  without answering (the answer is lost on the way back);
- `hang`: forward, then hold the connection silent for `hang_seconds` (the client times out);
- `late`: hold the request `hang_seconds` first (the client times out and its retry overtakes
  it), then forward it and drop the answer;
- `503`, `500`: answer that status without forwarding;
- `429:N`: answer 429 with `Retry-After: N` without forwarding.
"""

import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Seen:
    action: str
    headers: dict[str, str]
    forwarded: bool = False


@dataclass
class FlakyProxy:
    upstream_port: int
    script: list[str] = field(default_factory=list)
    repeat_last: bool = False
    hang_seconds: float = 2.0
    port: int = 0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.port:
            self.port = free_port()
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FlakyProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()

    def forwarded(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.forwarded]

    def _next_action(self) -> str:
        with self._lock:
            if not self.script:
                return "pass"
            if self.repeat_last and len(self.script) == 1:
                return self.script[0]
            return self.script.pop(0)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            raw = _read_request(conn)
            if raw is None:
                return
            action = self._next_action()
            seen = Seen(action=action, headers=_headers(raw))
            self.seen.append(seen)
            if action in ("503", "500"):
                conn.sendall(_answer(int(action), b'{"code": "unavailable", "message": "try later", "fields": {}}'))
                return
            if action.startswith("429:"):
                conn.sendall(_answer(429, b"{}", {"Retry-After": action.split(":", 1)[1]}))
                return
            if action == "late":
                self._stop.wait(self.hang_seconds)
            response = self._forward(raw)
            seen.forwarded = True
            if action in ("drop", "late"):
                conn.shutdown(socket.SHUT_RDWR)
            elif action == "hang":
                self._stop.wait(self.hang_seconds)
            else:
                conn.sendall(response)

    def _forward(self, raw: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
            upstream.sendall(raw)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_request(conn: socket.socket) -> bytes | None:
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(_headers(head).get("content-length", "0"))
    while len(body) < length:
        body += conn.recv(65536)
    # One request per upstream connection: the server closes it after answering.
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _headers(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head)}


def _answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} Flaky", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode() + body
