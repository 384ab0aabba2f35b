"""trained_models/<model>: one asset per registered model, partitioned by commodity x semiannual window,
and a check that the window containing today is trained before the 08:00 forecast needs it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from forecast_assets.runs import checks, training
from forecast_assets.defs.failures import explained_failures
from forecast_assets.defs.input import UNIFIED_KEY
from forecast_assets.defs.launchers import TRAINING
from forecast_assets.defs.partitions import TIMEZONE, Partitions, split_keys
from forecast_assets.defs.resources import ForecastResource


def trained_model_asset(model_name: str, parts: Partitions) -> dg.AssetsDefinition:
    @dg.asset(
        key=["trained_models", model_name],
        partitions_def=parts.model,
        deps=[UNIFIED_KEY],
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="trained_models",
        kinds={"python"},  # plus the environment's (definitions.py)
        pool="forecast_db",
        required_resource_keys={"forecast", TRAINING},
        description=f"{model_name} fitted on all data before the window's start (1 Jan or 1 Jul); serves the "
                    f"forecast days inside the window. Rows in commodity.forecast.trained_models.",
    )
    def _train(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        forecast: ForecastResource = context.resources.forecast
        store, settings = forecast.store(), forecast.settings
        results, failed = [], {}
        with explained_failures():
            for commodity, windows in split_keys(context.partition_keys).items():
                try:
                    results += training.train_windows(store, settings, model_name, commodity, windows,
                                                      created_by=context.run_id, log=context.log.info)
                except training.WindowsFailed as exc:  # the other windows are written: say which failed
                    results += exc.trained
                    failed.update(exc.failures)
        if failed:
            lines = "\n".join(f"{k}: {v}" for k, v in failed.items())
            raise dg.Failure(
                description=f"{len(failed)} of {len(failed) + len(results)} windows of {model_name} could not be "
                            f"trained (the other {len(results)} were written):\n{lines}",
                metadata={"failed_windows": sorted(failed), "windows_trained": len(results)})
        return dg.MaterializeResult(metadata={
            "windows_trained": len(results),
            "last_training_cutoff": str(max(r.training_cutoff_date for r in results)),
            "max_model_kb": round(max(r.size_bytes for r in results) / 1e3, 1),
            "seconds": round(sum(r.seconds for r in results), 2),
        })

    return _train



def current_window_check(model_name: str) -> dg.AssetChecksDefinition:
    """Fails for the commodities whose window containing today (in the schedules' time zone) has no trained
    model: evaluated at 07:00, an hour before daily_inference would fail on it, and when the model is trained."""

    @dg.asset_check(asset=dg.AssetKey(["trained_models", model_name]), name="current_window_trained", blocking=False,
                    automation_condition=dg.AutomationCondition.cron_tick_passed("0 7 * * *", TIMEZONE)
                    | dg.AutomationCondition.any_deps_updated(),
                    description="The window containing today is trained for every commodity (else the daily "
                                "forecast fails).")
    def _check(forecast: ForecastResource) -> dg.AssetCheckResult:
        o = checks.current_window_trained(forecast.store(), forecast.settings, model_name,
                                          datetime.now(ZoneInfo(TIMEZONE)).date())
        return dg.AssetCheckResult(passed=o.passed, severity=dg.AssetCheckSeverity.ERROR,
                                   description=o.description, metadata=o.metadata)

    return _check
