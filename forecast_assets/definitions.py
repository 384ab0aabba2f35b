"""The Dagster code location: `dagster dev -m forecast_assets.definitions` or workspace.yaml."""

from __future__ import annotations

import dagster as dg

from forecast_assets.config import Settings
from forecast_assets.core.models import REGISTRY
from forecast_assets.defs.ensemble import ensemble_forecast_asset, ensemble_weights_asset
from forecast_assets.defs.environments import Environment, environment
from forecast_assets.defs.evaluation import forecast_metadata_asset, model_performance
from forecast_assets.defs.explorer_link import with_explorer_link
from forecast_assets.defs.forecasting import actuals_asset, forecast_asset
from forecast_assets.defs.input import new_trading_days, unified_data, valid_rows
from forecast_assets.defs.launchers import SPARK
from forecast_assets.defs.partitions import SEMIANNUAL_CRON, build_partitions
from forecast_assets.defs.resources import ForecastResource
from forecast_assets.defs.schedules import build_jobs, build_schedules
from forecast_assets.defs.training import current_window_check, trained_model_asset
from forecast_assets.lib import dagster_patches, gc_freeze


def build_resources(settings: Settings) -> dict:
    """Every resource: the settings and their store, then the environment's step launchers and Spark."""
    env = environment(settings.env)
    return {"forecast": ForecastResource.from_settings(settings), **env.step_launchers(settings),
            **env.spark(settings)}


def _with_kinds(asset: dg.AssetsDefinition, env: Environment) -> dg.AssetsDefinition:
    """The environment's kinds on an asset (where its tables are; Spark where it fans out on Spark)."""
    kinds = env.kinds | (env.spark_kinds if SPARK in asset.required_resource_keys else frozenset())
    return asset.map_asset_specs(lambda spec: spec.merge_attributes(kinds=set(kinds)))


def build_definitions(settings: Settings) -> dg.Definitions:
    env = environment(settings.env)
    parts = build_partitions(settings)
    train_job, infer_job = build_jobs(parts)
    assets = [
        unified_data,
        *(trained_model_asset(m, parts) for m in REGISTRY),
        *(forecast_asset(m, parts, settings.horizon) for m in REGISTRY),
        ensemble_weights_asset(parts),  # issue 15: after the members' forecasts and actuals it learns from
        ensemble_forecast_asset(parts, settings.horizon),
        actuals_asset(parts, settings.horizon),
        forecast_metadata_asset(parts, settings.horizon),
        model_performance,
    ]
    return dg.Definitions(
        assets=[with_explorer_link(_with_kinds(a, env), settings.explorer_url) for a in assets],
        asset_checks=[new_trading_days, valid_rows, *(current_window_check(m) for m in (*REGISTRY, "ensemble"))],
        jobs=[train_job, infer_job],
        schedules=build_schedules(parts, train_job, infer_job),
        sensors=[dg.AutomationConditionSensorDefinition(
            "forecast_automation", target=dg.AssetSelection.all(include_sources=True),
            default_status=dg.DefaultSensorStatus.RUNNING)],
        resources=build_resources(settings),
        executor=env.executor,
    )


# Every process that loads this code location (CLI runs, run workers) writes Dagster's per-partition
# events in batches (~35,000 for a backfill of 2018..today) and maps days to semiannual windows from a
# list (~8 s less per forecast step over 2018..2025). Refuses a Dagster version they were not tested on.
dagster_patches.install(window_crons=[SEMIANNUAL_CRON])
defs = build_definitions(Settings.from_env())
# The collector skips the ~250,000 objects loaded so far: ~1 s less CPU per run process (lib/gc_freeze.py).
gc_freeze.install()
