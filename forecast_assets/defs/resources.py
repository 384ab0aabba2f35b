"""The one resource assets use: the run's settings, and the store their environment chooses."""

from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import get_origin, get_type_hints

import dagster as dg

from forecast_assets.config import Settings
from forecast_assets.defs.environments import environment
from forecast_assets.storage.base import ForecastStore

_TYPES = get_type_hints(Settings)


def _to_config(value):
    """A Settings value as Dagster config: paths and dates as text, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


def _from_config(name: str, value):
    t = _TYPES[name]
    if t is Path:
        return Path(value)
    if t is date:
        return date.fromisoformat(value)
    return tuple(value) if get_origin(t) is tuple else value


class ForecastResource(dg.ConfigurableResource):
    """Settings as Dagster config: one field per config.Settings field, same name and meaning.

    The code location builds it from the Settings it read once (from_settings); a step gets them
    back from here (settings), not by reading the environment again, and the UI shows them. Run
    config for this resource replaces them for one run (Dagster asks for every field, so nothing
    silently falls back to a default). The paths, model_version, n_paths, seed and spark_min_days
    are what a run may change; env, commodities, start_date, spark and the databricks_* fields
    also shaped what was built when the code location loaded (partitions, launchers, executor),
    so change those in the environment. The Databricks credentials are never here.
    """

    env: str
    duckdb_path: str
    artifact_dir: str
    plot_dir: str
    commodities: list[str]
    start_date: str
    model_version: str
    n_paths: int
    horizon: int
    calendars: list[str]
    seed: int
    spark: str
    spark_min_days: int
    databricks_catalog: str
    databricks_volume: str
    databricks_cluster_id: str
    databricks_deploy_dir: str
    explorer_port: int  # the forecast explorer's; runs do not use them (the asset descriptions link to the URL)
    explorer_url: str
    databricks_connect_timeout: int
    databricks_upload_timeout: int
    databricks_start_timeout: int
    databricks_poll_timeout: int

    @classmethod
    def from_settings(cls, s: Settings) -> "ForecastResource":
        return cls(**{f.name: _to_config(getattr(s, f.name)) for f in fields(Settings)})

    @property
    def settings(self) -> Settings:
        return Settings(**{f.name: _from_config(f.name, getattr(self, f.name)) for f in fields(Settings)})

    def store(self) -> ForecastStore:
        store = environment(self.env).open_store(self.settings)
        store.ensure_schema()
        return store

    @property
    def delta_catalog(self) -> str | None:
        """The catalog whose Delta tables Spark writes forecast rows into, if this environment's Spark
        writes them itself; None: rows go through the store."""
        return self.databricks_catalog if environment(self.env).spark_writes_delta else None
