"""The storage interface: read input, write a partition's rows atomically, read models and forecasts back.

Every backend (DuckDB embedded, Databricks SQL) implements this; the run and
Dagster layers see nothing else and write no SQL. Writes of one partition batch
replace that batch's rows in one transaction, so a reader never sees a
half-written day. The named reads at the end are written once here: their SQL
comes from storage.sql (text both engines accept) and a backend only supplies
`_read`, which runs one such statement.

A store is made for one forecast horizon (`horizon`, from Settings.horizon):
the number of day columns of distributions and the steps forecast_metadata
scores follow it, and ensure_schema refuses tables made for another
(storage/horizon.py).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from datetime import date, timedelta
from typing import Any, Iterator, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from forecast_assets.storage import sql
from forecast_assets.storage.schema import CATALOG, qualified


class StorageError(RuntimeError):
    """The backend refused or failed an operation; the message says which and why."""


class StoredChecks(NamedTuple):
    """What the forecast checks read back for one commodity/model/version over a range of days."""

    leakage_rows: int  # rows of distributions and point_forecasts flagging data leakage
    paths: pd.DataFrame  # per day: forecast_start_date, n_paths (path_id > 0), n_bad (a price not finite and > 0)
    points: pd.DataFrame  # per day: forecast_start_date, n_points, ok (all successful), reason (a failure_reason)
    failed_recomputations: pd.DataFrame  # as ForecastStore.failed_recomputations


class ForecastStore(ABC):
    catalog: str = CATALOG  # the catalog of the three-part table names; a backend may serve another
    horizon: int  # steps per forecast the tables are made for

    @classmethod
    def from_settings(cls, settings) -> "ForecastStore":
        """The store a run under these settings (config.Settings) writes to. defs/environments.py opens
        the backend of each FORECAST_ENV through this; a new backend implements it."""
        raise NotImplementedError(f"{cls.__name__} does not say how to open it from settings")

    @contextlib.contextmanager
    def one_connection(self) -> Iterator[None]:
        """Run the store calls inside on one connection where the backend has a cost per connection (DuckDB
        attaches the file for each call: ~15-30 ms). Keep it around a group of quick reads, never around
        compute: DuckDB lets one process have the file at a time. Here: no difference."""
        yield

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the catalog's schemas and the contract tables if missing; refuse (HorizonMismatchError)
        tables made for another horizon than self.horizon."""

    @abstractmethod
    def live_columns(self, tables: tuple[str, ...]) -> dict[str, list[str]]:
        """The columns, in order, of those of `tables` that exist (absent tables left out)."""

    @abstractmethod
    def count_rows(self, tables: tuple[str, ...]) -> dict[str, int]:
        """Rows in each of `tables` (0 for an absent one)."""

    @abstractmethod
    def drop_tables(self, tables: tuple[str, ...]) -> None:
        """Drop these tables if they exist (horizon migration only: ensure_schema then recreates them)."""

    # -- input -------------------------------------------------------------
    @abstractmethod
    def read_unified(self, commodity: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """unified_data rows of one commodity with start <= date <= end (either bound optional).

        Checked with core.input_rules (conform_frame) before they are returned: a table another
        loader filled is refused for the same things as a file to import (InputDataError).
        """

    @abstractmethod
    def unified_version(self) -> str:
        """A fingerprint of unified_data that changes when rows land or change."""

    @abstractmethod
    def unified_summary(self) -> pd.DataFrame:
        """Per commodity: rows, regions, first and last date, last trading day."""

    @abstractmethod
    def replace_unified(self, df: pd.DataFrame) -> int:
        """Replace all rows of the commodities in df with df, atomically. Returns rows written."""

    # -- trained models ----------------------------------------------------
    @abstractmethod
    def write_trained_model(self, row: dict[str, Any]) -> None:
        """Insert or replace one trained_models row (key: commodity, model, version, window_start)."""

    def write_trained_models(self, rows: list[dict[str, Any]]) -> None:
        """Insert or replace several trained_models rows; one transaction where the backend has them.
        This default writes them one by one (each row is a statement of its own on Databricks SQL)."""
        for row in rows:
            self.write_trained_model(row)

    @abstractmethod
    def read_trained_model(self, commodity: str, model_name: str, model_version: str,
                           window_start: date) -> dict[str, Any] | None:
        """The trained_models row serving the window that starts on window_start, or None."""

    def read_trained_models(self, commodity: str, model_name: str, model_version: str,
                            windows: list[date]) -> dict[date, dict[str, Any]]:
        """The rows serving several windows, by window_start (absent windows left out)."""
        rows = {w: self.read_trained_model(commodity, model_name, model_version, w) for w in windows}
        return {w: r for w, r in rows.items() if r is not None}

    # -- forecasts ---------------------------------------------------------
    @abstractmethod
    def replace_forecasts(self, commodity: str, model_name: str, model_version: str, days: list[date],
                          distributions: pa.Table, points: pa.Table) -> None:
        """Append a new vintage of these days (rows carry vintage, vintage_reason, input_fingerprint), in one
        transaction. Earlier vintages stay: a published forecast is never overwritten (issue 13)."""

    @abstractmethod
    def forecast_status(self, commodity: str, model_name: str, model_version: str,
                        start: date, end: date) -> pd.DataFrame:
        """Per stored day in [start, end], of its current vintage (the latest good one, else the latest
        attempt): n_paths (simulated), has_actuals, n_points, all_success, data_cutoff_date,
        last_forecast_date, model_fingerprint and input_fingerprint (NULL when a day's rows disagree or
        predate fingerprints), vintage; and last_vintage, the last attempt's (failed or not)."""

    @abstractmethod
    def update_actuals(self, commodity: str, actuals: pd.DataFrame) -> int:
        """Fill actual_close and the path-0 rows of every model's forecasts for the days in `actuals`
        (columns forecast_start_date, day_ahead, forecast_date, actual_close). Returns days completed."""

    # -- evaluation --------------------------------------------------------
    @abstractmethod
    def read_paths(self, commodity: str, model_name: str, model_version: str, start: date, end: date,
                   vintage: str = "latest", max_paths: int | None = None) -> tuple[pd.DataFrame, "np.ndarray"]:
        """Point-forecast rows (one per day and step, ordered) and the simulated paths as an
        array (n_days, n_paths, horizon), for the days in [start, end] that have complete paths,
        of each day's latest or first vintage (sql.vintage_view_name); the rows carry `vintage`.
        `max_paths`: only paths 1..max_paths of each day (a day's paths are i.i.d.: a fair subsample
        that is read without the rest)."""

    @abstractmethod
    def replace_scores(self, commodity: str, days: list[date], scores: pa.Table, metadata: pa.Table) -> None:
        """Replace forecast_scores and forecast_metadata rows of these days (every model and version
        present in the new rows), in one transaction."""

    @abstractmethod
    def replace_performance(self, rows: pa.Table) -> None:
        """Replace model_performance rows for the (commodity, model, version) keys in `rows`."""

    # -- named reads (SQL from storage.sql, run by the backend's _read) -------
    @abstractmethod
    def _read(self, what: str, text: str, params: list | None = None) -> pd.DataFrame:
        """Run one read-only statement of storage.sql (values bound as parameters) as a DataFrame.

        For the named reads of this interface only: callers outside storage/ use those.
        `what` names the read in the backend's logs and errors.
        """

    def model_versions(self, commodity: str, start: date, end: date) -> pd.DataFrame:
        """model_name, model_version pairs with point forecasts in [start, end], sorted."""
        return self._read("model_versions", sql.model_versions(self.catalog), [commodity, start, end])

    def failed_days(self, commodity: str, model_name: str, model_version: str, start: date, end: date
                    ) -> pd.DataFrame:
        """forecast_start_date, data_cutoff_date of the days in [start, end] whose model failed."""
        return self._read("failed_days", sql.failed_days(self.catalog),
                          [commodity, model_name, model_version, start, end])

    def day_steps(self, commodity: str, model_name: str, model_version: str, start: date, end: date,
                  steps: tuple[int, int]) -> pd.DataFrame:
        """forecast_start_date, data_cutoff_date, day_ahead, forecast_date, forecast_median, lower_95, upper_95,
        model_success, failure_reason of the point rows at two steps of the days in [start, end]."""
        return self._read("day_steps", sql.day_steps(self.catalog),
                          [commodity, model_name, model_version, start, end, int(steps[0]), int(steps[1])])

    def read_scores(self, start: date | None = None, end: date | None = None,
                    scored_as: str = "latest") -> pd.DataFrame:
        """forecast_scores rows with a CRPS, of forecasts made in [start, end] (either bound optional),
        each forecast's latest or first scored vintage."""
        params = [d for d in (start, end) if d]
        return self._read("read_scores", sql.scores(self.catalog, bool(start), bool(end), scored_as), params)

    def read_path_scores(self, start: date | None = None, end: date | None = None,
                         scored_as: str = "latest") -> pd.DataFrame:
        """commodity, model_name, model_version, forecast_start_date, energy_score, variogram_score of the
        forecasts made in [start, end] (either bound optional) whose whole path is scored (vintage as
        read_scores)."""
        params = [d for d in (start, end) if d]
        return self._read("read_path_scores", sql.path_scores(self.catalog, bool(start), bool(end), scored_as),
                          params)

    def member_actuals(self, commodity: str, models: list[str], model_version: str, start: date, end: date
                       ) -> pd.DataFrame:
        """forecast_start_date, model_name, vintage, day_ahead, forecast_date, actual_close of the steps whose
        close is stored (the actuals asset's) of these models' forecasts made in [start, end], each day's latest
        good vintage: what the ensemble's weights learn from."""
        return self._read("member_actuals", sql.member_actuals(self.catalog, len(models)),
                          [commodity, model_version, start, end, *models])

    def read_pit(self) -> pd.DataFrame:
        """commodity, model_name, model_version, forecast_start_date, day_ahead, forecast_date, pit of every
        step with a PIT value."""
        return self._read("read_pit", sql.pit(self.catalog))

    def latest_scored_days(self) -> pd.DataFrame:
        """Per commodity, model and version (sorted): d, the latest forecast day with all actuals scored."""
        return self._read("latest_scored_days", sql.latest_scored_days(self.catalog))

    def stored_forecast_checks(self, commodity: str, model_name: str, model_version: str, start: date, end: date
                               ) -> StoredChecks:
        """What the forecast checks need of the stored rows in [start, end]: see StoredChecks."""
        key = [commodity, model_name, model_version, start, end]
        leak, paths, points, failed = self._read_many([
            ("leakage_rows", sql.leakage_rows(self.catalog), key + key),
            ("path_counts", sql.path_counts(self.catalog, self.horizon), key),
            ("point_counts", sql.point_counts(self.catalog), key),
            ("failed_recomputations", sql.failed_recomputations(self.catalog), key)])
        return StoredChecks(int(leak["n"].iloc[0]), paths, points, failed)

    def leaking_scored(self, commodity: str, start: date, end: date) -> int:
        """Scored forecasts (forecast_metadata rows) in [start, end] whose point rows flag data leakage."""
        return int(self._read("leaking_scored", sql.leaking_scored(self.catalog), [commodity, start, end])["n"].iloc[0])

    def missing_scored_days(self, commodity: str, start: date, end: date) -> pd.DataFrame:
        """model_name, model_version, forecast_start_date of successful forecasts in [start, end] whose
        actuals (every step of the horizon) are all stored but which have no complete score row."""
        return self._read("missing_scored_days", sql.missing_scored_days(self.catalog, self.horizon),
                          [commodity, start, end, int(self.horizon)])

    def trained_models_summary(self) -> pd.DataFrame:
        """Per commodity, model and version (sorted): windows, first_window, last_window, in_artifact_files."""
        return self._read("trained_models_summary", sql.trained_models_summary(self.catalog))

    def forecasts_summary(self) -> pd.DataFrame:
        """Per commodity, model and version with point forecasts (sorted): days, first_day, last_day,
        point_rows, leakage_rows, and from distributions distribution_rows, actuals_rows."""
        fc = self._read("point_forecasts_summary", sql.point_forecasts_summary(self.catalog))
        dist = self._read("distributions_summary", sql.distributions_summary(self.catalog))
        if len(fc):
            fc = fc.merge(dist, on=["commodity", "model_name", "model_version"], how="left")
        return fc

    # -- import merge (issue 13) ---------------------------------------------
    @abstractmethod
    def merge_unified(self, df: pd.DataFrame) -> int:
        """Upsert these unified_data rows by (date, commodity, region) in one statement (sql.merge_unified):
        a matched row is replaced whole, a new key inserted, every other row kept. Returns rows written."""

    def unified_commodities(self) -> list[str]:
        """The commodity names stored in unified_data (the import compares spellings with these)."""
        return self._read("unified_names", sql.unified_names(qualified("unified_data", self.catalog)))[
            "commodity"].tolist()

    # -- the forecast explorer's reads (forecast_assets/explorer): read-only, named reads of storage.sql --
    def explorer_catalogue(self) -> pd.DataFrame:
        """Per commodity, model and version with point forecasts (sorted): first_day, last_day, days."""
        return self._read("explorer_catalogue", sql.explorer_catalogue(self.catalog))

    def has_vintages(self) -> bool:
        """Whether the forecast tables record vintages (a `vintage` column on point_forecasts)."""
        cols = self.live_columns(("point_forecasts",)).get("point_forecasts", [])
        return "vintage" in {c.lower() for c in cols}

    def _read_many(self, reads: list[tuple[str, str, list]]) -> list[pd.DataFrame]:
        """Several named reads (what, text, params) at once; a backend may run them on one connection."""
        return [self._read(what, text, params) for what, text, params in reads]

    def day_forecasts(self, commodity: str, models: list[str], model_version: str, day: date, n_paths: int,
                      vintages: bool = False, history_from: date | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """One day's forecasts by `models`: every step's point row (median, mean, bands, realized), the first
        `n_paths` simulated paths, and date, close of the trading days in [history_from, day) (none without
        history_from). With `vintages`, rows of every vintage, a `vintage` column saying which. One page's
        reads together (the DuckDB store opens the file once for them)."""
        key = [commodity, model_version, day, *models]
        reads = [("day_points", sql.day_points(self.catalog, len(models), vintages), key),
                 ("day_sample_paths", sql.day_sample_paths(self.catalog, self.horizon, len(models), vintages),
                  key + [int(n_paths)]),
                 ("trading_closes", sql.trading_closes(self.catalog),
                  [commodity, history_from or day, day - timedelta(days=1)])]
        return tuple(self._read_many(reads))

    def commodity_performance(self, commodity: str) -> pd.DataFrame:
        """model_performance rows of one commodity, by model, version and horizon."""
        return self._read("commodity_performance", sql.commodity_performance(self.catalog), [commodity])

    def commodity_pit(self, commodity: str) -> pd.DataFrame:
        """commodity, model_name, model_version, forecast_start_date, day_ahead, forecast_date, pit of one
        commodity's scored steps."""
        return self._read("commodity_pit", sql.pit(self.catalog, one_commodity=True), [commodity])

    def failed_recomputations(self, commodity: str, model_name: str, model_version: str, start: date, end: date
                              ) -> pd.DataFrame:
        """forecast_start_date, good_vintage, last_vintage, reason of the days in [start, end] whose last
        recomputation failed while an earlier good vintage stays current."""
        return self._read("failed_recomputations", sql.failed_recomputations(self.catalog),
                          [commodity, model_name, model_version, start, end])


def paths_by_day(raw: dict[str, np.ndarray], points: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Shape fetched path rows (ordered by day, path; or in any order with a path_id column) into
    (n_days, n_paths, horizon), keeping only
    days with the full number of paths and a successful point forecast; shared by the backends."""
    from forecast_assets.storage.schema import day_columns

    days = np.asarray(raw["forecast_start_date"], dtype="datetime64[D]")
    if len(days) == 0 or points.empty:
        return points.iloc[0:0], np.empty((0, 0, horizon), dtype=np.float32)
    cols = day_columns(horizon)
    if "path_id" in raw:  # fetched unordered (an ORDER BY costs the read 3x): placed by (day, path) here
        placed = _place_by_day_and_path(days, np.asarray(raw["path_id"]), [raw[c] for c in cols])
        if placed is not None:
            uniq, counts, values = placed
            return _whole_days(uniq, counts, values, points)
        order = np.lexsort((np.asarray(raw["path_id"]), days))  # path ids not 1..N on every day: sort
        days = days[order]
        values = np.stack([np.asarray(raw[c], dtype=np.float32)[order] for c in cols], axis=1)
    else:
        values = np.stack([np.asarray(raw[c], dtype=np.float32) for c in cols], axis=1)
    uniq, counts = np.unique(days, return_counts=True)  # rows arrive ordered by day
    return _whole_days(uniq, counts, values, points, int(counts.max()))


def _place_by_day_and_path(days: np.ndarray, path_id: np.ndarray, columns: list) -> tuple | None:
    """(days, rows per day, values (n_days, N, horizon)) with row (day, path p) at [day, p - 1], in one pass
    instead of sorting ~1M rows (0.03 s a window and member); None unless the ids are 1..N, once each, on
    every day that has rows (then the caller sorts)."""
    d = days.astype(np.int64)
    lo = int(d.min())
    span = int(d.max()) - lo + 1
    n = int(path_id.max())
    if int(path_id.min()) < 1 or span * n > 4 * len(d) + 1_000_000:  # sparse: not worth a dense grid
        return None
    slot = (d - lo) * n + (path_id.astype(np.int64) - 1)
    seen = np.bincount(slot, minlength=span * n)
    if seen.max() > 1:  # a (day, path) twice: keep the sorting path's behaviour
        return None
    per_day = seen.reshape(span, n).sum(axis=1)
    present = per_day > 0
    if not (per_day[present] == n).all():  # some day lacks an id: the sort decides as it always did
        return None
    grid = np.empty((span * n, len(columns)), dtype=np.float32)
    for k, c in enumerate(columns):
        grid[slot, k] = np.asarray(c, dtype=np.float32)
    uniq = (np.flatnonzero(present) + lo).astype("datetime64[D]")
    grid = grid.reshape(span, n, len(columns))
    return uniq, per_day[present], grid if present.all() else grid[present]


def _whole_days(uniq, counts, values, points, n_paths=None):
    """Days with every path and a successful point forecast: (their point rows, paths (days, paths, H))."""
    pts_days = np.asarray(points["forecast_start_date"].values.astype("datetime64[D]"))
    if n_paths is None:  # placed: values is already (days, paths, horizon), every day whole
        whole = np.isin(uniq, pts_days)
        keep = uniq[whole]
        paths = values if whole.all() else values[whole]
    else:
        whole = (counts == n_paths) & np.isin(uniq, pts_days)
        keep = uniq[whole]
        paths = values[np.repeat(whole, counts)].reshape(len(keep), n_paths, values.shape[1])
    pts = points[np.isin(pts_days, keep)].reset_index(drop=True)
    return pts, paths

