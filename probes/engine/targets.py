"""What the broker probes (RabbitMQ, NATS, Redis) read alike from a target URL; each kind adds its own defaults."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

VOWELS = "aeiou"


@dataclass(frozen=True, slots=True)
class Target:
    """A broker URL split up: the port None when not given, the credentials unquoted (None when absent)."""

    scheme: str
    host: str
    port: int | None
    user: str | None
    password: str | None
    path: str


def target_split(target: str, *, schemes: tuple[str, ...]) -> Target:
    """Scheme, host, port, credentials and path of a URL of one of the schemes; ValueError for anything else."""
    parts = urlsplit(target)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"target is not {_schemes_named(schemes)} URL with a host")
    return Target(parts.scheme, parts.hostname, parts.port, _unquoted(parts.username), _unquoted(parts.password),
                  parts.path)


def _schemes_named(schemes: tuple[str, ...]) -> str:
    """("amqp", "amqps") -> "an amqp:// or amqps://"."""
    article = "an" if schemes[0][0] in VOWELS else "a"
    return f"{article} {' or '.join(f'{scheme}://' for scheme in schemes)}"


def _unquoted(text: str | None) -> str | None:
    return None if text is None else unquote(text)
