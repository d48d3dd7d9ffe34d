"""Rendering inputs cannot inject into DOT, Mermaid, SVG, Markdown or HTML.

Names are slugs, so the free text carries the payloads: service titles and descriptions, team names,
channel names (as far as the channel rule lets them), flow names, descriptions and step labels,
decision titles and texts. Each is drawn and written by the real code, and the output is read the way
its consumer reads it: `dot` must still parse the DOT, the SVG is parsed as XML, the Mermaid text line
by line, the Markdown cell by cell.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from reports.bundle import cell, fenced, line
from reports.madr import DecisionRecord, madr_parse, madr_render
from topology import mermaid
from topology.graph import Link, Node, Topology
from topology.mermaid import Step, flowchart, folded_flowchart, sequence_diagram
from topology.models import Team
from topology.rendering import dot_source, quote
from tests.factories import pubsub, register, rest, service_doc

PAYLOADS = [
    '"quoted" and \'single\'',
    "{braces} } {",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "]] ]) }} end",
    "a --> b -.-> c ->> d",
    '%%{init: {"theme": "dark", "securityLevel": "loose"}}%%',
    "`backticks` ```fence```",
    "line one\nline two\r\nline three\rfour\u2028five\u0085six",
    "# heading ### and #35; entity",
    "semi; colon;;",
    "&lt;script&gt;alert(2)&lt;/script&gt; &amp; &#60;b&#62;",
    'trailing backslash \\',
    '\\" ] ; } digraph evil { x -> y }',
    "pipe | and \\| escaped pipe",
    "nul \x00 and bell \x07 and escape \x1b[31m",
    "\\N \\G \\E \\T \\H \\L \\l \\r",
]
HOSTILE = " ".join(payload.replace("\x00", "") for payload in PAYLOADS)
# Every kind of payload in one title (titles, names and labels hold at most 100-200 characters).
SHORT = '"q" {b} <script>alert(1)</script> ]] --> %%{init: {}}%% `t` #h; &lt;x&gt; \\ a\nb |'
SCRIPTISH = re.compile(r"<\s*(script|img|iframe|object)\b", re.I)
DOT = shutil.which("dot")


def svg_checked(svg: str) -> ElementTree.Element:
    """Parse the SVG as XML: no script or foreignObject elements, no on* attributes, no javascript: links."""
    root = ElementTree.fromstring(svg)
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "iframe", "img"), tag
        for name, value in element.attrib.items():
            assert not name.rsplit("}", 1)[-1].lower().startswith("on"), (name, value)
            assert not value.strip().lower().startswith("javascript:"), (name, value)
    return root


def dot_svg(dot: str) -> str:
    """What Graphviz makes of the DOT; it must parse it without a complaint."""
    done = subprocess.run([DOT, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr.decode()[:500]
    return done.stdout.decode()


def dot_strings_balanced(dot: str) -> None:
    """Every line of the DOT opens and closes its strings: no raw line break inside one, no stray quote."""
    for number, text in enumerate(dot.splitlines(), start=1):
        unescaped = re.sub(r'\\.', "", text)
        assert unescaped.count('"') % 2 == 0, (number, text)


def mermaid_checked(text: str, *, statements: int | None = None) -> None:
    """No directive, comment, HTML tag or Markdown string in Mermaid text; each statement one line."""
    lines = text.splitlines()
    assert "%%" not in text and "<" not in text and "`" not in text
    assert not any(line.strip().startswith(("%%", "click", "style", "classDef")) for line in lines)
    if statements is not None:
        assert len(lines) == statements, text


# --- DOT and SVG, pure ---------------------------------------------------------------------------


def hostile_topology(payload: str) -> Topology:
    topology = Topology(nodes={
        "web": Node("web", team=payload, title=payload),
        "orders": Node("orders", team="commerce", title=payload),
        "mailer": Node("mailer", team=None),
    })
    topology.links = [Link("web", "orders", "place-order", style="rest", recommended=payload),
                      Link("orders", "mailer", "order-placed", style="pubsub", channel="orders#>*:/x", broker="kafka")]
    return topology


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_text_in_dot_quoted_so_graphviz_still_parses_it(payload):
    dot = dot_source(hostile_topology(payload))
    dot_strings_balanced(dot)
    if DOT:
        svg = svg_checked(dot_svg(dot))
        assert len([g for g in svg.iter() if g.get("class") == "node"]) >= 3


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_text_as_one_dot_string(payload):
    quoted = quote(payload)
    assert quoted.startswith('"') and quoted.endswith('"') and "\n" not in quoted and "\r" not in quoted
    inner = re.sub(r"\\.", "", quoted[1:-1])
    assert '"' not in inner and "\\" not in inner and "\x00" not in quoted


@pytest.mark.skipif(DOT is None, reason="Graphviz is not installed")
def test_it_handles_every_payload_at_once_in_an_svg_without_markup():
    svg = dot_svg(dot_source(hostile_topology(HOSTILE)))
    svg_checked(svg)
    assert not SCRIPTISH.search(svg)


# --- Mermaid, pure -------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_text_in_mermaid_as_one_inert_line(payload):
    said = mermaid.text(payload)
    assert "\n" not in said and "\r" not in said
    assert not set(said) & set('<>"%`\x00')
    assert re.sub(r"#\w+;", "", said).count(";") == 0 and "#" not in re.sub(r"#\w+;", "", said)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_flow_steps_and_titles_in_sequence_diagrams(payload):
    steps = [Step("web", ("orders",), "place-order", style="rest", label=payload),
             Step("orders", ("mailer", "audit"), "order-placed", style="pubsub", channel="orders#x", broker="kafka",
                  label=payload),
             Step("orders", ("payments",), "pay", style="grpc", label=payload)]
    text = sequence_diagram(steps, title=payload)
    # header (3), participants (6), the call (2), publish and ack (2), two pushes (2), a call (2), returns (4)
    mermaid_checked(text, statements=3 + 6 + 2 + 2 + 2 + 2 + 4)
    assert all(line.startswith(("sequenceDiagram", "    ")) for line in text.splitlines())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_team_names_in_flowcharts(payload):
    topology = hostile_topology(payload)
    for text in (flowchart(topology), folded_flowchart(topology, keep="commerce")[0]):
        mermaid_checked(text)
        for statement in text.splitlines()[1:]:
            assert re.match(r"^\s+(subgraph \w+\[\"[^\"]*\"\]|end|\w+(\[\"[^\"]*\"\]|\(\[\"[^\"]*\"\]\)|\{\{\"[^\"]*\"\}\})|"
                            r"\w+ (-->|-\.->)(\|\"[^\"]*\"\|)? \w+)$", statement), statement


# --- Markdown, pure ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_text_in_markdown_cells_and_lines(payload):
    written = cell(payload)
    assert "\n" not in written and "<" not in written.replace("<br>", "")
    assert re.sub(r"\\.", "", written).count("|") == 0  # every pipe escaped, and no escape escaped away
    said = line(payload)
    assert "\n" not in said and "<" not in said


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_text_in_fenced_mermaid_blocks(payload):
    block = fenced("mermaid", f"flowchart LR\n    n1[\"{mermaid.text(payload)}\"]")
    fence = block.splitlines()[0][: -len("mermaid")]
    assert block.splitlines()[-1] == fence and block.count(fence) == 2


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_handles_hostile_decision_titles_in_madr_without_raw_html(payload):
    payload = payload.replace("\x00", "")
    record = DecisionRecord(number=7, title=payload, status="accepted", kind="general", context=payload,
                            outcome=payload)
    text = madr_render(record)
    heading = next(line for line in text.splitlines() if line.startswith("# "))
    assert not re.search(r"(?<!\\)<", heading), heading
    assert madr_parse(text).title == payload


# --- Registered through the API, drawn and shown by the real endpoints and pages -----------------


@pytest.fixture
def hostile(db, client, settings, tmp_path):
    """A system whose free text is all payloads: team name, titles, descriptions, a flow, a decision."""
    from decisions.services import decision_create

    settings.VAR_DIR = tmp_path
    Team.objects.create(slug="commerce", name=SHORT)
    staff = User.objects.create_user("root", password="pw-root", is_staff=True)
    register(service_doc("web", title=SHORT, description=HOSTILE, interactions=[rest("place-order", "orders")]),
             service_doc("orders", title=SHORT, description=HOSTILE,
                         interactions=[pubsub("order-placed", "orders#>created", "mailer")]),
             service_doc("mailer", title=SHORT))
    api = APIClient()
    api.force_login(staff)
    flow = {"slug": "checkout", "name": SHORT, "description": HOSTILE, "team": "commerce",
            "steps": [{"interaction": "web/place-order", "label": SHORT},
                      {"interaction": "orders/order-placed", "label": PAYLOADS[6]}]}
    assert api.post("/api/v1/flows/", flow, format="json").status_code == 201
    decision = decision_create(actor=actor_for_cli(), title=SHORT, status="accepted", context=HOSTILE,
                               justification=HOSTILE, outcome=SHORT)
    client.force_login(staff)
    return api, client, decision


@pytest.mark.skipif(DOT is None, reason="Graphviz is not installed")
def test_it_handles_hostile_registered_text_in_the_topology_svg_and_dot(hostile):
    api, _, _ = hostile
    dot = api.get("/api/v1/topology/?format=dot").content.decode()
    dot_strings_balanced(dot)
    dot_svg(dot)
    response = api.get("/api/v1/topology/?format=svg")
    assert response.status_code == 200
    svg = response.content.decode()
    svg_checked(svg[svg.index("<svg"):])
    assert not SCRIPTISH.search(svg)


def test_it_handles_hostile_registered_text_in_the_mermaid_endpoints(hostile):
    api, _, _ = hostile
    for path in ("/api/v1/diagrams/sequence/?flow=checkout", "/api/v1/diagrams/sequence/?entry=web",
                 "/api/v1/diagrams/flowchart/"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        mermaid_checked(response.content.decode())


def test_it_handles_hostile_registered_text_in_the_markdown_and_zip_exports(hostile):
    api, _, decision = hostile
    markdown = api.get("/api/v1/exports/mermaid/").content.decode()
    assert not SCRIPTISH.search(markdown)
    blocks = re.findall(r"^(`{3,})mermaid\n(.*?)\n\1$", markdown, flags=re.S | re.M)
    assert len(blocks) >= 2
    for _, block in blocks:
        mermaid_checked(block)
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/exports/mermaid.zip").content))
    for name in archive.namelist():
        text = archive.read(name).decode()
        assert not SCRIPTISH.search(text), name
        if name.endswith(".mmd"):
            mermaid_checked(text)
    madr = api.get(f"/api/v1/decisions/{decision.number}/madr/").content.decode()
    heading = next(line for line in madr.splitlines() if line.startswith("# "))
    assert not re.search(r"(?<!\\)<", heading)


SHOWN = ("/services/web/", "/flows/checkout/", "/teams/commerce/")  # pages that show a payload's text


def test_it_handles_hostile_registered_text_on_the_pages(hostile):
    _, client, decision = hostile
    for path in ("/topology/", "/services/web/", "/services/orders/", "/services/web/interactions/place-order/",
                 "/services/orders/interactions/order-placed/", "/flows/checkout/", f"/decisions/{decision.number}/",
                 "/teams/commerce/", "/services/", "/interactions/", "/flows/"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        assert "<script>alert(1)" not in page and "<img src=x onerror" not in page, path
        if path in SHOWN:
            assert "&lt;script&gt;alert(1)" in page, path
