"""Checks of what a person or CI sends for channels, maintenance windows and mutes: plain data in,
a list of {"pointer", "message"} out (JSON pointers into the request body). Pure: no Django."""
import re
from datetime import datetime
from urllib.parse import urlsplit

from core.inputs import NAME_RE, shown
from core.severity import SEVERITIES
from probes.engine.addresses import host_literal

KINDS = ("webhook", "slack", "email")
EVENTS = ("probe.down", "probe.up", "probe.degraded", "finding.new", "decision.changed")
CHANNEL_FIELDS = {"team", "name", "kind", "url", "addresses", "secret", "events", "min_severity", "chain_depth",
                  "enabled"}
MAX_ADDRESSES = 20
EMAIL_RE = re.compile(r"^[^@\s<>,;\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")

Errors = list[dict]


def _error(pointer: str, message: str) -> dict:
    return {"pointer": pointer, "message": message}


def channel_errors(values: dict, *, refusal=lambda address: "") -> Errors:
    """Everything wrong with a channel's values (already merged with the stored ones for a change).
    `refusal(address)` says why the target policy refuses an IP literal ("" when it does not)."""
    errors = [_error(f"/{name}", "unknown field") for name in sorted(set(values) - CHANNEL_FIELDS)]
    errors += _name_errors(values.get("name"))
    kind = values.get("kind")
    if kind not in KINDS:
        return errors + [_error("/kind", f"{shown(kind)} is not a channel kind; use one of {', '.join(KINDS)}")]
    if kind == "email":
        errors += _addresses_errors(values.get("addresses"))
        if values.get("url"):
            errors.append(_error("/url", "an e-mail channel has addresses, not a URL"))
    else:
        errors += _url_errors(values.get("url"), refusal)
        if values.get("addresses"):
            errors.append(_error("/addresses", f"a {kind} channel has a URL, not addresses"))
    errors += _secret_errors(values.get("secret", ""), kind)
    errors += _events_errors(values.get("events"))
    errors += _filter_errors(values)
    if not isinstance(values.get("enabled", True), bool):
        errors.append(_error("/enabled", "must be true or false"))
    return errors


def _name_errors(name) -> Errors:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [_error("/name", f"{shown(name)} is not a name: lower-case letters, digits and '-', 1 to 63 "
                                "characters, starting and ending with a letter or digit")]
    return []


def _url_errors(url, refusal) -> Errors:
    if not isinstance(url, str) or not url.strip():
        return [_error("/url", "a webhook needs the URL to post to")]
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [_error("/url", f"{shown(url)} is not an http:// or https:// URL with a host")]
    if len(url) > 500:
        return [_error("/url", "at most 500 characters")]
    try:
        parts.port
    except ValueError:
        return [_error("/url", f"{shown(url)} has a port that is not a number from 1 to 65535")]
    address = host_literal(parts.hostname)
    if address is None:
        return []  # a name: checked on the addresses it resolves to, when sending
    reason = refusal(address)
    return [_error("/url", f"{parts.hostname} is refused by the target policy: {reason}")] if reason else []


def _addresses_errors(addresses) -> Errors:
    if not isinstance(addresses, list) or not addresses:
        return [_error("/addresses", "an e-mail channel needs a list of one or more addresses")]
    if len(addresses) > MAX_ADDRESSES:
        return [_error("/addresses", f"at most {MAX_ADDRESSES} addresses")]
    return [_error(f"/addresses/{i}", f"{shown(a)} is not an e-mail address")
            for i, a in enumerate(addresses) if not isinstance(a, str) or len(a) > 254 or not EMAIL_RE.match(a)]


def _secret_errors(secret, kind: str) -> Errors:
    if not isinstance(secret, str):
        return [_error("/secret", "must be a string")]
    if secret and kind != "webhook":
        return [_error("/secret", "only a webhook channel signs its bodies with a secret")]
    if len(secret) > 200 or (secret and len(secret) < 16):
        return [_error("/secret", "a secret has 16 to 200 characters")]
    return []


def _events_errors(events) -> Errors:
    if not isinstance(events, list) or not events:
        return [_error("/events", f"a list of one or more event types: {', '.join(EVENTS)}")]
    errors = [_error(f"/events/{i}", f"{shown(e)} is not an event type; use {', '.join(EVENTS)}")
              for i, e in enumerate(events) if e not in EVENTS]
    if not errors and len(set(events)) != len(events):
        errors.append(_error("/events", "lists an event type twice"))
    return errors


def _filter_errors(values: dict) -> Errors:
    errors = []
    if values.get("min_severity", "warning") not in SEVERITIES:
        errors.append(_error("/min_severity", f"use one of {', '.join(SEVERITIES)}"))
    depth = values.get("chain_depth", 3)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 50:
        errors.append(_error("/chain_depth", "a whole number of calls from 1 to 50"))
    return errors


def window_errors(*, starts_at, ends_at, services: list, reason) -> Errors:
    errors = []
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime):
            errors.append(_error(f"/{name}", "a date and time with its time zone, e.g. 2026-12-05T02:00:00Z"))
    if not errors and ends_at <= starts_at:
        errors.append(_error("/ends_at", "must be after starts_at"))
    if not isinstance(services, list) or not services:
        errors.append(_error("/services", "a list of one or more service names"))
    if not isinstance(reason, str) or len(reason) > 200:
        errors.append(_error("/reason", "a text of at most 200 characters"))
    return errors
