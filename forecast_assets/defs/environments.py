"""What FORECAST_ENV changes, in one table: the store, step launchers, Spark, executor and asset kinds.

As dagster-io/hooli-data-eng-pipelines keys its resources by deployment, one entry per environment
says everything that differs; definitions.py asks the table once and the forecast resource opens
its store through it. Nothing else branches on the environment.

A new storage backend is one module (a storage.base.ForecastStore whose from_settings(settings)
opens it) and its "module:Class" in an entry. A new environment is one entry here and its name in
config.ENVIRONMENTS (FORECAST_ENV is checked there with the other settings).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from forecast_assets.config import ConfigError, Settings
from forecast_assets.defs import launchers
from forecast_assets.defs.executor import local_executor
from forecast_assets.storage.base import ForecastStore


@dataclass(frozen=True)
class Environment:
    # "module:Class" of the ForecastStore, imported only when a step opens it: the clusters do not
    # install duckdb, and the Databricks connector is an optional dependency.
    store: str
    step_launchers: Callable[[Settings], dict]  # resources launchers.TRAINING and launchers.BACKFILL
    spark: Callable[[Settings], dict]  # resource launchers.SPARK
    executor: dg.ExecutorDefinition
    kinds: frozenset[str]  # every asset's, for where its tables are (assets that compute add "python")
    spark_kinds: frozenset[str]  # added to the assets that take the Spark resource
    # Spark writes forecast rows straight into the Delta tables of settings.databricks_catalog
    # instead of handing them to the store.
    spark_writes_delta: bool

    def open_store(self, settings: Settings) -> ForecastStore:
        module, cls = self.store.split(":")
        return getattr(importlib.import_module(module), cls).from_settings(settings)


ENVIRONMENTS: dict[str, Environment] = {
    # One process per run: steps share the embedded DuckDB file instead of fighting over its lock, and
    # a run first frees the pool slots of runs that were killed (defs/executor.py).
    "local": Environment(
        store="forecast_assets.storage.duckdb_store:DuckDBStore",
        step_launchers=launchers.in_process, spark=launchers.local_spark, executor=local_executor,
        kinds=frozenset({"duckdb"}), spark_kinds=frozenset(), spark_writes_delta=False),
    # Each heavy step is its own cluster job: run them side by side.
    "databricks": Environment(
        store="forecast_assets.storage.databricks_sql:DatabricksSQLStore",
        step_launchers=launchers.databricks_launchers, spark=launchers.cluster_spark,
        executor=dg.multiprocess_executor,
        kinds=frozenset({"databricks", "delta"}), spark_kinds=frozenset({"spark"}), spark_writes_delta=True),
}


def environment(name: str) -> Environment:
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        raise ConfigError(f"FORECAST_ENV={name!r}: use {' or '.join(map(repr, ENVIRONMENTS))}") from None
