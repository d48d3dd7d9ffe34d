"""Servers on loopback for the probe engine's tests, and access to the real services the probes check.

`HttpServer` answers a few fixed routes (in a thread, optionally over TLS); `grpc_server` starts an
in-process grpc.aio server with or without a health service; `resp_server` is a TLS stand-in for
Redis; `service_url` gives the URL of a real service or skips the test (fails it when
SWITCHBOARD_REQUIRE_SERVICES=1).
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import threading
import time
from contextlib import asynccontextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from probes.engine.spec import target_redacted

LOOPBACK = "127.0.0.1"
REQUIRE_SERVICES = os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1"
JSON_DOCUMENT = {"status": "ok", "checks": [{"name": "db", "state": "up"}], "count": 3, "flag": True}
BIG_BODY = b"x" * (100 * 1024) + b"needle"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Handler(BaseHTTPRequestHandler):
    """The routes: /ok, /status/<code>, /json, /slow/<ms>, /redirect/<n>, /to?url=, /echo, /echo-auth, /big."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Host", "")))
        parts = [part for part in urlsplit(self.path).path.split("/") if part]
        route = getattr(self, f"route_{parts[0].replace('-', '_')}" if parts else "route_ok", None)
        if route is None:
            self.answer(404, b"no such route")
        else:
            route(*parts[1:])

    do_POST = do_HEAD = do_GET

    def route_ok(self) -> None:
        self.answer(200, b"all good here")

    def route_status(self, code: str) -> None:
        self.answer(int(code), f"status {code} body".encode())

    def route_json(self) -> None:
        self.answer(200, json.dumps(JSON_DOCUMENT).encode(), "application/json")

    def route_slow(self, ms: str) -> None:
        time.sleep(int(ms) / 1000)
        self.answer(200, b"slow but fine")

    def route_redirect(self, count: str) -> None:
        if int(count) <= 0:
            self.answer(200, b"arrived")
        else:
            self.answer(302, b"", location=f"/redirect/{int(count) - 1}")

    def route_to(self) -> None:
        self.answer(302, b"", location=parse_qs(urlsplit(self.path).query)["url"][0])

    def route_echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        echoed = {"method": self.command, "host": self.headers.get("Host"), "body": body,
                  "user_agent": self.headers.get("User-Agent"), "token": self.headers.get("X-Token")}
        self.answer(200, json.dumps(echoed).encode(), "application/json")

    def route_echo_auth(self) -> None:
        self.answer(500, f"refused credentials {self.headers.get('Authorization')}".encode())

    def route_big(self) -> None:
        self.answer(200, BIG_BODY)

    def answer(self, status: int, body: bytes, content_type: str = "text/plain", location: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: the tests look at `server.seen` instead."""


class QuietServer(ThreadingHTTPServer):
    """A threaded server that does not print the failures the tests provoke (TLS handshakes, resets)."""

    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a probe that gives up or fails its handshake is expected here."""


class HttpServer:
    """A threaded HTTP(S) server on 127.0.0.1, port chosen by the OS, recording what it was asked."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.server = QuietServer((LOOPBACK, 0), Handler)
        self.server.seen = []
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> HttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def seen(self) -> list[tuple[str, str, str]]:
        """(method, path, Host header) of every request so far."""
        return self.server.seen

    def url(self, path: str = "/ok", *, host: str = LOOPBACK, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def fixed_resolver(names: dict[str, list[str]]):
    """A TargetPolicy resolver answering from `names`, recording every lookup."""
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        if host not in names:
            raise OSError(f"test resolver has no address for {host}")
        return names[host]

    resolve.lookups = lookups
    return resolve


@asynccontextmanager
async def grpc_server(statuses: dict[str, int] | None, tls: grpc.ServerCredentials | None = None):
    """A grpc.aio server on loopback; with a health service reporting `statuses`, or none at all."""
    server = grpc.aio.server()
    if statuses is not None:
        servicer = health.aio.HealthServicer()
        for service, status in statuses.items():
            await servicer.set(service, status)
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    address = f"{LOOPBACK}:0"
    port = server.add_secure_port(address, tls) if tls else server.add_insecure_port(address)
    await server.start()
    try:
        yield port
    finally:
        await server.stop(grace=None)


@asynccontextmanager
async def resp_server(tls: ssl.SSLContext):
    """A stand-in Redis over TLS that answers PING with PONG and anything else with an error."""
    commands: list[list[bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            while line := await reader.readline():
                command = [await _bulk(reader) for _ in range(int(line[1:]))]
                commands.append(command)
                writer.write(b"+PONG\r\n" if command[0].upper() == b"PING" else b"-ERR unknown command\r\n")
        writer.close()

    server = await asyncio.start_server(serve, LOOPBACK, 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1], commands
    finally:
        server.close()


async def _bulk(reader: asyncio.StreamReader) -> bytes:
    """One RESP bulk string ($<length> then the bytes)."""
    length = int((await reader.readline())[1:])
    return (await reader.readexactly(length + 2))[:-2]


def service_url(name: str, default: str, default_port: int) -> str:
    """The service's URL from the environment, once it accepts a connection; else skip (or fail)."""
    url = os.environ.get(name) or default
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or default_port), timeout=2).close()
    except OSError as exc:
        message = f"{name} ({target_redacted(url)}) cannot be reached: {exc}"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return url
