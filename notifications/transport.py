"""Sending one body to one channel: an HTTP POST to a checked address, or an e-mail.

A webhook target obeys the probe target policy (probes/engine/policy.py): its name is resolved once,
every address is checked (link-local and cloud metadata always refused, then the allow- and
deny-lists), and the request goes to the address that was checked, never to the name again.
Redirects are not followed: a 3xx is a failed delivery that names where it pointed.
A user name and password written in the URL are not sent; no proxy is used.
"""
import asyncio
import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.mail import send_mail

from probes.engine.policy import TargetPolicy, TargetRefused, address_resolve, policy_ssl_context

READ_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str
    duration_ms: float


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked against the URL's host name."""

    def __init__(self, host: str, port: int, *, address: str, **kw):
        super().__init__(host, port, **kw)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def http_post(*, url: str, body: bytes, headers: dict[str, str], timeout: float, policy: TargetPolicy) -> Outcome:
    """POST `body`; ok for a 2xx answer within `timeout` seconds (per connect and per read)."""
    started = time.perf_counter()
    try:
        status, location = _post(url, body, headers, timeout, policy)
    except (TargetRefused, OSError, http.client.HTTPException, ValueError) as exc:
        return Outcome(False, None, _error_text(exc, timeout), _ms(started))
    error = "" if 200 <= status < 300 else f"HTTP {status}"
    if location and 300 <= status < 400:
        error += f" to {location[:200]} (redirects are not followed: give that URL)"
    return Outcome(not error, status, error, _ms(started))


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float, policy: TargetPolicy) -> tuple[int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolved(policy, parts.hostname, port)
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(parts.hostname, port, address=address, timeout=timeout,
                                            context=policy_ssl_context(policy))
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})
        response = connection.getresponse()
        response.read(READ_LIMIT)
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def _resolved(policy: TargetPolicy, host: str, port: int) -> str:
    """The checked address, from plain code or from a thread whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(address_resolve(policy, host, port))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(address_resolve(policy, host, port))).result()


def _error_text(exc: Exception, timeout: float) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return (str(exc) or type(exc).__name__)[:500]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def mail_send(*, addresses: list[str], subject: str, body: str) -> Outcome:
    """Through Django's e-mail backend (EMAIL_* settings)."""
    started = time.perf_counter()
    try:
        send_mail(subject, body, None, addresses, fail_silently=False)
    except Exception as exc:  # noqa: BLE001  any backend error is a failed delivery, logged with its text
        return Outcome(False, None, (str(exc) or type(exc).__name__)[:500], _ms(started))
    return Outcome(True, None, "", _ms(started))
