"""What receivers get: the JSON body of an event, its signature, the Slack-compatible text and the
e-mail. Pure: no Django, no database (tested without one)."""
import hashlib
import hmac
import json
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Switchboard-Signature"
EVENT_HEADER = "X-Switchboard-Event"
EVENT_ID_HEADER = "X-Switchboard-Event-Id"
USER_AGENT = "Switchboard-Notifications/1"
STATE_WORDS = {"down": "is down", "up": "is up again", "degraded": "is degraded"}


def body_bytes(payload: dict) -> bytes:
    """The raw body that is sent and signed: compact JSON, keys in a fixed order."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body with the secret>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(signature(secret, body), header or "")


def webhook_headers(payload: dict, body: bytes, secret: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               EVENT_ID_HEADER: payload["id"], EVENT_HEADER: payload["type"]}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    return headers


# --- summaries -----------------------------------------------------------------------------------


def probe_summary(*, service: str, probe: str, location: str, previous: str, state: str, error: str) -> str:
    was = f" (was {previous})" if previous else ""
    why = f": {error}" if error and state != "up" else ""
    return f"{service}/{probe} {STATE_WORDS.get(state, state)} at {location}{was}{why}"[:500]


def finding_summary(finding: dict) -> str:
    return f"New {finding['kind']} ({finding['severity']}): {finding['text']}"[:500]


def decision_summary(*, code: str, title: str, change: str, status: str) -> str:
    return f"{code} {change}: {title} ({status})"[:500]


# --- Slack-compatible and e-mail forms -----------------------------------------------------------

EMOJI = {"probe.down": ":red_circle:", "probe.up": ":large_green_circle:", "probe.degraded": ":large_orange_circle:",
         "finding.new": ":warning:", "decision.changed": ":memo:", "test": ":wave:"}


def slack_body(payload: dict) -> bytes:
    """A short text with a link back to the page (Slack's `<url|label>` link form)."""
    text = _slack_escaped(payload["summary"])
    link = f" <{payload['url']}|open in Switchboard>" if payload.get("url") else ""
    return body_bytes({"text": f"{EMOJI.get(payload['type'], '')} {text}{link}".strip()})


def _slack_escaped(text: str) -> str:
    """Slack reads &, < and > as markup: escape them so names cannot forge links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def mail_of(payload: dict) -> Mail:
    subject = f"[Switchboard] {payload['summary']}".replace("\n", " ")[:200]
    lines = [payload["summary"], ""]
    if payload.get("url"):
        lines += [payload["url"], ""]
    lines += [f"Event: {payload['type']}", f"Event id: {payload['id']}", f"Occurred at: {payload['occurred_at']}"]
    if payload.get("team"):
        lines.append(f"Team: {payload['team']}")
    return Mail(subject=subject, body="\n".join(lines) + "\n")


# --- retries -------------------------------------------------------------------------------------


def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff after the `attempt`-th failure (1, 2, ...): base·2^(attempt-1), at most
    `cap`, scaled by a jitter factor in [1 - x, 1] (`jitter` is that draw, 0..1)."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * (1 - 0.5 * jitter)
