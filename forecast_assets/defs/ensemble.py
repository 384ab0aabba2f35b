"""trained_models/ensemble (commodity x window: its weights) and forecasts/ensemble (commodity x day) (issue 15).

The graph says what each reads: a window's weights read the members' forecasts and the actuals of the days of
the TRAINING_WINDOWS windows before it (a TimeWindowPartitionMapping from the semiannual window to those
days: start_offset=-2, end_offset=-1, counted in the downstream's semiannual partitions); a day's ensemble
forecast reads the members' forecasts of the same day and its window's weights (day_to_window). So the
training and forecasting jobs, backfills and automation take the ensemble like any model: it is in the
trained_models group and has the forecasts/ key prefix, and runs after what it reads.
"""

import dagster as dg

from forecast_assets.core import ensemble as ens
from forecast_assets.defs.failures import explained_failures
from forecast_assets.defs.forecasting import CHECK_NAMES, ForecastRunConfig, _recent, REVISION_DAYS, check_results
from forecast_assets.defs.input import UNIFIED_KEY
from forecast_assets.defs.launchers import BACKFILL, TRAINING
from forecast_assets.defs.partitions import Partitions, split_keys
from forecast_assets.defs.resources import ForecastResource
from forecast_assets.lib.partition_metadata import day_metadata, report_committed
from forecast_assets.runs import checks

KEY = dg.AssetKey(["forecasts", ens.NAME])
WEIGHTS_KEY = dg.AssetKey(["trained_models", ens.NAME])


def window_to_training_days() -> dg.MultiPartitionMapping:
    """A window (commodity x window) -> the days (commodity x date) of the TRAINING_WINDOWS windows before it.

    Dagster applies a downstream-to-upstream offset in the downstream's partitions (here semiannual windows),
    then takes the upstream (daily) partitions inside: [start - 2 windows, start - 1 window's end)."""
    return dg.MultiPartitionMapping({
        "commodity": dg.DimensionPartitionMapping("commodity", dg.IdentityPartitionMapping()),
        "date": dg.DimensionPartitionMapping("window", dg.TimeWindowPartitionMapping(
            start_offset=-ens.TRAINING_WINDOWS, end_offset=-1, allow_nonexistent_upstream_partitions=True)),
    })


def ensemble_weights_asset(parts: Partitions) -> dg.AssetsDefinition:
    training_days = window_to_training_days()

    @dg.asset(
        key=WEIGHTS_KEY,
        partitions_def=parts.model,
        deps=[*(dg.AssetDep(["forecasts", m], partition_mapping=training_days) for m in ens.MEMBERS),
              dg.AssetDep("actuals", partition_mapping=training_days)],
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="trained_models",
        kinds={"python"},  # plus the environment's (definitions.py)
        pool="forecast_db",
        required_resource_keys={"forecast", TRAINING},
        description=f"Weights of the ensemble of {', '.join(ens.MEMBERS)} for the window: minimizing the CRPS of "
                    f"their combination ({ens.DEFAULT_METHOD}) over the forecast days of the {ens.TRAINING_WINDOWS} "
                    f"windows before it whose every step's actual is a session before the window's start; equal "
                    f"weights, said so, with fewer than {ens.MIN_TRAINING_DAYS} such days. JSON rows in "
                    f"commodity.forecast.trained_models (model_name 'ensemble').",
    )
    def _weights(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        forecast: ForecastResource = context.resources.forecast
        store, settings = forecast.store(), forecast.settings
        from forecast_assets.runs import ensemble as runs_ensemble  # in the step: scipy is not for every load

        results = []
        with explained_failures():
            for commodity, windows in split_keys(context.partition_keys).items():
                results += runs_ensemble.train_weights(store, settings, commodity, windows,
                                                       created_by=context.run_id, log=context.log.info)
        return dg.MaterializeResult(metadata={
            "windows": len(results),
            "equal_weights": sum(r.equal_weights for r in results),
            "last_weights": dg.MetadataValue.json(results[-1].weights) if results else None,
            "seconds": round(sum(r.seconds for r in results), 2),
        })

    return _weights


def ensemble_forecast_asset(parts: Partitions, horizon: int) -> dg.AssetsDefinition:
    @dg.asset(
        key=KEY,
        partitions_def=parts.forecast,
        deps=[*(dg.AssetKey(["forecasts", m]) for m in ens.MEMBERS),  # the same day (identity)
              dg.AssetDep(WEIGHTS_KEY, partition_mapping=parts.day_to_window), UNIFIED_KEY],
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=_recent(REVISION_DAYS),
        check_specs=[dg.AssetCheckSpec(n, asset=KEY) for n in CHECK_NAMES],
        group_name="forecasts",
        kinds={"python"},  # plus the environment's (definitions.py)
        pool="forecast_db",
        required_resource_keys={"forecast", BACKFILL},
        description=f"The ensemble: 2,000 price paths x {horizon} sessions per day combined from the members' "
                    f"paths of the day with its window's weights (trained_models/ensemble), and its point "
                    f"forecasts. A day a member has no good forecast of is a failed row naming it.",
    )
    def _forecast(context: dg.AssetExecutionContext, config: ForecastRunConfig):
        forecast: ForecastResource = context.resources.forecast
        store, settings = forecast.store(), forecast.settings
        from forecast_assets.runs import ensemble as runs_ensemble  # in the step: scipy is not for every load

        outcomes: dict[str, list[checks.CheckOutcome]] = {}
        for commodity, days in split_keys(context.partition_keys).items():
            with explained_failures():
                r = runs_ensemble.forecast_days(store, settings, commodity, days, force=config.force,
                                                log=context.log.info)
            context.log.info(f"ensemble {commodity}: {r.days_written} days written, {r.days_skipped} skipped, "
                             f"{r.days_failed} failed")
            yield from report_committed(context, KEY, commodity,
                                        day_metadata(store, ens.NAME, settings.model_version, commodity, days,
                                                     settings.horizon))
            for o in checks.forecast_checks(store, settings, ens.NAME, commodity, days):
                outcomes.setdefault(o.name, []).append(o)
        yield dg.MaterializeResult(check_results=check_results(outcomes))

    return _forecast
