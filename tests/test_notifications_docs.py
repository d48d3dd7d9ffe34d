"""docs/notifications.md against the code: the signature snippets (Python, Node.js, Perl) run against
bodies Switchboard signs and sends; the example payloads have the fields the code sends; the signed
example, the Slack body, the e-mail and the settings defaults are what the code makes."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from core.actors import actor_for_cli
from decisions.services import decision_create, decision_update
from notifications import delivery as sending
from notifications import events as outbox
from notifications.models import Channel, Event
from notifications.payloads import body_bytes, mail_of, signature, slack_body
from probes.engine.spec import Outcome, ProbeResult as RunResult
from probes.models import Probe
from probes.services import probe_results_record
from tests.http_receiver import Receiver
from tests.notification_helpers import webhook
from tests.test_probe_services import register
from topology.manifest import InteractionSpec, ServiceSpec
from topology.models import Interaction
from topology.registration import registration_apply

DOC = (Path(__file__).resolve().parents[1] / "docs" / "notifications.md").read_text()
SECRET = "a-long-shared-secret-0123456789"
DETAILS = ("probe", "finding", "decision")


def block(marker: str) -> str:
    """The fenced block right after `<!-- marker -->`."""
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```[\w-]*\n(.*?)\n```", DOC, re.S)
    assert found, f"no block marked {marker!r} in docs/notifications.md"
    return found.group(1)


def example(marker: str) -> dict:
    return json.loads(block(f"payload: {marker}"))


# --- requests to check each snippet with -----------------------------------------------------------


def signed_cases() -> dict[str, tuple[bytes, str | None, bool]]:
    """name -> (body, X-Switchboard-Signature, whether it must be accepted). The body has non-ASCII
    characters (→), as Switchboard sends them, so a snippet must verify bytes, not text."""
    body = body_bytes(example("finding.new"))
    assert "→".encode() in body
    good = signature(SECRET, body)
    return {
        "right": (body, good, True),
        "wrong secret": (body, signature("not-the-shared-secret-0123", body), False),
        "modified body": (body.replace(b'"warning"', b'"info"', 1), good, False),
        "re-serialized body": (json.dumps(json.loads(body)).encode(), good, False),
        "no signature": (body, None, False),
        "cut signature": (body, good[:-1], False),
        "signature of another body": (body, signature(SECRET, body + b" "), False),
    }


def post(port: int, body: bytes, header: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Switchboard-Signature"] = header
    request = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def delivered(port: int, secret: str):
    """One real send by Switchboard's webhook transport, as a delivery makes it."""
    channel = Channel(kind="webhook", url=f"http://127.0.0.1:{port}/hook", secret=secret)
    return sending.channel_send(channel=channel, payload=example("finding.new"))


def assert_receiver_checks(port: int) -> None:
    for name, (body, header, accepted) in signed_cases().items():
        assert post(port, body, header) == (204 if accepted else 401), name
    right = delivered(port, SECRET)
    assert right.ok and right.status_code == 204, right
    wrong = delivered(port, "a-secret-the-receiver-does-not-know")
    assert not wrong.ok and wrong.status_code == 401, wrong


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def binary(name: str) -> str:
    """The interpreter, or skip (fail on CI, where it must be there)."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is needed to check the {name} snippet of docs/notifications.md")
        pytest.skip(f"{name} is not installed")
    return found


class Serving:
    """An HTTPServer on a free loopback port, in a thread."""

    def __init__(self, handler) -> None:
        self.server = HTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the snippets --------------------------------------------------------------------------------


def test_the_python_snippet_accepts_only_a_correct_signature_of_the_raw_body(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_SECRET", SECRET)
    snippet: dict = {"__name__": "docs_snippet"}
    exec(compile(block("snippet: python"), "docs/notifications.md (python)", "exec"), snippet)
    for name, (body, header, accepted) in signed_cases().items():
        assert snippet["signature_ok"](body, header) is accepted, name

    class Quiet(snippet["Receiver"]):
        def log_message(self, *args) -> None:
            pass

    with Serving(Quiet) as serving:
        assert_receiver_checks(serving.port)


def test_the_node_snippet_accepts_only_a_correct_signature_of_the_raw_body(tmp_path):
    node = binary("node")
    script = tmp_path / "receiver.js"
    script.write_text(block("snippet: node"))
    port = free_port()
    process = subprocess.Popen([node, str(script)], env={**os.environ, "SWITCHBOARD_SECRET": SECRET, "PORT": str(port)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        listening(port, process)
        assert_receiver_checks(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_perl_snippet_accepts_only_a_correct_signature_of_the_raw_body(tmp_path):
    perl = binary("perl")
    script = tmp_path / "receiver.cgi"
    script.write_text(block("snippet: perl"))

    def cgi(body: bytes, header: str | None) -> int:
        env = {**os.environ, "SWITCHBOARD_SECRET": SECRET, "REQUEST_METHOD": "POST",
               "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}
        env.pop("HTTP_X_SWITCHBOARD_SIGNATURE", None)
        if header is not None:
            env["HTTP_X_SWITCHBOARD_SIGNATURE"] = header
        ran = subprocess.run([perl, str(script)], input=body, env=env, capture_output=True, timeout=30, check=True)
        assert not ran.stderr, ran.stderr
        return int(re.match(rb"Status: (\d{3}) ", ran.stdout).group(1))

    for name, (body, header, accepted) in signed_cases().items():
        assert cgi(body, header) == (204 if accepted else 401), name

    class Gateway(BaseHTTPRequestHandler):
        """A web server that runs the script as CGI, as one would deploy it."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(cgi(body, self.headers.get("X-Switchboard-Signature")))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    with Serving(Gateway) as serving:
        assert_receiver_checks(serving.port)


