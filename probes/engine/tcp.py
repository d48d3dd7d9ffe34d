"""TCP probe: a connection to host:port is accepted within the timeout; and the connect other kinds use."""
from __future__ import annotations

import asyncio
import errno
import socket
from typing import TYPE_CHECKING

from .policy import host_port_resolve
from .spec import ProbeSpec

if TYPE_CHECKING:
    from .runner import Attempt, Measured

CONNECTED = frozenset({0, errno.EISCONN})
IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK})


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """Open and close a TCP connection to the checked address."""
    _, address, port = await host_port_resolve(attempt.policy, spec.target)
    attempt.connecting()
    (await socket_connected(address, port)).close()
    return {}, ""


async def socket_connected(address: str, port: int) -> socket.socket:
    """A connected non-blocking socket to an IP address."""
    sock, connected = socket_started(address, port)
    if not connected:
        await socket_connect_wait(sock, (address, port))
    return sock


def socket_started(address: str, port: int) -> tuple[socket.socket, bool]:
    """A non-blocking socket to an IP address with its connect begun, and whether it is already connected.

    The connect is asked twice before anyone waits on the loop: on loopback (and other very near
    hosts) the handshake is already done by then, which saves a loop round per probe on the hot path.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        code = sock.connect_ex((address, port))
        if code in IN_PROGRESS:
            code = sock.connect_ex((address, port))
        if code in IN_PROGRESS:
            return sock, False
        if code not in CONNECTED:
            raise OSError(code, f"Connect call failed {(address, port)}")
    except BaseException:
        sock.close()
        raise
    return sock, True


async def socket_connect_wait(sock: socket.socket, target: tuple[str, int]) -> None:
    """Wait on the loop for a connect that socket_started began; the socket is closed if it fails."""
    try:
        await asyncio.get_running_loop().sock_connect(sock, target)
    except BaseException:
        sock.close()
        raise
