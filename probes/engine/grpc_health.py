"""gRPC probe: grpc.health.v1.Health/Check on a channel to the checked address."""
from __future__ import annotations

import ssl
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .policy import host_port_resolve
from .spec import ProbeSpec, duration_text

if TYPE_CHECKING:
    from .runner import Attempt, Measured

SERVING = health_pb2.HealthCheckResponse.SERVING
STATUS_NAME = health_pb2.HealthCheckResponse.ServingStatus.Name
GRPC_ROOTS = Path(grpc.__file__).parent / "_cython" / "_credentials" / "roots.pem"
CHANNEL_OPTIONS = (("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0))


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """Ask the health service about `service` (default "": the whole server)."""
    host, address, port = await host_port_resolve(attempt.policy, spec.target)
    service = spec.options.get("service", "")
    attempt.connecting()
    tls = _credentials(attempt.policy.ssl_context) if spec.options.get("tls", False) else None
    async with _channel(address, host, port, tls) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=spec.timeout)
        except grpc.aio.AioRpcError as exc:
            return {}, _rpc_problem(exc, service, spec.timeout)
    status = STATUS_NAME(reply.status)
    return {"status": status}, "" if reply.status == SERVING else f"health status {status}"


def _channel(address: str, host: str, port: int, tls: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
    """A channel to the address itself (no resolution by gRPC), naming and verifying the original host."""
    target = f"ipv6:[{address}]:{port}" if ":" in address else f"ipv4:{address}:{port}"
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = [*CHANNEL_OPTIONS, ("grpc.default_authority", authority)]
    if tls is None:
        return grpc.aio.insecure_channel(target, options=options)
    options.append(("grpc.ssl_target_name_override", host))
    return grpc.aio.secure_channel(target, tls, options=options)


@lru_cache(maxsize=8)
def _credentials(context: ssl.SSLContext | None) -> grpc.ChannelCredentials:
    """TLS credentials trusting gRPC's own roots plus every CA loaded into the policy's TLS context.

    gRPC cannot use an SSLContext, so the CAs are handed over as PEM (built once per context).
    """
    extra = context.get_ca_certs(binary_form=True) if context is not None else []
    if not extra:
        return grpc.ssl_channel_credentials()
    pems = "".join(ssl.DER_cert_to_PEM_cert(der) for der in extra)
    return grpc.ssl_channel_credentials(f"{_bundled_roots()}\n{pems}".encode())


def _bundled_roots() -> str:
    """The root certificates gRPC ships with (it uses them when given no roots of its own)."""
    try:
        return GRPC_ROOTS.read_text()
    except OSError:
        return ""


def _rpc_problem(exc: grpc.aio.AioRpcError, service: str, timeout: float) -> str:
    """What a failed Check means for the target."""
    code = exc.code()
    if code == grpc.StatusCode.NOT_FOUND:
        return f"unknown service {service!r}"
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return "the server has no health service"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"timed out after {duration_text(timeout)}"
    details = exc.details()
    return f"{code.name}: {details}" if details else code.name
