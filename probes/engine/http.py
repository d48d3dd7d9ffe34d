"""HTTP(S) probe: one fresh connection per request, to the address the policy allowed; requests are
framed by h11 and responses parsed by httptools.

Redirects are followed up to `max_redirects` (default 3), each hop resolved and checked again; a
redirect whose status is explicitly expected is not followed. Only the first 64 KiB of a body is
read, and only when an expectation needs it.
"""
from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

import h11
import httptools

from .policy import address_literal_checked, address_resolve, policy_ssl_context
from .spec import ProbeSpec, json_path_parts, status_expected
from .tcp import socket_connect_wait, socket_started

if TYPE_CHECKING:
    from .runner import Attempt, Measured

HTTPS = "https"
DEFAULT_PORTS = {"http": 80, HTTPS: 443}
DEFAULT_METHOD = "GET"
DEFAULT_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
GET_AFTER = frozenset({301, 302, 303})
BODY_LIMIT = 64 * 1024
READ_SIZE = 64 * 1024
SNIPPET = 120
SHOWN = 80
DAY = 86400.0
INFORMATIONAL = 100
BODY_EXPECTATIONS = frozenset({"body_contains", "json_path"})
RESERVED_HEADERS = frozenset({"connection", "content-length", "transfer-encoding"})
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
USER_AGENT = "switchboard-probe/1"
END = h11.EndOfMessage()


@dataclass(frozen=True, slots=True)
class Url:
    """The parts of a URL a request needs."""

    scheme: str
    host: str
    port: int
    authority: str
    path: str
    authorization: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


@dataclass(slots=True)
class Reply:
    """What one request got back: the status, Location, the body read so far, the certificate's days left."""

    status: int
    location: str
    body: bytes
    complete: bool
    cert_days: float | None


@dataclass(frozen=True, slots=True, eq=False)
class Request:
    """One hop: where to, how, with which headers and body, and the bytes that ask it (framed for
    the probe's location). Built once per target and kept (see request_first): never changed."""

    url: Url
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    data: bytes


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """Send the request (following redirects) and check the status, body and JSON expectations."""
    options, expect = spec.options, spec.expect
    if options:
        request = request_first(spec.target, options.get("method", DEFAULT_METHOD),
                                tuple((options.get("headers") or {}).items()), options.get("body", ""),
                                attempt.location)
        limit = options.get("max_redirects", DEFAULT_REDIRECTS)
    else:
        request, limit = request_first(spec.target, DEFAULT_METHOD, (), "", attempt.location), DEFAULT_REDIRECTS
    want_body = bool(expect) and not BODY_EXPECTATIONS.isdisjoint(expect)
    expected = expect.get("status")
    reply, hops = await exchange(request, attempt, want_body, expected), 0
    while hops < limit and _follows(reply, expect):
        request, hops = _redirected(request, reply, attempt.location), hops + 1
        reply = await exchange(request, attempt, want_body, expected)
    note = f" (redirect not followed: max_redirects={limit} reached)" if _follows(reply, expect) else ""
    return _values(reply), _problem(reply, expect, note)


@lru_cache(maxsize=4096)
def request_first(target: str, method: str, headers: tuple[tuple[str, str], ...], body: str,
                  location: str) -> Request:
    """The first hop of a probe, cached on what it is made of: the same probes run again and again,
    so the URL is split and the request framed once, not on every run."""
    encoded = body.encode()
    url = url_parts(target)
    return Request(url, method, headers, encoded, _request_bytes(url, method, headers, encoded, location))


@lru_cache(maxsize=4096)
def url_parts(target: str) -> Url:
    """Split an http(s) URL (cached: the same targets are probed again and again)."""
    parts = urlsplit(target)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {target!r}")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    authority = host if port == DEFAULT_PORTS[parts.scheme] else f"{host}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Url(parts.scheme, parts.hostname, port, authority, path, _basic_auth(parts.username, parts.password))


def _basic_auth(user: str | None, password: str | None) -> str:
    """The Authorization header value for credentials in the URL, or ""."""
    if user is None:
        return ""
    pair = f"{unquote(user)}:{unquote(password or '')}".encode()
    return "Basic " + base64.b64encode(pair).decode()


