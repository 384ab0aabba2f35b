"""The storage interface: read input, write a partition's rows atomically, read models and forecasts back.

Every backend (DuckDB embedded, Databricks SQL, Spark) implements this; the
Dagster layer sees nothing else. Writes of one partition batch replace that
batch's rows in one transaction, so a reader never sees a half-written day.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa


class StorageError(RuntimeError):
    """The backend refused or failed an operation; the message says which and why."""


class ForecastStore(ABC):
    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the catalog's schemas and the contract tables if missing."""

    # -- input -------------------------------------------------------------
    @abstractmethod
    def read_unified(self, commodity: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """unified_data rows of one commodity with start <= date <= end (either bound optional)."""

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

    @abstractmethod
    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Read-only SQL over the catalog (three-part names), values bound as parameters."""
