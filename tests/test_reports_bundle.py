"""The Mermaid bundle of a report (issue 11): scopes from a query or a JSON body, the report data of
each scope on the demo system, the pure Markdown/zip bundle, and the export API."""
import io
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as django_timezone
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from core.errors import Invalid
from reports.bundle import bundle_diagrams, bundle_markdown, bundle_zip, cell, fenced
from reports.scopes import ReportScope, scope_from_body, scope_from_query, scope_view
from reports.selectors import (Counts, DecisionRow, FindingRow, FlowDiagram, InteractionRow, LocationState,
                               ProbeRow, Reason, ReportData, ServiceRow, TopologyDiagram, report_data)
from tests.factories import register, rest, service_doc

REPORT_URL, ZIP_URL = "/api/v1/exports/mermaid/", "/api/v1/exports/mermaid.zip"


def pointers(exc) -> dict:
    return {error["pointer"]: error["message"] for error in exc.value.errors}


# --- scopes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, scope, label", [
    ({}, ReportScope(kind="system"), "whole system"),
    ({"team": "commerce"}, ReportScope(kind="team", team="commerce"), "team commerce"),
    ({"service": "orders"}, ReportScope(kind="service", service="orders"), "orders and neighbours within 1 hop"),
    ({"service": "orders", "hops": "2"}, ReportScope(kind="service", service="orders", hops=2),
     "orders and neighbours within 2 hops"),
    ({"team": "", "service": ""}, ReportScope(), "whole system"),
])
def test_it_reads_a_scope_from_the_query(demo, params, scope, label):
    assert scope_from_query(params) == scope
    assert scope.label == label


@pytest.mark.parametrize("params, pointer, message", [
    ({"team": "commerce", "service": "orders"}, "team", "not both"),
    ({"service": "orders", "hops": "0"}, "hops", "from 1 to 6"),
    ({"service": "orders", "hops": "7"}, "hops", "from 1 to 6"),
    ({"service": "orders", "hops": "two"}, "hops", "from 1 to 6"),
    ({"team": "commerce", "hops": "2"}, "hops", "only with service"),
    ({"team": "nope"}, "team", "no team named 'nope'"),
    ({"service": "nope"}, "service", "no service named 'nope'"),
])
def test_it_refuses_a_bad_query_naming_the_parameter(demo, params, pointer, message):
    with pytest.raises(Invalid) as exc:
        scope_from_query(params)
    assert message in pointers(exc)[pointer]


@pytest.mark.parametrize("body, scope", [
    ({}, ReportScope()),
    ({"scope": "system"}, ReportScope()),
    ({"scope": "team", "team": "commerce"}, ReportScope(kind="team", team="commerce")),
    ({"scope": "service", "service": "orders", "hops": 2}, ReportScope(kind="service", service="orders", hops=2)),
    ({"scope": "service", "service": "loyalty", "format": "pdf"}, ReportScope(kind="service", service="loyalty")),
])
def test_it_reads_a_scope_from_a_json_body(demo, body, scope):
    assert scope_from_body(body) == scope


@pytest.mark.parametrize("body, pointer, message", [
    ([], "", "JSON object"),
    ({"scope": "planet"}, "/scope", "one of system, team, service, not 'planet'"),
    ({"scope": "team"}, "/team", "team is required"),
    ({"scope": "team", "team": 7}, "/team", "team is required"),
    ({"scope": "service", "service": "orders", "hops": "2"}, "/hops", "from 1 to 6"),
    ({"scope": "service", "service": "orders", "hops": True}, "/hops", "from 1 to 6"),
    ({"scope": "service", "service": "orders", "hops": 9}, "/hops", "from 1 to 6"),
    ({"scope": "service", "service": "orders", "team": "commerce"}, "/team", "only with scope 'team'"),
    ({"team": "commerce"}, "/team", "only with scope 'team'"),
    ({"scope": "team", "team": "nope"}, "/team", "no team named 'nope'"),
    ({"scope": "service", "service": "x" * 100}, "/service", "no service named 'xxxxx"),
])
def test_it_refuses_a_bad_body_with_a_pointer(demo, body, pointer, message):
    with pytest.raises(Invalid) as exc:
        scope_from_body(body)
    assert message in pointers(exc)[pointer]


