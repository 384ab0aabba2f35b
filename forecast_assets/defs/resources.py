"""The one resource assets use: settings plus the storage backend they choose."""

from dataclasses import replace
from pathlib import Path

import dagster as dg

from forecast_assets.config import Settings
from forecast_assets.storage.base import ForecastStore


class ForecastResource(dg.ConfigurableResource):
    """Where tables live and how forecasts are made (defaults from FORECAST_* at load time).

    backend "duckdb" is the embedded file; "databricks" is Unity Catalog through
    Databricks SQL, whose host, warehouse and token come from the environment of
    the process that runs the step (never from this config).
    """

    backend: str = "duckdb"
    duckdb_path: str
    artifact_dir: str
    plot_dir: str
    model_version: str
    n_paths: int
    seed: int
    horizon: int  # steps per forecast; the tables' shape follows it (`forecast-assets migrate-horizon`)
    spark_min_days: int = 60

    @classmethod
    def from_settings(cls, s: Settings) -> "ForecastResource":
        return cls(backend="databricks" if s.env == "databricks" else "duckdb", duckdb_path=str(s.duckdb_path), artifact_dir=str(s.artifact_dir),
                   plot_dir=str(s.plot_dir), model_version=s.model_version, n_paths=s.n_paths, seed=s.seed,
                   spark_min_days=s.spark_min_days, horizon=s.horizon)

    @property
    def settings(self) -> Settings:
        base = Settings.from_env()
        return replace(base, duckdb_path=Path(self.duckdb_path), artifact_dir=Path(self.artifact_dir),
                       plot_dir=Path(self.plot_dir), model_version=self.model_version, n_paths=self.n_paths, seed=self.seed,
                       spark_min_days=self.spark_min_days, horizon=self.horizon)

    def store(self) -> ForecastStore:
        if self.backend == "databricks":
            from forecast_assets.storage.databricks_sql import DatabricksSQLStore

            store = DatabricksSQLStore.from_env(horizon=self.horizon)
        elif self.backend == "duckdb":
            # Imported here, as databricks_sql above: the clusters do not install duckdb.
            from forecast_assets.storage.duckdb_store import DuckDBStore

            store = DuckDBStore(self.duckdb_path, horizon=self.horizon)
        else:
            raise ValueError(f"unknown storage backend {self.backend!r}: use 'duckdb' or 'databricks'")
        store.ensure_schema()
        return store
