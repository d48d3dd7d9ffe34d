"""Chart figures for the pages, built with plotly as plain data (no ORM, no request).

Each builder takes data a selector already computed and returns the figure as JSON text; the page
puts it in a json_script element and static/js/charts.js draws it with the vendored plotly.js.
"""
import plotly.graph_objects as go

from core.charts import FONT, GRID, MUTED, TEXT
from topology.graph import SYNC_LABELS

# The site's colours (static/css/app.css): sync blue, async violet, neutral grey.
COLOURS = {
    "request-response": "#5b8ad8",
    "hybrid": "#7f8be0",
    "pub-sub": "#9a74d4",
    "queue": "#c3a9ec",
    "not evaluated": "#c8cdd4",
}
DECLARED_ORDER = ("rest", "grpc", "pubsub", "queue", "undecided")
DECLARED_LABELS = {**SYNC_LABELS, "pubsub": "pub/sub"}  # the other declared styles are shown as they are
PATTERN_ORDER = ("request-response", "hybrid", "pub-sub", "queue", "not evaluated")
AGREES = {"rest": ("request-response",), "grpc": ("request-response",), "pubsub": ("pub-sub",), "queue": ("queue",)}
ROW_HEIGHT = 38


def _ordered(keys, order) -> list[str]:
    return [key for key in order if key in keys] + sorted(key for key in keys if key not in order)


def _verdict(declared: str, pattern: str) -> str:
    if pattern == "not evaluated":
        return "not evaluated yet"
    if declared == "undecided":
        return "no style declared yet"
    if pattern == "hybrid" and declared in ("rest", "grpc"):
        return "agrees, plus an event for the others"
    return "agrees" if pattern in AGREES.get(declared, ()) else "differs"


def declared_vs_recommended(matrix: dict) -> str:
    """Stacked horizontal bars: one per declared style, split by the pattern the rules recommend.

    matrix: {declared style or "undecided": {recommended pattern or "not evaluated": count}}.
    """
    declared = _ordered({key for key, row in matrix.items() if any(row.values())}, DECLARED_ORDER)
    patterns = _ordered({pattern for row in matrix.values() for pattern, n in row.items() if n}, PATTERN_ORDER)
    labels = [DECLARED_LABELS.get(key, key) for key in declared]
    figure = go.Figure()
    for pattern in patterns:
        counts = [matrix.get(key, {}).get(pattern, 0) for key in declared]
        figure.add_trace(go.Bar(
            name=pattern, y=labels, x=counts, orientation="h",
            marker={"color": COLOURS.get(pattern, "#8d96a2"), "line": {"color": "#ffffff", "width": 1}},
            text=[str(n) if n else "" for n in counts], textposition="inside", insidetextanchor="middle",
            textfont={"color": "#ffffff" if pattern in ("request-response", "hybrid", "pub-sub") else TEXT, "size": 12},
            customdata=[_verdict(key, pattern) for key in declared],
            hovertemplate="Declared %{y}, recommended " + pattern + ": %{x}<br>%{customdata}<extra></extra>",
        ))
    figure.update_layout(
        template="none", barmode="stack", bargap=0.35,
        height=90 + ROW_HEIGHT * max(len(declared), 1),
        margin={"l": 84, "r": 16, "t": 8, "b": 36},
        font={"family": FONT, "size": 12, "color": TEXT},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top", "traceorder": "normal",
                "title": {"text": "Recommended:", "font": {"color": MUTED, "size": 12}}, "font": {"size": 12}},
        xaxis={"title": {"text": ""}, "gridcolor": GRID, "zeroline": False, "tickformat": "d", "rangemode": "tozero",
               "fixedrange": True, "tickfont": {"color": MUTED}},
        yaxis={"autorange": "reversed", "fixedrange": True, "ticksuffix": "  ", "tickfont": {"size": 12.5}},
        hoverlabel={"font": {"family": FONT, "size": 12}, "bgcolor": "#ffffff", "bordercolor": GRID},
    )
    if not declared:
        figure.add_annotation(text="No interactions yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                              font={"color": MUTED, "size": 13})
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False)
    return figure.to_json()