def test_it_gives_each_scope_the_view_the_topology_page_draws():
    from topology.rendering import View

    assert scope_view(ReportScope()) == View()
    assert scope_view(ReportScope(kind="team", team="commerce")) == View(team="commerce")
    assert scope_view(ReportScope(kind="service", service="orders", hops=3)) == View(focus="orders", hops=3)


# --- the pure bundle, from hand-made data ----------------------------------------------------------


def interaction_row(key: str, mismatch: str = "", **changes) -> InteractionRow:
    source, name = key.split("/")
    values = dict(key=key, source=source, name=name, targets=("b",), style="rest", channel="", broker="",
                  pattern="pub-sub", protocol="", recommended_broker="kafka", confidence=0.86, mismatch=mismatch,
                  mismatch_message=f"Declared rest, but pub-sub fits (§4.3)." if mismatch else "",
                  mismatch_cites=("§4.3",) if mismatch else (), deliberate=False,
                  reasons=(Reason(text="Others must learn of it (§2.2).", cites=("§5.3", "§2.2"), decides="pattern",
                                  supports="pub-sub", effect=3, rule="several-downstream"),))
    return InteractionRow(**{**values, **changes})


def hand_made(**changes) -> ReportData:
    """A small report: awkward text in the cells, mismatches in every severity (listed worst first)."""
    interactions = [interaction_row("a/err", "error"), interaction_row("a/warn", "warning"),
                    interaction_row("c/info", "info"), interaction_row("a/fine", style="pubsub", channel="x.y")]
    data = ReportData(
        scope=ReportScope(kind="team", team="commerce"),
        generated_at=datetime(2025, 3, 4, 5, 6, tzinfo=timezone.utc), ruleset_version="b1",
        counts=Counts(services=2, placeholders=1, interactions=4, mismatches={"error": 1, "warning": 1, "info": 1},
                      deliberate=0, probes={"up": 1, "degraded": 0, "down": 0, "unknown": 0}),
        services=[ServiceRow(name="a", team="commerce", title="Pipe | and\nnew line", lifecycle="production",
                             placeholder=False, health="up", probes=1),
                  ServiceRow(name="ghost", team="", title="", lifecycle="", placeholder=True, health="", probes=0)],
        interactions=interactions,
        findings=[FindingRow(kind="fan-in", severity="warning", services=tuple(f"s{n}" for n in range(9)),
                             message="9 services call b | hot", cites="§3.5")],
        probes=[ProbeRow(service="a", name="health", kind="http", state="up",
                         locations=(LocationState("eu", "up", 12.4, None), LocationState("us", "", None, None)),
                         latency_ms=12.4, uptime_24h=0.9995, uptime_7d=1.0, uptime_30d=None)],
        topology=TopologyDiagram(mermaid='flowchart LR\n    n1["a"]\n', collapsed=False, services=2, note=""),
        flows=[FlowDiagram(kind="saved", name="checkout", title="Checkout", mermaid="sequenceDiagram\n", steps=3),
               FlowDiagram(kind="derived", name="a", title="From a", mermaid="sequenceDiagram\n", steps=1)],
        flows_left_out=0,
        decisions=[DecisionRow(number=7, code="ADR-0007", title="Keep | REST", status="accepted",
                               interactions=("a/err",))],
    )
    return replace(data, **changes)


def section(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_it_writes_every_section_in_order():
    markdown = bundle_markdown(hand_made())
    assert markdown.startswith("# Switchboard report: team commerce\n\n"
                               "Generated 2025-03-04 05:06 UTC with ruleset `b1`.")
    headings = re.findall(r"^## (.+)$", markdown, flags=re.M)
    assert headings == ["Summary", "Services", "Interactions and recommendations", "Findings", "Probes", "Topology",
                        "Flows", "Decisions"]
    assert "- Open mismatches: 1 error, 1 warning, 1 info; 0 settled by a decision" in markdown
    assert markdown.count("```mermaid\n") == 3  # the topology and two flows


def test_it_escapes_pipes_and_new_lines_in_table_cells():
    markdown = bundle_markdown(hand_made())
    assert "| a | commerce | Pipe \\| and<br>new line | production | up |" in markdown
    assert "| ghost | placeholder (not registered) |   |   | not probed |" in markdown
    assert "| ADR-0007 | Keep \\| REST | accepted | a/err |" in markdown
    tables = re.findall(r"(?:^\|.*\|\n)+", markdown, flags=re.M)
    assert len(tables) == 5
    for rows in tables:  # every row has as many cells as its header: no pipe breaks out of its cell
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows.splitlines()}
        assert len(widths) == 1, rows
    assert cell("<script>") == "&lt;script&gt;" and cell("") == " "


