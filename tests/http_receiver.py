"""A real HTTP receiver on loopback for the notification tests: records every request (path, headers,
raw body) and answers as told: 200, an error status, or not at all for a while (a hang)."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        receiver.record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if receiver.hang_seconds:
            time.sleep(receiver.hang_seconds)
        self.send_response(receiver.status)
        if receiver.location:
            self.send_header("Location", receiver.location)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on a hang is not an error here


class Receiver:
    """`with Receiver() as r:` listens on 127.0.0.1:<free port>; `r.url`, `r.requests`.
    `stop()` and `start()` take it down and bring it back on the same port."""

    def __init__(self, *, status: int = 200, hang_seconds: float = 0.0) -> None:
        self.status, self.hang_seconds = status, hang_seconds
        self.location = ""  # sent as Location when set (a redirect)
        self.requests: list[Received] = []
        self.port = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def record(self, item: Received) -> None:
        with self._lock:
            self.requests.append(item)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.receiver = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
