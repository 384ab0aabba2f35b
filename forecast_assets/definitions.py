"""The Dagster code location: `dagster dev -m forecast_assets.definitions` or workspace.yaml."""

from __future__ import annotations

import dagster as dg

from forecast_assets.config import Settings
from forecast_assets.core.models import REGISTRY
from forecast_assets.defs.evaluation import forecast_metadata_asset, model_performance
from forecast_assets.defs.executor import local_executor
from forecast_assets.defs.forecasting import actuals_asset, forecast_asset
from forecast_assets.defs.input import new_trading_days, unified_data, valid_rows
from forecast_assets.defs.launchers import spark_resource, step_launchers
from forecast_assets.defs.partitions import SEMIANNUAL_CRON, build_partitions
from forecast_assets.defs.resources import ForecastResource
from forecast_assets.defs.schedules import build_jobs, build_schedules
from forecast_assets.defs.training import trained_model_asset
from forecast_assets.lib import dagster_patches


def build_definitions(settings: Settings) -> dg.Definitions:
    parts = build_partitions(settings)
    train_job, infer_job = build_jobs(parts)
    return dg.Definitions(
        assets=[
            unified_data,
            *(trained_model_asset(m, parts) for m in REGISTRY),
            *(forecast_asset(m, parts) for m in REGISTRY),
            actuals_asset(parts),
            forecast_metadata_asset(parts),
            model_performance,
        ],
        asset_checks=[new_trading_days, valid_rows],
        jobs=[train_job, infer_job],
        schedules=build_schedules(parts, train_job, infer_job),
        sensors=[dg.AutomationConditionSensorDefinition(
            "forecast_automation", target=dg.AssetSelection.all(include_sources=True),
            default_status=dg.DefaultSensorStatus.RUNNING)],
        resources={"forecast": ForecastResource.from_settings(settings), **step_launchers(settings),
                   **spark_resource(settings)},
        # Locally one process per run: steps share the embedded DuckDB file instead of fighting over
        # its lock, and a run first frees the pool slots of runs that were killed (defs/executor.py).
        # On Databricks each heavy step is its own cluster job: run them side by side.
        executor=dg.multiprocess_executor if settings.env == "databricks" else local_executor,
    )


# Every process that loads this code location (CLI runs, run workers) writes Dagster's per-partition
# events in batches (~35,000 for a backfill of 2018..today) and maps days to semiannual windows from a
# list (~8 s less per forecast step over 2018..2025). Refuses a Dagster version they were not tested on.
dagster_patches.install(window_crons=[SEMIANNUAL_CRON])
defs = build_definitions(Settings.from_env())
