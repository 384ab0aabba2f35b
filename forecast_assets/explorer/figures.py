"""The explorer's plotly figures: a day's fan chart, coverage by horizon, PIT histograms per step."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import hex_to_rgb
from plotly.subplots import make_subplots

from forecast_assets.explorer.queries import Day, sample_paths

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
_TEMPLATE = pio.templates["plotly_white"].to_plotly_json()  # resolved once, not per figure
BANDS = ((95, "lower_95", "upper_95", 0.12), (80, "lower_80", "upper_80", 0.2), (50, "lower_50", "upper_50", 0.3))


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(hex_color)
    return f"rgba({r},{g},{b},{alpha})"


def model_colors(models) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(models))}


def empty() -> dict:
    """A figure with nothing to show (no day picked yet, or none stored)."""
    return {"data": [], "layout": {"template": _TEMPLATE, "xaxis": {"visible": False}, "yaxis": {"visible": False}}}


def fan_chart(day: Day, horizon: int) -> dict:
    """History before the cutoff, then per model its 95/80/50% bands, median and a few sample paths over
    the steps' sessions, and the realized closes. Every number is a stored one (bands and median from
    point_forecasts, paths from distributions, realized from actual_close); each trace's `meta` names
    what it shows so a reader (and the browser test) can tell them apart.

    A plotly figure as its JSON form (a dict dcc.Graph takes as is), not a go.Figure: the page is built
    on every pick, and validating some forty traces through plotly's Python classes took longer than
    reading them (~200 ms of a ~400 ms page); the browser test checks what plotly.js drew.
    """
    traces: list[dict] = []
    if len(day.history):
        traces.append(dict(type="scatter", x=_dates(day.history.index), y=day.history.tolist(), mode="lines",
                           name="close before cutoff", line=dict(color="black", width=1.4), meta={"kind": "history"}))
    colors = model_colors(day.models)
    for model, pts in day.points.groupby("model_name"):
        if not pts["model_success"].all():
            continue  # a failed day has no numbers to draw; the table says why
        pts = pts.sort_values("day_ahead")
        x, c = _dates(pts["forecast_date"]), colors[model]
        for level, lo, hi, alpha in BANDS:
            traces.append(dict(type="scatter", x=x, y=pts[lo].tolist(), mode="lines", line=dict(width=0),
                               showlegend=False, hoverinfo="skip", legendgroup=model,
                               meta={"kind": f"lower_{level}", "model": model}))
            traces.append(dict(type="scatter", x=x, y=pts[hi].tolist(), mode="lines", line=dict(width=0),
                               fill="tonexty", fillcolor=_rgba(c, alpha), name=f"{model} {level}%",
                               legendgroup=model, meta={"kind": f"upper_{level}", "model": model}))
        for i, path in enumerate(sample_paths(day, model, horizon)):
            traces.append(dict(type="scatter", x=x, y=path, mode="lines", line=dict(color=c, width=0.7),
                               opacity=0.6, name=f"{model} sample paths", legendgroup=model, showlegend=i == 0,
                               meta={"kind": "path", "model": model}))
        traces.append(dict(type="scatter", x=x, y=pts["forecast_median"].tolist(), mode="lines+markers",
                           name=f"{model} median", line=dict(color=c, width=2), marker=dict(size=4),
                           legendgroup=model, meta={"kind": "median", "model": model}))
    realized = day.points.dropna(subset=["actual_close"]).drop_duplicates("day_ahead").sort_values("day_ahead")
    if len(realized):
        traces.append(dict(type="scatter", x=_dates(realized["forecast_date"]), y=realized["actual_close"].tolist(),
                           mode="lines+markers", name="realized", line=dict(color="#d62728", width=2),
                           marker=dict(size=6), meta={"kind": "realized"}))
    layout = dict(title=dict(text=f"{day.commodity}: forecast of {day.day} ({day.model_version})"),
                  hovermode="x unified", margin=dict(l=50, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.15),
                  yaxis=dict(title=dict(text="price")),
                  template=_TEMPLATE)
    return {"data": traces, "layout": layout}


def _dates(values) -> list[str]:
    return [d.isoformat() for d in pd.to_datetime(pd.Series(values)).dt.date]


def coverage_figure(perf: pd.DataFrame) -> go.Figure:
    """Share of realized closes inside the 50/80/95% bands per horizon, one line per model and version,
    the nominal level dashed (model_performance's coverage_*)."""
    bands = [b for b in (50, 80, 95) if f"coverage_{b}" in perf and perf[f"coverage_{b}"].notna().any()]
    fig = make_subplots(rows=1, cols=max(len(bands), 1), subplot_titles=[f"{b}% band" for b in bands],
                        shared_yaxes=False)
    colors = model_colors(perf["model_name"].unique()) if len(perf) else {}
    for j, b in enumerate(bands, start=1):
        for (m, v), g in perf.groupby(["model_name", "model_version"]):
            g = g.sort_values("horizon")
            fig.add_trace(go.Scatter(x=g["horizon"], y=100 * g[f"coverage_{b}"], mode="lines+markers",
                                     name=f"{m} {v}", legendgroup=f"{m} {v}", showlegend=j == 1,
                                     line=dict(color=colors[m])), row=1, col=j)
        fig.add_hline(y=b, line_dash="dash", line_color="black", row=1, col=j)
        fig.update_xaxes(title_text="steps ahead", row=1, col=j)
    fig.update_yaxes(title_text="% of realized closes inside", row=1, col=1)
    fig.update_layout(title="Coverage by horizon (dashed: nominal)", template="plotly_white",
                      margin=dict(l=50, r=20, t=70, b=40))
    return fig


def pit_figure(pit: pd.DataFrame, steps) -> go.Figure:
    """PIT histograms per step (columns), models overlaid: flat at 1 when calibrated, U-shaped when the
    bands are too narrow, a hump when too wide."""
    steps = sorted(set(steps))
    fig = make_subplots(rows=1, cols=len(steps), subplot_titles=[f"step {h}" for h in steps], shared_yaxes=True)
    colors = model_colors(pit["model_name"].unique()) if len(pit) else {}
    for j, h in enumerate(steps, start=1):
        for (m, v), g in pit[pit["day_ahead"] == h].groupby(["model_name", "model_version"]):
            fig.add_trace(go.Histogram(x=g["pit"], xbins=dict(start=0, end=1, size=0.1), histnorm="probability density",
                                       name=f"{m} {v}", legendgroup=f"{m} {v}", showlegend=j == 1, opacity=0.55,
                                       marker_color=colors[m]), row=1, col=j)
        fig.add_hline(y=1, line_dash="dash", line_color="black", row=1, col=j)
        fig.update_xaxes(range=[0, 1], title_text="PIT", row=1, col=j)
    fig.update_layout(title="PIT histograms per step (flat = calibrated)", barmode="overlay",
                      template="plotly_white", margin=dict(l=50, r=20, t=70, b=40))
    return fig
