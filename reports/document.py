"""The report as one HTML page, on screen (/reports/preview/) and printed to PDF by the render task:
built from report_data, with the topology drawn by Graphviz (the drawing the topology page shows),
the flows as Mermaid text and the probe charts as Plotly figures that static/js/report.js draws."""
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.templatetags.static import static

from probes.charts import latency_figure
from probes.models import Probe
from probes.selectors import probe_latency_series
from topology.graph_selectors import topology_current
from topology.render import RenderError, svg_inline, view_drawing
from topology.rendering import Urls

from .decision_records import decision_records
from .models import Report
from .scopes import ReportScope, scope_view
from .selectors import ProbeRow, ReportData

CHARTED_PROBES = 8  # latency charts: the probes in the worst state first
TABLE_ROWS = 300  # rows of the services and recommendation tables; the Markdown export and the API have all
EXPLAINED = 40  # mismatches explained one by one, worst first
STATE_RANK = {"down": 0, "degraded": 1, "up": 2, "": 3}
ASSETS = {"css": "css/report.css", "mermaid": "vendor/mermaid/mermaid.min.js",
          "plotly": "vendor/plotly/plotly.min.js", "script": "js/report.js"}
CHAPTERS = (("summary", "Summary"), ("topology", "Topology"), ("findings", "Findings"),
            ("recommendations", "Recommendations"), ("flows", "Flows"), ("probes", "Probes"),
            ("decisions", "Decisions"))


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    figure: str  # plotly figure JSON


def report_html(*, report: Report | None, data: ReportData, for_print: bool, requested_by: str = "") -> str:
    """The page: file:// assets when printed (Chromium reads them from disk), static URLs on screen."""
    return render_to_string("reports/report.html", {
        "data": data, "report": report, "requested_by": report.requested_by if report else requested_by,
        "assets": _assets(for_print), "topology_svg": _topology_svg(data.scope), "charts": _charts(data.probes),
        "records": decision_records(numbers=[row.number for row in data.decisions]), "chapters": CHAPTERS,
        "for_print": for_print, **_shown(data),
    })


def _shown(data: ReportData) -> dict:
    """What the tables show of a large scope, and how much they leave out."""
    mismatched = [row for row in data.interactions if row.mismatch]
    return {"services": data.services[:TABLE_ROWS], "services_left": max(0, len(data.services) - TABLE_ROWS),
            "interactions": data.interactions[:TABLE_ROWS],
            "interactions_left": max(0, len(data.interactions) - TABLE_ROWS),
            "explained": mismatched[:EXPLAINED], "explained_left": max(0, len(mismatched) - EXPLAINED)}


def _assets(for_print: bool) -> dict[str, str]:
    if not for_print:
        return {name: static(path) for name, path in ASSETS.items()}
    root = Path(settings.BASE_DIR) / "static"
    return {name: (root / path).as_uri() for name, path in ASSETS.items()}


def _topology_svg(scope: ReportScope) -> str:
    """Graphviz's SVG of the scope, inline, without the XML prolog; "" when it cannot be drawn."""
    stamp, topology = topology_current()
    try:
        return svg_inline(view_drawing(stamp, scope_view(scope), "svg", Urls(), topology))
    except RenderError:
        return ""


def _charts(rows: list[ProbeRow]) -> list[Chart]:
    """Latency over the last 24 h of the probes in the worst state (at most CHARTED_PROBES)."""
    chosen = sorted(rows, key=lambda row: (STATE_RANK.get(row.state, 3), row.service, row.name))[:CHARTED_PROBES]
    place = {(row.service, row.name): index for index, row in enumerate(chosen)}
    found = Probe.objects.select_related("service").filter(service__name__in={service for service, _ in place})
    probes = sorted((p for p in found if (p.service.name, p.name) in place), key=lambda p: place[p.service.name, p.name])
    return [Chart(id=f"latency-{probe.pk}", title=f"{probe.service.name}/{probe.name}",
                  figure=latency_figure(probe_latency_series(probe=probe))) for probe in probes]
