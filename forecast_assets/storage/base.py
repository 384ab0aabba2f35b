"""The storage interface: read input, write a partition's rows atomically, read models and forecasts back.

Every backend (DuckDB embedded, Databricks SQL, Spark) implements this; the
Dagster layer sees nothing else. Writes of one partition batch replace that
batch's rows in one transaction, so a reader never sees a half-written day.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


class StorageError(RuntimeError):
    """The backend refused or failed an operation; the message says which and why."""


class ForecastStore(ABC):
    @classmethod
    def from_settings(cls, settings) -> "ForecastStore":
        """The store a run under these settings (config.Settings) writes to. defs/environments.py opens
        the backend of each FORECAST_ENV through this; a new backend implements it."""
        raise NotImplementedError(f"{cls.__name__} does not say how to open it from settings")

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the catalog's schemas and the contract tables if missing."""

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
        """Delete these days' rows of this commodity/model/version and insert the new ones, in one transaction."""

    @abstractmethod
    def forecast_status(self, commodity: str, model_name: str, model_version: str,
                        start: date, end: date) -> pd.DataFrame:
        """Per stored day in [start, end]: n_paths (simulated), has_actuals, n_points, all_success,
        data_cutoff_date, model_fingerprint (NULL when a day's rows disagree)."""

    @abstractmethod
    def update_actuals(self, commodity: str, actuals: pd.DataFrame) -> int:
        """Fill actual_close and the path-0 rows of every model's forecasts for the days in `actuals`
        (columns forecast_start_date, day_ahead, forecast_date, actual_close). Returns days completed."""

    # -- evaluation --------------------------------------------------------
    @abstractmethod
    def read_paths(self, commodity: str, model_name: str, model_version: str, start: date, end: date
                   ) -> tuple[pd.DataFrame, "np.ndarray"]:
        """Point-forecast rows (one per day and step, ordered) and the simulated paths as an
        array (n_days, n_paths, 14), for the days in [start, end] that have complete paths."""

    @abstractmethod
    def replace_scores(self, commodity: str, days: list[date], scores: pa.Table, metadata: pa.Table) -> None:
        """Replace forecast_scores and forecast_metadata rows of these days (every model and version
        present in the new rows), in one transaction."""

    @abstractmethod
    def replace_performance(self, rows: pa.Table) -> None:
        """Replace model_performance rows for the (commodity, model, version) keys in `rows`."""

    @abstractmethod
    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Read-only SQL over the catalog (three-part names), values bound as parameters."""


def paths_by_day(raw: dict[str, np.ndarray], points: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Shape fetched path rows (ordered by day, path) into (n_days, n_paths, horizon), keeping only
    days with the full number of paths and a successful point forecast; shared by the backends."""
    from forecast_assets.storage.schema import DAY_COLUMNS

    days = np.asarray(raw["forecast_start_date"], dtype="datetime64[D]")
    if len(days) == 0 or points.empty:
        return points.iloc[0:0], np.empty((0, 0, len(DAY_COLUMNS)), dtype=np.float32)
    values = np.stack([np.asarray(raw[c], dtype=np.float32) for c in DAY_COLUMNS], axis=1)
    uniq, counts = np.unique(days, return_counts=True)  # rows arrive ordered by day
    n_paths = int(counts.max())
    pts_days = np.asarray(points["forecast_start_date"].values.astype("datetime64[D]"))
    whole = (counts == n_paths) & np.isin(uniq, pts_days)
    keep = uniq[whole]
    paths = values[np.repeat(whole, counts)].reshape(len(keep), n_paths, len(DAY_COLUMNS))
    pts = points[np.isin(pts_days, keep)].reset_index(drop=True)
    return pts, paths
