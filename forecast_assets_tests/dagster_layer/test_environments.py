"""One table says what FORECAST_ENV changes; settings reach a step through the resource whole."""

import dataclasses
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from forecast_assets.config import ENVIRONMENTS, ConfigError, Settings
from forecast_assets.defs.environments import ENVIRONMENTS as TABLE
from forecast_assets.defs.environments import environment
from forecast_assets.defs.resources import ForecastResource
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import CATALOG


def test_every_environment_has_an_entry_and_every_store_opens_from_settings():
    import importlib

    assert set(TABLE) == set(ENVIRONMENTS)  # a new environment: its name in config and its entry here
    for name, env in TABLE.items():
        module, cls = env.store.split(":")
        store_cls = getattr(importlib.import_module(module), cls)
        assert issubclass(store_cls, ForecastStore) and "from_settings" in vars(store_cls), name
        assert env.kinds and isinstance(env.executor, dg.ExecutorDefinition)
    with pytest.raises(ConfigError, match="FORECAST_ENV='staging'"):
        environment("staging")
    assert Settings().databricks_catalog == CATALOG


def test_the_resource_carries_every_setting_and_gives_them_back_unchanged(tmp_path):
    assert set(ForecastResource.model_fields) == {f.name for f in dataclasses.fields(Settings)}
    s = dataclasses.replace(
        Settings.from_env({"FORECAST_ENV": "databricks", "FORECAST_DATABRICKS_CATALOG": "fc_dev",
                           "FORECAST_DATABRICKS_CLUSTER_ID": "1121-061338-abcd"}),
        duckdb_path=tmp_path / "f.duckdb", commodities=("Cocoa", "Coffee"), start_date=date(2020, 7, 1),
        n_paths=300, spark="local")
    resource = ForecastResource.from_settings(s)
    assert resource.settings == s and isinstance(resource.settings.databricks_deploy_dir, Path)
    assert resource.delta_catalog == "fc_dev"
    # Run config replaces them for a run (all fields); nothing is read from the environment again.
    config = {name: getattr(resource, name) for name in ForecastResource.model_fields} | {"n_paths": 50}
    with dg.build_resources({"forecast": resource}, resource_config={"forecast": {"config": config}}) as r:
        assert r.forecast.settings == dataclasses.replace(s, n_paths=50)


def test_the_local_store_is_the_duckdb_file_of_the_settings(settings):
    resource = ForecastResource.from_settings(settings)
    store = resource.store()
    assert isinstance(store, DuckDBStore) and store.path == settings.duckdb_path and settings.duckdb_path.is_file()
    assert resource.delta_catalog is None


def test_local_kinds_are_duckdb(defs):
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["forecasts", "naive"])).kinds == {"python", "duckdb"}
    assert graph.get(dg.AssetKey("model_performance")).kinds == {"python", "duckdb"}
    assert graph.get(dg.AssetKey("unified_data")).kinds == {"duckdb"}
    assert defs.resolve_job_def("train_models").executor_def.name == "in_process_recovering"
