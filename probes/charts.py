"""Probe chart figures with plotly, as JSON text (no ORM): latency over time and an uptime heatmap."""
import plotly.graph_objects as go

from core.charts import FONT, GRID, MUTED, TEXT

LOCATION_COLOURS = ("#5b8ad8", "#d8875b", "#5bb08a", "#9a74d4", "#c25b8a", "#8a9a5b", "#5bb0c2", "#b0a05b")
UPTIME_SCALE = [[0.0, "#c0392b"], [0.9, "#e6a23c"], [0.99, "#b5d99c"], [1.0, "#2e9d5b"]]


def _layout(figure: go.Figure, *, height: int, left: int = 56, **axes) -> None:
    figure.update_layout(
        template="none", height=height, margin={"l": left, "r": 16, "t": 8, "b": 40},
        font={"family": FONT, "size": 12, "color": TEXT},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        hoverlabel={"font": {"family": FONT, "size": 12}, "bgcolor": "#ffffff", "bordercolor": GRID},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, **axes)


def _empty(figure: go.Figure, text: str) -> None:
    figure.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                          font={"color": MUTED, "size": 13})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)


def _translucent(colour: str, alpha: float = 0.2) -> str:
    red, green, blue = (int(colour[index:index + 2], 16) for index in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def latency_figure(series: dict[str, list]) -> str:
    """series: {location: [(time, p50, p95), ...]} -> p50 lines with a p95 band per location."""
    figure = go.Figure()
    for index, (location, points) in enumerate(sorted(series.items())):
        colour = LOCATION_COLOURS[index % len(LOCATION_COLOURS)]
        times = [point[0] for point in points]
        figure.add_trace(go.Scatter(x=times, y=[point[2] for point in points], mode="lines", line={"width": 0},
                                    name=f"{location} p95", showlegend=False, hoverinfo="skip"))
        figure.add_trace(go.Scatter(x=times, y=[point[1] for point in points], mode="lines", name=location,
                                    line={"color": colour, "width": 1.6}, fill="tonexty",
                                    fillcolor=_translucent(colour), customdata=[point[2] for point in points],
                                    hovertemplate="%{x}<br>p50 %{y:.1f} ms · p95 %{customdata:.1f} ms"
                                                  f"<extra>{location}</extra>"))
    _layout(figure, height=260, xaxis={"gridcolor": GRID, "tickfont": {"color": MUTED}},
            yaxis={"title": {"text": "ms"}, "gridcolor": GRID, "rangemode": "tozero", "tickfont": {"color": MUTED}})
    if not series:
        _empty(figure, "No runs yet")
    return figure.to_json()


def uptime_heatmap(data: dict) -> str:
    """data: {"days": [date], "grid": [[uptime or None] * 24]} -> days down, hours across."""
    figure = go.Figure(go.Heatmap(
        z=[[None if cell is None else round(cell * 100, 2) for cell in row] for row in data["grid"]],
        x=[f"{hour:02d}:00" for hour in range(24)], y=[day.isoformat() for day in data["days"]],
        zmin=0, zmax=100, colorscale=UPTIME_SCALE, xgap=1, ygap=1,
        colorbar={"title": {"text": "%"}, "thickness": 10},
        hovertemplate="%{y} %{x} UTC<br>uptime %{z}%<extra></extra>",
    ))
    empty = not any(cell is not None for row in data["grid"] for cell in row)
    _layout(figure, height=140 if empty else 120 + 12 * len(data["days"]), left=84, xaxis={"fixedrange": True, "tickfont": {"color": MUTED}},
            yaxis={"type": "category", "autorange": "reversed", "fixedrange": True,
                   "tickfont": {"color": MUTED, "size": 10}})
    if empty:
        _empty(figure, "No hourly rollups yet: the first appears after a full hour of runs")
    return figure.to_json()
