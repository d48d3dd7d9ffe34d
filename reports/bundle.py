"""The Mermaid bundle of a report: one Markdown document (tables, the topology as a Mermaid flowchart,
each flow as a sequence diagram) and the same diagrams as .mmd files, zipped. Pure: plain data
(reports.selectors.ReportData) in, text and bytes out; no Django, no models.

Large systems stay readable: each table lists at most so many rows and says how many it left out and
where the API lists them all.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .selectors import DecisionRow, FindingRow, FlowDiagram, InteractionRow, ProbeRow, ReportData, ServiceRow

MARKDOWN_NAME = "switchboard-report.md"
TABLE_ROWS = 100  # rows per table at most
MISMATCH_SECTIONS = 25  # mismatches explained one by one at most
FINDING_NAMES = 6  # services named in a finding's row at most
SAFE_NAME = re.compile(r"[^a-z0-9._-]+")
PROBE_STATES = {"unknown": "not run yet"}
CELL = str.maketrans({"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;"})


def bundle_markdown(data: ReportData) -> str:
    """The report as one Markdown document."""
    parts = [_title(data), _summary(data), _services(data), _interactions(data), _findings(data), _probes(data),
             _topology(data), _flows(data), _decisions(data)]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def bundle_diagrams(data: ReportData) -> dict[str, str]:
    """file name -> Mermaid text: topology.mmd, flow-<slug>.mmd for saved flows, entry-<service>.mmd."""
    files = {"topology.mmd": data.topology.mermaid}
    for flow in data.flows:
        name = _unique(files, f"{'flow' if flow.kind == 'saved' else 'entry'}-{_safe(flow.name)}")
        files[name] = flow.mermaid
    return files


def bundle_zip(data: ReportData) -> bytes:
    """switchboard-report.md and diagrams/*.mmd in one zip (stamped with the report's time)."""
    stamp = max(data.generated_at.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    files = {MARKDOWN_NAME: bundle_markdown(data)}
    files |= {f"diagrams/{name}": text for name, text in bundle_diagrams(data).items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), text.encode(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- text helpers --------------------------------------------------------------------------------


def cell(value: object) -> str:
    """Text that stays in its table cell: backslashes and pipes escaped (a backslash before a pipe
    would otherwise escape the escape and end the cell), no raw HTML, line breaks as <br>."""
    text = str(value).translate(CELL).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<br>") or " "


def line(value: object) -> str:
    """Text for a heading or a list item: one line, no raw HTML."""
    return " ".join(str(value).split()).replace("<", "&lt;").replace(">", "&gt;")


def fenced(language: str, body: str) -> str:
    """A code block whose fence is longer than any run of backticks in the body."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body.rstrip(chr(10))}\n{fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def capped(items: list, headers: Sequence[str], row: Callable[[object], Sequence[object]], *, what: str,
           where: str, limit: int = TABLE_ROWS) -> str:
    """A table of the first `limit` items, and a line saying how many were left out and which API
    path (`where`) lists them all."""
    text = table(headers, [row(item) for item in items[:limit]])
    if len(items) <= limit:
        return text
    return f"{text}\n\n{_left_out(len(items) - limit, what, f'`GET {where}` lists them all')}"


def _left_out(count: int, what: str, how: str) -> str:
    return f"_{count} more {what} are left out here: {how}._"


def _safe(name: str) -> str:
    return SAFE_NAME.sub("-", name.lower()).strip("-.") or "unnamed"


def _unique(files: dict[str, str], stem: str) -> str:
    name, number = f"{stem}.mmd", 1
    while name in files:
        number += 1
        name = f"{stem}-{number}.mmd"
    return name


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _plural(count: int, word: str, many: str = "") -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


# --- sections ------------------------------------------------------------------------------------


def _title(data: ReportData) -> str:
    when = data.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return (f"# Switchboard report: {line(data.scope.label)}\n\n"
            f"Generated {when} with ruleset `{data.ruleset_version}`.")


def _summary(data: ReportData) -> str:
    counts = data.counts
    mismatches = ", ".join(_plural(count, severity, severity if severity == "info" else "")
                           for severity, count in counts.mismatches.items())
    probes = ", ".join(f"{count} {PROBE_STATES.get(state, state)}" for state, count in counts.probes.items())
    derived = sum(flow.kind == "derived" for flow in data.flows)
    items = [
        f"{_plural(counts.services, 'service')}, {_plural(counts.placeholders, 'placeholder')}, "
        f"{_plural(counts.interactions, 'interaction')}",
        f"Open mismatches: {mismatches}; {counts.deliberate} settled by a decision",
        f"{_plural(len(data.findings), 'topology finding')}",
        f"Probes: {probes}",
        f"Flows: {len(data.flows) - derived} saved, {derived} derived from entry services",
        f"{_plural(len(data.decisions), 'linked decision')}",
    ]
    return "## Summary\n\n" + "\n".join(f"- {item}" for item in items)


def _services(data: ReportData) -> str:
    body = capped(data.services, ["Service", "Team", "Title", "Lifecycle", "Health"], _service_row,
                  what="services", where="/api/v1/services/")
    return f"## Services\n\n{body if data.services else '_No services in this scope._'}"


def _service_row(row: ServiceRow) -> list[str]:
    team = "placeholder (not registered)" if row.placeholder else row.team
    health = row.health or ("not run yet" if row.probes else "not probed")
    return [row.name, team, row.title, row.lifecycle, health]


def _interactions(data: ReportData) -> str:
    if not data.interactions:
        return "## Interactions and recommendations\n\n_No interactions in this scope._"
    body = capped(data.interactions, ["Interaction", "Targets", "Declared", "Recommended", "Confidence", "Mismatch"],
                  _interaction_row, what="interactions", where="/api/v1/interactions/")
    mismatched = [row for row in data.interactions if row.mismatch]
    return "\n\n".join(["## Interactions and recommendations", body, *_mismatch_sections(mismatched)])


def _interaction_row(row: InteractionRow) -> list[str]:
    confidence = "—" if row.confidence is None else f"{row.confidence:.0%}"
    return [row.key, ", ".join(row.targets), _declared(row), _recommended(row), confidence, _mismatch(row)]


def _declared(row: InteractionRow) -> str:
    via = f" via {row.channel}" if row.channel else ""
    return f"{row.style or 'undecided'}{via}{f' on {row.broker}' if row.broker else ''}"


def _recommended(row: InteractionRow) -> str:
    if not row.pattern:
        return "not evaluated"
    over = f" over {row.protocol}" if row.protocol else ""
    return f"{row.pattern}{over}{f' on {row.recommended_broker}' if row.recommended_broker else ''}"


def _mismatch(row: InteractionRow) -> str:
    if not row.mismatch:
        return "—"
    return f"{row.mismatch} (deliberate)" if row.deliberate else f"**{row.mismatch}**"


def _mismatch_sections(rows: list[InteractionRow]) -> list[str]:
    sections = [_mismatch_section(row) for row in rows[:MISMATCH_SECTIONS]]
    if len(rows) > MISMATCH_SECTIONS:
        sections.append(_left_out(len(rows) - MISMATCH_SECTIONS, "mismatches",
                                  "`GET /api/v1/interactions/` lists each with its recommendation and reasons"))
    return sections


def _mismatch_section(row: InteractionRow) -> str:
    settled = " An accepted decision settles it: the deviation is deliberate." if row.deliberate else ""
    lines = [f"### {line(row.key)}: {row.mismatch} mismatch", "",
             f"Declared {line(_declared(row))}; recommended {line(_recommended(row))}.{settled}", "",
             f"> {line(row.mismatch_message)}" + _cited(row.mismatch_cites), "", "Reasons:", ""]
    lines += [f"- {reason.effect:+g} for {line(reason.supports)}: {line(reason.text)}{_cited(reason.cites)}"
              for reason in row.reasons]
    return "\n".join(lines)


def _cited(cites: Sequence[str]) -> str:
    return f" [{', '.join(cites)}]" if cites else ""


def _findings(data: ReportData) -> str:
    if not data.findings:
        return "## Findings\n\n_No topology findings involve this scope._"
    body = capped(data.findings, ["Severity", "Kind", "Services", "Finding", "Criterion"], _finding_row,
                  what="findings", where="/api/v1/topology/findings/")
    return f"## Findings\n\n{body}"


def _finding_row(row: FindingRow) -> list[str]:
    names = list(row.services[:FINDING_NAMES])
    if len(row.services) > FINDING_NAMES:
        names.append(f"and {len(row.services) - FINDING_NAMES} more")
    return [row.severity, row.kind, ", ".join(names), row.message, row.cites]


def _probes(data: ReportData) -> str:
    if not data.probes:
        return "## Probes\n\n_No probes on the services in this scope._"
    body = capped(data.probes, ["Probe", "Kind", "State", "Locations", "Last latency", "Uptime 24 h", "7 days",
                                "30 days"], _probe_row, what="probes", where="/api/v1/probes/")
    return f"## Probes\n\n{body}"


def _probe_row(row: ProbeRow) -> list[str]:
    locations = ", ".join(f"{state.location}: {state.state or 'not run yet'}" for state in row.locations)
    latency = "—" if row.latency_ms is None else f"{row.latency_ms:.0f} ms"
    return [f"{row.service}/{row.name}", row.kind, row.state or "not run yet", locations or "—", latency,
            _percent(row.uptime_24h), _percent(row.uptime_7d), _percent(row.uptime_30d)]


def _topology(data: ReportData) -> str:
    diagram = data.topology
    note = f"{line(diagram.note)}\n\n" if diagram.note else ""
    shown = f"{_plural(diagram.services, 'service')} drawn"
    return f"## Topology\n\n{shown}.\n\n{note}{fenced('mermaid', diagram.mermaid)}"


def _flows(data: ReportData) -> str:
    parts = ["## Flows"] + [_flow(flow) for flow in data.flows]
    if not data.flows:
        parts.append("_No saved flow touches this scope, and no entry service in it calls out._")
    if data.flows_left_out:
        parts.append(_left_out(data.flows_left_out, "flows derived from entry services",
                               "`GET /api/v1/diagrams/sequence/?entry=<service>` draws any of them"))
    return "\n\n".join(parts)


def _flow(flow: FlowDiagram) -> str:
    kind = f"saved flow `{flow.name}`" if flow.kind == "saved" else f"derived from entry service `{flow.name}`"
    return f"### {line(flow.title)}\n\n{_plural(flow.steps, 'step')}, {kind}.\n\n{fenced('mermaid', flow.mermaid)}"


def _decisions(data: ReportData) -> str:
    if not data.decisions:
        return "## Decisions\n\n_No decision records are linked to the interactions in this scope._"
    body = capped(data.decisions, ["Decision", "Title", "Status", "Interactions"], _decision_row,
                  what="decisions", where="/api/v1/decisions/")
    return f"## Decisions\n\n{body}"


def _decision_row(row: DecisionRow) -> list[str]:
    return [row.code, row.title, row.status, ", ".join(row.interactions)]