async def exchange(request: Request, attempt: Attempt, want_body: bool, expected: object = None) -> Reply:
    """One request on a fresh connection to the checked address of the URL's host.

    The body is read when `want_body`, or when the status is not the `expected` one (for the error's snippet).
    """
    url = request.url
    # An IP literal is checked without awaiting anything; a name is resolved and its addresses checked.
    address = address_literal_checked(attempt.policy, url.host)
    if address is None:
        address = await address_resolve(attempt.policy, url.host, url.port)
    attempt.connecting()
    sock, connected = socket_started(address, url.port)
    if not connected:
        await socket_connect_wait(sock, (address, url.port))
    parser = ResponseParser(want_body, expected)
    try:
        if url.scheme == HTTPS:
            return await _over_tls(sock, url.host, request.data, parser, policy_ssl_context(attempt.policy))
        # Plain HTTP straight on the socket: the hot path, with no transport or protocol objects
        # (and no coroutine of its own). A request fits a fresh socket's send buffer, so it is
        # written at once; the loop only sends what did not fit.
        data, loop = request.data, asyncio.get_running_loop()
        with sock:
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                await loop.sock_sendall(sock, data[sent:])
            reply = None
            while reply is None:
                reply = parser.feed(await loop.sock_recv(sock, READ_SIZE))
            return reply
    finally:
        parser.close()


async def _over_tls(sock: socket.socket, host: str, data: bytes, parser: ResponseParser,
                    context: ssl.SSLContext) -> Reply:
    """HTTPS through an asyncio TLS transport (verifying the certificate for `host`)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    try:
        transport, _ = await loop.create_connection(lambda: TlsReader(parser, done), sock=sock, ssl=context,
                                                    server_hostname=host)
    except BaseException:
        sock.close()
        raise
    try:
        transport.write(data)
        reply = await done
        reply.cert_days = _cert_days(transport.get_extra_info("peercert"))
        return reply
    finally:
        transport.close()


class ResponseParser:
    """Feeds bytes to httptools (llhttp, in C) until the reply is complete enough: the head, and the
    body when it is wanted. Interim 1xx responses are skipped."""

    __slots__ = ("want_body", "expected", "parser", "reply", "location", "chunks", "size", "complete")

    def __init__(self, want_body: bool, expected: object) -> None:
        self.want_body, self.expected = want_body, expected
        self.parser = httptools.HttpResponseParser(self)
        self.reply: Reply | None = None
        self.location = b""
        self.chunks: list[bytes] = []
        self.size = 0
        self.complete = False

    def feed(self, data: bytes) -> Reply | None:
        """Take what arrived (b"" at the end of the stream); the reply once it is complete enough."""
        if self.parser is None:
            raise ConnectionResetError("the response came after the probe ended")
        if not data:
            if self.reply is None:
                raise ConnectionResetError("the server closed the connection without responding")
            return self._finished(complete=self.size <= BODY_LIMIT)  # a body that ends with the connection
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise ValueError("the server switched protocols instead of answering") from None
        except httptools.HttpParserError as exc:
            raise ValueError(f"malformed HTTP response: {exc}") from None
        if self.complete or self.size >= BODY_LIMIT:
            return self._finished(complete=self.complete and self.size <= BODY_LIMIT)
        if self.size >= BODY_LIMIT or (self.reply is not None and not self.want_body):
            return self._finished(complete=False)
        return None

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 8 and name.lower() == b"location":
            self.location = value

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if INFORMATIONAL <= status < 200:
            self.location = b""
            return
        self.reply = Reply(status, self.location.decode("latin-1"), b"", False, None)
        self.want_body = self.want_body or not status_expected(status, self.expected)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.size += len(body)

    def on_message_complete(self) -> None:
        self.complete = self.reply is not None

    def close(self) -> None:
        """Let go of the httptools parser. It holds this object's callbacks, so the two would make a
        reference cycle that only the garbage collector frees: about ten objects every probe."""
        self.parser = None

    def _finished(self, *, complete: bool) -> Reply:
        """The reply with the body collected so far."""
        self.reply.body = b"".join(self.chunks)[:BODY_LIMIT]
        self.reply.complete = complete
        return self.reply


class TlsReader(asyncio.Protocol):
    """Hands what the TLS transport receives to the parser; `done` gets the reply or the failure."""

    def __init__(self, parser: ResponseParser, done: asyncio.Future) -> None:
        self.parser, self.done = parser, done

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> None:
        self._feed(b"")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionResetError("the server closed the connection mid-response"))

    def _feed(self, data: bytes) -> None:
        if self.done.done():
            return
        try:
            reply = self.parser.feed(data)
        except Exception as exc:  # noqa: BLE001 - a malformed response fails this probe only
            self.done.set_exception(exc)
            return
        if reply is not None:
            self.done.set_result(reply)


@lru_cache(maxsize=4096)
def _request_bytes(url: Url, method: str, extra: tuple[tuple[str, str], ...], body: bytes, location: str) -> bytes:
    """The whole request, framed and checked by h11 (cached: the same requests go out again and again)."""
    connection = h11.Connection(h11.CLIENT)
    data = connection.send(_head(url, method, extra, len(body), location))
    if body:
        data += connection.send(h11.Data(data=body))
    return data + connection.send(END)


def _head(url: Url, method: str, extra: tuple[tuple[str, str], ...], length: int, location: str) -> h11.Request:
    """The request head."""
    merged = {"host": ("Host", url.authority), "user-agent": ("User-Agent", f"{USER_AGENT} ({location})"),
              "accept": ("Accept", "*/*"), "connection": ("Connection", "close")}
    if url.authorization:
        merged["authorization"] = ("Authorization", url.authorization)
    for name, value in extra:
        if name.lower() not in RESERVED_HEADERS:
            merged[name.lower()] = (name, value)
    if length:
        merged["content-length"] = ("Content-Length", str(length))
    return h11.Request(method=method, target=url.path, headers=list(merged.values()))


def _cert_days(certificate: dict | None) -> float | None:
    """Days until the peer certificate's notAfter."""
    if not certificate or "notAfter" not in certificate:
        return None
    return round((ssl.cert_time_to_seconds(certificate["notAfter"]) - time.time()) / DAY, 1)