# --- the examples --------------------------------------------------------------------------------


def test_the_signed_example_is_the_body_as_sent_and_its_signature():
    body = block("signed body").encode()
    assert body_bytes(json.loads(body)) == body
    assert json.loads(body) == example("test")
    assert block("signature header") == f"X-Switchboard-Signature: {signature(SECRET, body)}"


def test_the_slack_and_mail_examples_are_what_the_code_makes_of_the_payload():
    payload = example("probe.down")
    assert slack_body(payload).decode() == block("slack: probe.down")
    mail = mail_of(payload)
    headers, _, text = block("mail: probe.down").partition("\n\n")
    assert f"Subject: {mail.subject}" in headers.splitlines()
    assert text + "\n" == mail.body


def test_the_settings_table_gives_the_defaults_of_the_settings():
    for name, default in re.findall(r"^\| `((?:NOTIFY|PROBE)_[A-Z_]+)` \| (\d+) \|", DOC, re.M):
        if name not in os.environ:
            assert getattr(django_settings, name) == int(default), name


def shape(payload: dict) -> set[str]:
    """The fields of a payload, and those of its details (probe.state, finding.kind, ...)."""
    return set(payload) | {f"{key}.{inner}" for key in DETAILS if isinstance(payload.get(key), dict)
                           for inner in payload[key]}


@pytest.fixture
def no_queue(monkeypatch):
    monkeypatch.setattr(outbox, "deliveries_queue", lambda *, delivery_ids: None)


def test_the_example_payloads_have_the_fields_the_code_sends(team, no_queue):
    """Each example's fields against an event of its type raised through the code that raises it."""
    t0 = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    register(probes=[{"name": "health", "type": "tcp", "target": "127.0.0.1:9", "interval": "30s", "timeout": "2s"}])
    probe = Probe.objects.get()
    for n, outcome in enumerate([Outcome.UP, Outcome.UP, Outcome.DOWN, Outcome.DOWN, Outcome.UP, Outcome.UP,
                                 Outcome.DEGRADED, Outcome.DEGRADED]):
        at = t0 + timedelta(seconds=30 * n)
        probe_results_record(location="default", slot=at, results=[RunResult(
            key=str(probe.id), outcome=outcome, latency_ms=3.0, started_at=at,
            finished_at=at + timedelta(milliseconds=3), values={"connect_ms": 3.0},
            error="" if outcome == Outcome.UP else "connection refused")])

    webhook(team, "http://127.0.0.1:9/hook", name="findings", events=["finding.new"])  # the baseline
    chain = [("checkout", "orders", "rest"), ("orders", "payments", "grpc"), ("payments", "fraud", "grpc"),
             ("fraud", "risk-db-api", "rest")]
    specs = [ServiceSpec(name=source, team="commerce", interactions=(
        InteractionSpec(name=f"call-{target}", targets=(target,), style=style),)) for source, target, style in chain]
    specs[0] = ServiceSpec(name="checkout", team="commerce", interactions=(
        *specs[0].interactions, InteractionSpec(name="order-placed-mail", targets=("mailer",), style="rest",
                                                criteria={"can_defer": True, "requires_decoupling": True})))
    registration_apply(specs=[*specs, ServiceSpec(name="risk-db-api", team="commerce"),
                              ServiceSpec(name="mailer", team="commerce")], actor=actor_for_cli())

    link = Interaction.objects.get(source__name="checkout", name="call-orders")
    decision = decision_create(actor=actor_for_cli(), title="Charge cards over gRPC", team=team, interactions=[link])
    decision_update(actor=actor_for_cli(), decision=decision, status="accepted")

    raised: dict[str, list[dict]] = {}
    for event in Event.objects.order_by("occurred_at"):
        raised.setdefault(event.type, []).append(event.payload)
    findings = {payload["finding"]["kind"]: payload for payload in raised["finding.new"]}
    got = {"probe.down": raised["probe.down"][0], "probe.up": raised["probe.up"][0],
           "probe.degraded": raised["probe.degraded"][0], "finding.new": findings["sync-chain"],
           "finding.new mismatch": findings["mismatch"], "decision.changed": raised["decision.changed"][-1]}
    with Receiver() as receiver:
        sending.channel_test(actor=actor_for_cli(), channel=webhook(team, receiver.url, secret=SECRET))
    got["test"] = receiver.requests[0].json()

    for marker, payload in got.items():
        documented = example(marker)
        assert documented["type"] == payload["type"], marker
        assert shape(documented) == shape(payload), marker
