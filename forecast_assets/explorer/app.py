"""The explorer's page: pick commodity, models, version, day (and vintage); see the day's fan chart and
table of steps, and the commodity's model comparison with its calibration pictures.

Dash serves its scripts (React, plotly.js, AG Grid) from the installed packages (serve_locally=True): the
page loads nothing from the internet. Every read goes through the store's named reads, read-only.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlencode

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from forecast_assets.explorer import figures, queries, tables
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.schema import metadata_horizons

_LABEL = {"fontWeight": "bold", "fontSize": "13px", "marginBottom": "2px"}
_CELL = {"padding": "3px 8px", "borderBottom": "1px solid #ddd", "textAlign": "right", "fontSize": "13px"}


def _control(label: str, component) -> html.Div:
    return html.Div([html.Div(label, style=_LABEL), component], style={"minWidth": "160px", "marginRight": "16px"})


def _step_table(rows: list[dict]) -> html.Table:
    # A plain table, every row in the page (a forecast has H steps per model: no need to virtualize);
    # each cell has an id (step-<model>-<step>-<column>) so a reader or a test can find one number.
    th = {**_CELL, "borderBottom": "2px solid #333"}
    head = html.Tr([html.Th(h, style=th) for h in tables.STEP_HEADERS.values()])
    body = [html.Tr([html.Td(str(r[k]), id=f"step-{r['model']}-{r['step']}-{k}", style=_CELL)
                     for k in tables.STEP_HEADERS]) for r in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], style={"borderCollapse": "collapse"})


def link_choices(search: str | None) -> dict:
    """A link's choices (?commodity=Coffee&day=2025-10-31&models=naive,xgboost&version=v1.0), those that
    parse; the page checks them against the store."""
    q = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    out: dict = {k: q[k] for k in ("commodity", "version") if q.get(k)}
    models = [m for m in q.get("models", "").split(",") if m]
    if models:
        out["models"] = models
    try:
        out["day"] = date.fromisoformat(q["day"])
    except (KeyError, ValueError):
        pass
    return out


def day_link(base_url: str, commodity: str, day: date, models: list[str] | None = None) -> str:
    """The explorer's address of one commodity's day (what a Dagster partition's metadata can link to)."""
    q = {"commodity": commodity, "day": day.isoformat(), **({"models": ",".join(models)} if models else {})}
    return f"{base_url.rstrip('/')}/?{urlencode(q)}"


def _store_note(store: ForecastStore, commodities: list[str]) -> str:
    if not commodities:
        return "No forecasts in the store yet: run `make demo` (or materialize forecasts) first."
    where = getattr(store, "path", None) or f"catalog {store.catalog}"
    return f"{len(commodities)} commodit{'y' if len(commodities) == 1 else 'ies'}, read-only from {where}"


def make_app(store: ForecastStore, *, title: str = "Forecast explorer") -> dash.Dash:
    """The Dash app over `store` (opened read-only by queries.open_store)."""
    vintages = store.has_vintages()  # the schema as it is when the explorer starts
    horizon = store.horizon
    app = dash.Dash(__name__, title=title, serve_locally=True, update_title=None)
    catalogue = store.explorer_catalogue()
    commodities = sorted(catalogue["commodity"].unique()) if len(catalogue) else []

    app.layout = html.Div([
        dcc.Location(id="url", refresh=False),
        html.H2(title, style={"margin": "8px 0"}),
        html.Div(_store_note(store, commodities),
                 id="store-note", style={"color": "#555", "marginBottom": "8px"}),
        html.Div([
            _control("commodity", dcc.Dropdown(commodities, commodities[0] if commodities else None, id="commodity",
                                               clearable=False)),
            _control("models", dcc.Dropdown([], [], id="models", multi=True, style={"minWidth": "320px"})),
            _control("version", dcc.Dropdown([], None, id="version", clearable=False)),
            _control("day", dcc.DatePickerSingle(id="day", display_format="YYYY-MM-DD", first_day_of_week=1)),
            _control("vintage", dcc.Dropdown([], None, id="vintage", placeholder="latest")),
        ], style={"display": "flex", "flexWrap": "wrap", "alignItems": "flex-end", "marginBottom": "8px"}),
        html.Div(id="day-status", style={"margin": "6px 0", "color": "#333"}),
        dcc.Graph(id="fan-chart", style={"height": "480px"}, config={"displaylogo": False}),
        html.H3("The day's steps", style={"marginTop": "12px"}),
        html.Div(id="step-table"),
        html.H3("Model comparison (click a header to sort)", style={"marginTop": "18px"}),
        dag.AgGrid(id="comparison-grid", rowData=[],
                   columnDefs=[{"field": c, "headerName": c.replace("_", " ")} for c in tables.COMPARISON_COLUMNS],
                   defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 90},
                   dashGridOptions={"animateRows": False}, columnSize="autoSize", style={"height": "360px"}),
        dcc.Graph(id="coverage-chart", style={"height": "360px"}, config={"displaylogo": False}),
        dcc.Graph(id="pit-chart", style={"height": "340px"}, config={"displaylogo": False}),
    ], style={"fontFamily": "sans-serif", "margin": "0 16px"})

    @app.callback(Output("commodity", "value"), Input("url", "search"))
    def from_link(search):
        wanted = link_choices(search).get("commodity")
        return wanted if wanted in commodities else (commodities[0] if commodities else None)

    @app.callback(Output("models", "options"), Output("models", "value"), Output("version", "options"),
                  Output("version", "value"), Output("day", "min_date_allowed"), Output("day", "max_date_allowed"),
                  Output("day", "date"), Input("commodity", "value"), State("url", "search"))
    def pick_commodity(commodity, search):
        cat = store.explorer_catalogue()  # read again: runs may have added days since the page opened
        mine = cat[cat["commodity"] == commodity]
        if mine.empty:
            return [], [], [], None, None, None, None
        models = sorted(mine["model_name"].unique())
        versions = sorted(mine["model_version"].unique())
        first = pd.Timestamp(mine["first_day"].min()).date()
        last = pd.Timestamp(mine["last_day"].max()).date()
        shown, version, day = models, versions[-1], last
        link = link_choices(search)
        if link.get("commodity") == commodity:  # a link's choices, where the store has them
            shown = [m for m in link.get("models", []) if m in models] or models
            version = link["version"] if link.get("version") in versions else version
            day = link["day"] if link.get("day") and first <= link["day"] <= last else day
        return models, shown, versions, version, first, last, day

    @app.callback(Output("fan-chart", "figure"), Output("step-table", "children"), Output("day-status", "children"),
                  Output("vintage", "options"), Input("commodity", "value"), Input("models", "value"),
                  Input("version", "value"), Input("day", "date"), Input("vintage", "value"))
    def show_day(commodity, models, version, day, vintage):
        if not (commodity and models and version and day):
            return figures.empty(), None, "Pick a commodity, one or more models, a version and a day.", []
        d = date.fromisoformat(str(day)[:10])
        loaded = queries.load_day(store, commodity, models, version, d, vintages=vintages, vintage=vintage)
        if loaded.points.empty:
            return (figures.empty(), None,
                    f"No {version} forecast of {commodity} by {', '.join(models)} starting {d}.", [])
        pts = loaded.points
        cutoff = pd.Timestamp(pts["data_cutoff_date"].max()).date()
        missing = sorted(set(models) - set(loaded.models))
        status = (f"{commodity}, forecast of {d}: data up to {cutoff}, {pts['day_ahead'].max()} steps"
                  + (f"; no forecast by {', '.join(missing)} that day" if missing else ""))
        options = [{"label": f"{r.model_name} v{r.vintage}: {r.vintage_reason or ''} ({r.generated})",
                    "value": int(r.vintage)} for r in loaded.vintages.itertuples(index=False)]
        return figures.fan_chart(loaded, horizon), _step_table(tables.step_rows(pts)), status, options

    @app.callback(Output("comparison-grid", "rowData"), Output("coverage-chart", "figure"),
                  Output("pit-chart", "figure"), Input("commodity", "value"))
    def show_comparison(commodity):
        if not commodity:
            return [], figures.empty(), figures.empty()
        perf, pit = queries.comparison(store, commodity)
        return (tables.comparison_rows(perf), figures.coverage_figure(perf),
                figures.pit_figure(pit, metadata_horizons(horizon)))

    return app


def serve(app: dash.Dash, port: int, host: str = "127.0.0.1") -> None:
    """Serve the page on host:port until Ctrl-C or SIGTERM, with werkzeug's threaded server (a page on
    one machine for its user is what it is for).

    Started through werkzeug's make_server rather than app.run, which prints Flask's banner and a
    "development server" warning on every start; and werkzeug's access log (a line per request) is
    quieted. Dash's upgrade check, which would ask a plotly.com address from the browser, is off: the
    page stays offline."""
    import logging

    from werkzeug.serving import make_server

    app.enable_dev_tools(debug=False, dev_tools_disable_version_check=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_server(host, port, app.server, threaded=True).serve_forever()