def _follows(reply: Reply, expect: dict) -> bool:
    """Whether to follow: a redirect with a Location, and not a redirect status the probe expects."""
    if reply.status not in REDIRECTS or not reply.location:
        return False
    return "status" not in expect or not status_expected(reply.status, expect["status"])


def _redirected(request: Request, reply: Reply, location: str) -> Request:
    """The next hop: GET without a body after 301/302/303 (as browsers do), credentials kept in-origin only."""
    url = url_parts(urljoin(_absolute(request.url), reply.location))
    same_origin = url.origin == request.url.origin
    headers = request.headers if same_origin else tuple(
        (name, value) for name, value in request.headers if name.lower() not in SENSITIVE_HEADERS)
    method, body = ("GET", b"") if reply.status in GET_AFTER and request.method != "HEAD" else (
        request.method, request.body)
    return Request(url, method, headers, body, _request_bytes(url, method, headers, body, location))


def _absolute(url: Url) -> str:
    """The URL as text again (without credentials), as the base for a relative Location."""
    return f"{url.scheme}://{url.authority}{url.path}"


def _values(reply: Reply) -> dict:
    """The measured numbers: status, and days left on the certificate for https."""
    values = {"status": reply.status}
    if reply.cert_days is not None:
        values["cert_days"] = reply.cert_days
    return values


def _problem(reply: Reply, expect: dict, note: str = "") -> str:
    """Why the reply does not meet the expectations, or ""."""
    return _status_problem(reply, expect, note) or _body_problem(reply, expect) or _json_problem(reply, expect)


def _status_problem(reply: Reply, expect: dict, note: str) -> str:
    """"status 503, expected 2xx; body: …" when the status is not an expected one."""
    expected = expect.get("status")
    if status_expected(reply.status, expected):
        return ""
    wanted = "2xx" if expected is None else ", ".join(map(str, expected if isinstance(expected, list) else [expected]))
    return f"status {reply.status}, expected {wanted}{note}{_snippet(reply.body)}"


def _body_problem(reply: Reply, expect: dict) -> str:
    """When the body (its first 64 KiB) lacks `body_contains`."""
    text = expect.get("body_contains")
    if text is None or text.encode() in reply.body:
        return ""
    scope = "" if reply.complete else f" (in its first {BODY_LIMIT // 1024} KiB)"
    return f"body does not contain {text[:SHOWN]!r}{scope}{_snippet(reply.body)}"


def _json_problem(reply: Reply, expect: dict) -> str:
    """When the body is not JSON, or the value at `json_path` is missing or not `equals`."""
    path = expect.get("json_path")
    if path is None:
        return ""
    try:
        document = json.loads(reply.body)
    except ValueError:
        return f"body is not JSON{_snippet(reply.body)}"
    found, value = _at(document, json_path_parts(path) or [])
    if not found:
        return f"{path[:SHOWN]} is not in the JSON body"
    if not _same(value, expect.get("equals")):
        return f"{path[:SHOWN]} is {_shown(value)}, expected {_shown(expect.get('equals'))}"
    return ""


def _at(document: object, parts: list[str | int]) -> tuple[bool, object]:
    """The value at the path parts, and whether it is there."""
    for part in parts:
        if isinstance(part, int) and isinstance(document, list) and part < len(document):
            document = document[part]
        elif isinstance(part, str) and isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return False, None
    return True, document


def _same(value: object, expected: object) -> bool:
    """JSON equality: true is not 1, but 1 equals 1.0."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return value == expected


def _shown(value: object) -> str:
    """A JSON value, shortened for an error."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _snippet(body: bytes) -> str:
    """A short, one-line start of the body for an error, or ""."""
    text = " ".join(body[: SNIPPET * 4].decode("utf-8", "replace").split())
    if not text:
        return ""
    return f"; body: {text[:SNIPPET]}" + ("…" if len(text) > SNIPPET else "")
