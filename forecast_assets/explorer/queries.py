"""What the explorer reads, through the storage interface only (named reads of storage.sql, read-only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from forecast_assets.core.comparison import one_per_session
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.horizon import check_horizon
from forecast_assets.storage.schema import TABLES, day_columns

SAMPLE_PATHS = 5  # simulated paths drawn over the bands: a few show what a path looks like, more hide the bands
HISTORY_SESSIONS = 60  # closes before the cutoff on the fan chart


def open_store(settings) -> ForecastStore:
    """The store of these settings, opened for reading: DuckDB attached READ_ONLY (a run can write
    between two of the explorer's reads, each a short connection); Databricks SQL as configured,
    read by SELECTs only."""
    if settings.env == "local":
        from forecast_assets.storage.duckdb_store import DuckDBStore

        # A writer holds the file for one transaction at a time: wait for it, but not for minutes.
        store = DuckDBStore(settings.duckdb_path, lock_timeout_s=30.0, horizon=settings.horizon, read_only=True)
    else:
        from forecast_assets.storage.databricks_sql import DatabricksSQLStore

        store = DatabricksSQLStore.from_settings(settings)
    # Tables made for another FORECAST_HORIZON are refused as a run refuses them (it cannot fix them here).
    check_horizon(store.live_columns(TABLES), settings.horizon, str(getattr(store, "path", store.catalog)))
    return store


@dataclass
class Day:
    """One day's forecasts of a commodity by some models of one version, as stored."""

    commodity: str
    day: date
    model_version: str
    points: pd.DataFrame  # every step of every model's forecast (one vintage per model)
    paths: pd.DataFrame  # model_name, path_id, day_1..day_H: a few simulated paths per model
    history: pd.Series  # closes of the sessions up to the latest cutoff, by date
    vintages: pd.DataFrame = field(default_factory=pd.DataFrame)  # model_name, vintage, vintage_reason, generated

    @property
    def models(self) -> list[str]:
        return sorted(self.points["model_name"].unique())


def load_day(store: ForecastStore, commodity: str, models: list[str], model_version: str, day: date, *,
             vintages: bool = False, vintage: int | None = None, n_paths: int = SAMPLE_PATHS,
             history_sessions: int = HISTORY_SESSIONS) -> Day:
    """A day's page: point rows, sample paths and the history before the cutoff.

    With `vintages` (the tables record them) every vintage is read and one is kept per model: `vintage`
    where the model has it, else its latest; the list of all of them comes back in Day.vintages.
    (With the *_latest views, the latest could be read directly; reading every vintage lists them too.)
    """
    # Calendar days enough for the sessions asked (weekends, holidays); the last ones up to the cutoff kept.
    points, paths, closes = store.day_forecasts(commodity, list(models), model_version, day, n_paths,
                                                vintages=vintages,
                                                history_from=day - timedelta(days=2 * history_sessions + 14))
    listed = pd.DataFrame(columns=["model_name", "vintage", "vintage_reason", "generated"])
    if vintages and len(points):
        listed = (points.groupby(["model_name", "vintage"], as_index=False)
                  .agg(vintage_reason=("vintage_reason", "first"), generated=("generation_timestamp", "max")))
        # Rows from before vintages existed are vintage 1 (docs/contract.md, "Vintages").
        points = points.assign(vintage=points["vintage"].fillna(1).astype(int))
        paths = paths.assign(vintage=paths["vintage"].fillna(1).astype(int))
        chosen = {m: (vintage if vintage is not None and (g["vintage"] == vintage).any() else _current(g))
                  for m, g in points.groupby("model_name")}
        points = points[points["vintage"] == points["model_name"].map(chosen)]
        paths = paths[paths["vintage"] == paths["model_name"].map(chosen)]
    points = points.reset_index(drop=True)
    history = pd.Series(dtype=float)
    if len(points):
        cutoff = pd.Timestamp(points["data_cutoff_date"].max())
        history = pd.Series(closes["close"].to_numpy(float), index=pd.to_datetime(closes["date"]))
        # Closes between a stale cutoff and the day were not known to the forecast: not history.
        history = history[history.index <= cutoff].iloc[-history_sessions:]
    return Day(commodity, day, model_version, points, paths.reset_index(drop=True), history, listed)


def sample_paths(day: Day, model: str, horizon: int) -> list[list[float]]:
    """The stored sample paths of one model, each its H step prices."""
    mine = day.paths[day.paths["model_name"] == model].sort_values("path_id")
    return mine[day_columns(horizon)].to_numpy(float).tolist()


def comparison(store: ForecastStore, commodity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """model_performance rows of a commodity and its PIT values, one forecast per step-1 session (the
    forecasts the comparison itself counts: a weekend's forecast is Monday's)."""
    perf = store.commodity_performance(commodity)
    pit = store.commodity_pit(commodity)
    return perf, one_per_session(pit, pit) if len(pit) else pit


def _current(g: pd.DataFrame) -> int:
    """The vintage a reader gets by default, as the *_latest views pick it: the latest whose model
    succeeded, or the latest attempt when none did (a failed recomputation never hides a good one)."""
    ok = g.groupby("vintage")["model_success"].all()
    return int(ok[ok].index.max()) if ok.any() else int(g["vintage"].max())