def test_it_lists_mismatches_first_and_explains_each_with_its_cites():
    data = hand_made()
    markdown = bundle_markdown(replace(data, interactions=data.interactions[::-1]))  # the order given is kept
    table = section(markdown, "Interactions and recommendations")
    assert "| a/fine | b | pubsub via x.y | pub-sub on kafka | 86% | — |" in table
    explained = re.findall(r"^### (.+)$", table, flags=re.M)
    assert explained == ["c/info: info mismatch", "a/warn: warning mismatch", "a/err: error mismatch"]
    assert "> Declared rest, but pub-sub fits (§4.3). [§4.3]" in table
    assert "- +3 for pub-sub: Others must learn of it (§2.2). [§5.3, §2.2]" in table


def test_it_marks_a_deliberate_deviation():
    settled = interaction_row("a/err", "error", deliberate=True)
    markdown = bundle_markdown(hand_made(interactions=[settled]))
    assert "| error (deliberate) |" in markdown and "the deviation is deliberate" in markdown


def test_it_caps_long_tables_and_says_what_it_left_out_and_where_to_find_it():
    services = [ServiceRow(name=f"s{n:03d}", team="t", title="", lifecycle="production", placeholder=False,
                           health="", probes=0) for n in range(250)]
    errors = [interaction_row(f"s{n:03d}/call", "error") for n in range(130)]
    markdown = bundle_markdown(hand_made(services=services, interactions=errors, flows_left_out=12))
    assert "| s099 |" in markdown and "| s100 |" not in markdown
    assert "_150 more services are left out here: `GET /api/v1/services/` lists them all._" in markdown
    assert "_30 more interactions are left out here: `GET /api/v1/interactions/` lists them all._" in markdown
    assert len(re.findall(r"^### s\d+/call: error mismatch$", markdown, flags=re.M)) == 25
    assert "_105 more mismatches are left out here" in markdown
    assert "_12 more flows derived from entry services are left out here" in markdown


def test_it_says_what_the_collapsed_topology_leaves_out():
    diagram = TopologyDiagram(mermaid="flowchart LR\n", collapsed=True, services=400, note="400 services: teams.")
    topology = section(bundle_markdown(hand_made(topology=diagram)), "Topology")
    assert topology.startswith("\n400 services drawn.\n\n400 services: teams.\n\n```mermaid\nflowchart LR\n```")


def test_it_fences_mermaid_text_longer_than_any_backticks_in_it():
    assert fenced("mermaid", "a\n") == "```mermaid\na\n```"
    assert fenced("mermaid", "title x````y\n") == "`````mermaid\ntitle x````y\n`````"


def test_it_names_the_diagram_files_safely():
    flows = [FlowDiagram(kind="saved", name="checkout", title="", mermaid="s1", steps=1),
             FlowDiagram(kind="derived", name="storefront-web", title="", mermaid="s2", steps=1),
             FlowDiagram(kind="saved", name="Odd / Name", title="", mermaid="s3", steps=1),
             FlowDiagram(kind="saved", name="odd-name", title="", mermaid="s4", steps=1)]
    files = bundle_diagrams(hand_made(flows=flows))
    assert files == {"topology.mmd": 'flowchart LR\n    n1["a"]\n', "flow-checkout.mmd": "s1",
                     "entry-storefront-web.mmd": "s2", "flow-odd-name.mmd": "s3", "flow-odd-name-2.mmd": "s4"}


def test_it_zips_the_report_with_its_diagrams():
    data = hand_made()
    archive = zipfile.ZipFile(io.BytesIO(bundle_zip(data)))
    assert archive.namelist() == ["switchboard-report.md", "diagrams/topology.mmd", "diagrams/flow-checkout.mmd",
                                  "diagrams/entry-a.mmd"]
    assert archive.read("switchboard-report.md").decode() == bundle_markdown(data)
    assert archive.getinfo("diagrams/topology.mmd").date_time == (2025, 3, 4, 5, 6, 0)
    assert bundle_zip(data) == bundle_zip(data)  # the same data, the same bytes


def test_it_builds_the_bundle_without_django():
    code = ("import sys, reports.bundle; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery')]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


def test_it_folds_teams_into_nodes_and_merges_their_links():
    from topology.graph import Link, Node, Topology
    from topology.mermaid import folded_flowchart

    nodes = {name: Node(name=name, team=team, health=health) for name, team, health in [
        ("a1", "a", "down"), ("a2", "a", ""), ("b1", "b", "degraded"), ("b2", "b", ""), ("c1", "c", ""),
        ("ghost", None, "")]}
    links = [Link("a1", "a2", "x", "rest"), Link("a1", "b1", "y", "rest", mismatch="error"),
             Link("a2", "b2", "z", "rest"), Link("b1", "c1", "e", "pubsub", channel="t"),
             Link("c1", "ghost", "q", "")]
    topology = Topology(nodes=nodes, links=links)
    text, hidden = folded_flowchart(topology)
    assert hidden == 0 and text.splitlines() == [
        "flowchart LR", '    g1(["placeholders · 1 service"])', '    g2["a · 2 services · 1 down"]',
        '    g3["b · 2 services · 1 degraded"]', '    g4["c · 1 service"]',
        '    g2 -->|"2 sync, 1 mismatched"| g3', '    g3 -.->|"1 async"| g4', '    g4 -.->|"1 undecided"| g1']
    kept, hidden = folded_flowchart(topology, keep="a", most=1)
    assert hidden == 3 and '["a1"]' in kept and 'n1 -->|"REST"| n2' in kept  # a's own services and calls
    assert kept.count("|") == 4 and '    n1 -->|"1 sync, 1 mismatched"| g2' in kept  # the strongest merged link


# --- report data on the demo ---------------------------------------------------------------------


def test_it_reads_the_whole_demo_system(demo):
    data = report_data(scope=ReportScope())
    assert data.scope.label == "whole system" and data.ruleset_version
    assert data.counts == Counts(services=15, placeholders=1, interactions=12,
                                 mismatches={"error": 1, "warning": 0, "info": 0}, deliberate=0,
                                 probes={"up": 0, "degraded": 0, "down": 0, "unknown": 3})
    assert [row.name for row in data.services] == sorted(row.name for row in data.services)
    assert (data.interactions[0].key, data.interactions[0].mismatch) == ("orders/order-cancelled", "error")
    assert not any(row.mismatch for row in data.interactions[1:])  # screen-payment's default-only "rest" is none
    first = data.interactions[0]
    assert first.targets == ("shipping", "invoicing") and first.pattern == "pub-sub" and first.confidence
    assert "§4.3" in first.mismatch_cites and all(reason.cites for reason in first.reasons)
    assert "§2.2" in first.reasons[1].cites  # cited in the text, beside the rule's own §5.3
    assert [finding.kind for finding in data.findings] == ["chain-availability", "sync-chain", "sync-fan-out"]
    assert data.topology.mermaid.startswith("flowchart LR") and not data.topology.collapsed
    assert [flow.title for flow in data.flows] == ["From accounts", "From client", "From storefront-web"]
    assert data.flows_left_out == 0 and data.decisions == []


def test_it_reads_one_team_and_the_interactions_touching_it(demo):
    register(service_doc("billing-bot", team="identity", interactions=[rest("charge", "payment")]))
    data = report_data(scope=ReportScope(kind="team", team="commerce"))
    assert {row.team for row in data.services} == {"commerce"} and data.counts.services == len(data.services) == 9
    keys = {row.key for row in data.interactions}
    assert "billing-bot/charge" in keys and "accounts/user-registered" not in keys  # a caller from another team
    assert len(keys) == data.counts.interactions == 10
    assert data.topology.services == 11 and "billing-bot" in data.topology.mermaid  # and its direct neighbours
    identity = report_data(scope=ReportScope(kind="team", team="identity"))
    assert {row.key for row in identity.interactions} == {"accounts/user-registered", "billing-bot/charge"}
    assert [flow.title for flow in identity.flows] == ["From accounts", "From billing-bot"]


def test_it_reads_one_service_and_its_neighbourhood(demo):
    near = report_data(scope=ReportScope(kind="service", service="payment", hops=1))
    assert [row.name for row in near.services] == ["fraud-screening", "orders", "payment"]
    assert {row.key for row in near.interactions} == {"orders/authorize-payment", "payment/screen-payment"}
    assert [flow.title for flow in near.flows] == []  # no entry service within one hop
    far = report_data(scope=ReportScope(kind="service", service="payment", hops=2))
    assert len(far.services) > 3 and [flow.title for flow in far.flows] == ["From storefront-web"]


def test_it_reads_flows_decisions_and_probes_in_scope(demo):
    from decisions.choices import DecisionKind, DecisionStatus
    from decisions.services import decision_create
    from probes.models import Probe, ProbeRollup, ProbeStatus
    from tests.test_browser_diagrams import saved_flow
    from topology.models import Interaction, Team

    saved_flow()
    cancelled = Interaction.objects.get(source__name="orders", name="order-cancelled")
    decision_create(actor=actor_for_cli(), title="Cancel | synchronously", kind=DecisionKind.OVERRIDE,
                    status=DecisionStatus.ACCEPTED, chosen_style="rest", justification="Shipping must stop now.",
                    team=Team.objects.get(slug="commerce"), interactions=[cancelled])
    probe = Probe.objects.get(service__name="storefront-web")
    now = django_timezone.now()
    ProbeStatus.objects.filter(probe=probe).update(outcome="degraded", latency_ms=812.0, checked_at=now)
    ProbeRollup.objects.create(series=ProbeStatus.objects.get(probe=probe, location="default"), period="m",
                               bucket=now - timedelta(hours=1), count=20, down=1, degraded=3, latency_p50=90, latency_p95=800, last_outcome="up")

    data = report_data(scope=ReportScope(kind="team", team="commerce"))
    assert data.flows[0].kind == "saved" and data.flows[0].name == "checkout" and data.flows[0].steps == 5
    assert [(row.code, row.status, row.interactions) for row in data.decisions] == [
        ("ADR-0001", "accepted", ("orders/order-cancelled",))]
    settled = next(row for row in data.interactions if row.key == "orders/order-cancelled")
    assert settled.deliberate and data.counts.deliberate == 1 and data.counts.mismatches["error"] == 0
    assert not any(row.mismatch and not row.deliberate for row in data.interactions)  # nothing open is left
    row = next(row for row in data.probes if row.service == "storefront-web")
    assert (row.state, row.latency_ms, row.uptime_24h, row.uptime_30d) == ("degraded", 812.0, 0.95, 0.95)
    assert row.locations[0].state == "degraded" and data.counts.probes["degraded"] == 1
    assert "| storefront-web/health | http | degraded | default: degraded | 812 ms | 95% | 95% | 95% |" in (
        bundle_markdown(data))
    identity = report_data(scope=ReportScope(kind="team", team="identity"))
    assert identity.decisions == [] and [flow.kind for flow in identity.flows] == ["derived"]


def generated_system(size: int, first: int = 0) -> None:
    """`size` services in three teams, each calling the next, with a probe each."""
    probe = {"name": "health", "type": "http", "target": "http://127.0.0.1:8000/healthz", "interval": "30s"}
    register(*[service_doc(f"gen-{n:03d}", team=("commerce", "identity", "platform")[n % 3], probes=[probe],
                           interactions=[rest("next", f"gen-{n + 1:03d}")] if n + 1 < first + size else [])
               for n in range(first, first + size)])


def queries_of(scope: ReportScope) -> int:
    from topology import graph_selectors

    graph_selectors._current.clear()  # cold: the topology and its findings are read again
    graph_selectors._findings.clear()
    with CaptureQueriesContext(connection) as captured:
        report_data(scope=scope)
    return len(captured.captured_queries)


def test_it_reads_as_many_queries_however_large_the_system(demo):
    from decisions.choices import DecisionStatus
    from decisions.services import decision_create
    from tests.test_browser_diagrams import saved_flow
    from topology.models import Interaction

    saved_flow()
    decision_create(actor=actor_for_cli(), title="Keep", status=DecisionStatus.ACCEPTED,
                    interactions=list(Interaction.objects.all()[:3]))
    generated_system(6)
    scopes = [ReportScope(), ReportScope(kind="team", team="commerce"),
              ReportScope(kind="service", service="gen-002", hops=3)]
    small = [queries_of(scope) for scope in scopes]
    generated_system(60, first=6)
    assert [queries_of(scope) for scope in scopes] == small
    assert max(small) <= 25


def test_it_folds_a_large_topology_as_the_drawing_does_and_says_so(demo):
    generated_system(160)
    data = report_data(scope=ReportScope())
    assert data.topology.collapsed and data.topology.services == 176
    assert data.topology.mermaid.startswith("flowchart LR\n") and "gen-001" not in data.topology.mermaid
    assert '    g2["commerce · 63 services"]' in data.topology.mermaid
    assert '    g2 -->|"53 sync"| g3' in data.topology.mermaid  # each gen calls the next, of the next team
    assert data.topology.note.startswith("176 services, more than 150: each team is drawn as one node")
    markdown = bundle_markdown(data)
    assert data.topology.note in markdown and "_76 more services are left out here" in markdown
    team = report_data(scope=ReportScope(kind="team", team="platform")).topology
    assert team.collapsed and "but platform, whose services are drawn one by one" in team.note
    assert '["gen-002"]' in team.mermaid and '["gen-001"]' not in team.mermaid
    assert re.search(r'n\d+ -->\|"1 sync"\| g\d+', team.mermaid)  # a platform service calls a folded team
    service = report_data(scope=ReportScope(kind="service", service="gen-002", hops=1)).topology
    assert not service.collapsed and service.services == 3


def test_it_caps_the_derived_flows_and_counts_those_left_out(demo, monkeypatch):
    from reports import selectors

    monkeypatch.setattr(selectors, "DERIVED_FLOWS_MAX", 1)
    data = report_data(scope=ReportScope())
    assert [flow.title for flow in data.flows] == ["From accounts"] and data.flows_left_out == 2
    assert "_2 more flows derived from entry services are left out here" in bundle_markdown(data)


# --- API -----------------------------------------------------------------------------------------


def test_it_downloads_the_markdown_report(admin):
    response = admin.get(REPORT_URL, HTTP_ACCEPT="text/markdown")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="switchboard-report.md"'
    assert response.content.decode().startswith("# Switchboard report: whole system\n")


def test_it_downloads_a_team_report_with_a_token(demo):
    from topology.models import Team
    from topology.services import token_create

    client = APIClient()
    token = token_create(actor=actor_for_cli(), team=Team.objects.get(slug="identity"), name="ci")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(REPORT_URL, {"team": "commerce"})
    assert response.status_code == 200
    assert response.content.decode().startswith("# Switchboard report: team commerce\n")


def test_it_downloads_the_zip(admin):
    response = admin.get(ZIP_URL, {"service": "orders", "hops": "2"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="switchboard-report.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["switchboard-report.md", "diagrams/topology.mmd",
                                  "diagrams/entry-storefront-web.mmd"]
    assert archive.read("switchboard-report.md").decode().startswith(
        "# Switchboard report: orders and neighbours within 2 hops\n")


@pytest.mark.parametrize("url, accept", [(REPORT_URL, "text/markdown"), (ZIP_URL, "application/zip")])
@pytest.mark.parametrize("params, pointer", [
    ({"team": "nope"}, "team"), ({"service": "nope"}, "service"), ({"team": "commerce", "service": "orders"}, "team"),
    ({"service": "orders", "hops": "99"}, "hops"),
])
def test_it_refuses_a_bad_scope_naming_the_parameter(admin, url, accept, params, pointer):
    response = admin.get(url, params, HTTP_ACCEPT=accept)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    assert pointer in [error["pointer"] for error in response.json()["errors"]]


@pytest.mark.parametrize("url", [REPORT_URL, ZIP_URL])
def test_it_asks_for_authentication(demo, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Bearer not-a-token").get(url).status_code == 401


def test_it_folds_a_flowchart_with_more_lines_than_mermaid_draws():
    from reports.selectors import _diagram
    from topology import mermaid
    from topology.graph import Link, Node, Topology

    names = [f"s{index:03}" for index in range(100)]
    nodes = {name: Node(name=name, team=f"team-{index % 4}") for index, name in enumerate(names)}
    links = [Link(source=a, target=b, interaction=f"to-{b}", style="rest")
             for index, a in enumerate(names) for b in names[index + 1:index + 7]]
    small = _diagram(Topology(nodes=nodes, links=links[:400]), ReportScope())
    large = _diagram(Topology(nodes=nodes, links=links), ReportScope())
    assert not small.collapsed and mermaid.edge_count(small.mermaid) == 400
    assert large.collapsed and mermaid.edge_count(large.mermaid) <= mermaid.EDGES_MAX
    assert large.note.startswith(f"{len(links)} lines, more than Mermaid draws (500): each team is drawn as one node")
