"""forecasts/<model> (commodity x day, reading its window's trained model) and actuals."""

from datetime import timedelta

import dagster as dg

from forecast_assets.core.calendar import span_days
from forecast_assets.core.models import REGISTRY
from forecast_assets.runs import actuals, checks, forecasting, spark_engine
from forecast_assets.defs.failures import explained_failures
from forecast_assets.defs.input import UNIFIED_KEY
from forecast_assets.defs.launchers import BACKFILL, SPARK
from forecast_assets.defs.partitions import Partitions, split_keys
from forecast_assets.defs.resources import ForecastResource
from forecast_assets.lib import streaming
from forecast_assets.lib.partition_metadata import day_metadata, report_committed

# Days back that new input re-plans automatically: a revision within five weeks is re-forecast without
# anyone asking; the unchanged days cost one fingerprint each (skipped), not a forecast.
REVISION_DAYS = 35
CHECK_NAMES = ("no_data_leakage", "paths_valid", "no_missing_days", "no_failed_recomputation")


class ForecastRunConfig(dg.Config):
    force: bool = False  # recompute days even when complete rows from the same trained model exist


def _recent(days: int) -> dg.AutomationCondition:
    """eager(), but over the last `days` days instead of only the newest partition."""
    return dg.AutomationCondition.eager().replace(
        "in_latest_time_window", dg.AutomationCondition.in_latest_time_window(timedelta(days=days)))


def check_results(outcomes: dict[str, list[checks.CheckOutcome]]) -> list[dg.AssetCheckResult]:
    """One result per check over every commodity of the run: passed if all passed, counts summed."""
    return [dg.AssetCheckResult(
        check_name=name, passed=all(o.passed for o in os_),
        description="; ".join(o.description for o in os_),
        metadata={k: sum(o.metadata.get(k, 0) for o in os_) for k in os_[0].metadata})
        for name, os_ in outcomes.items()]


def actuals_window(horizon: int) -> int:
    """Days back whose actuals are refreshed when input lands: a day's last step is up to span_days(H)
    calendar days after it, plus five days for a late feed (24 for 14 steps)."""
    return span_days(horizon) + 5


def _relay(reports, context: dg.AssetExecutionContext, key: dg.AssetKey, commodity: str):
    """The worker's reports on the step's thread: log lines to the run log, committed days as
    materializations. Returns what the worker returned."""
    while True:
        try:
            kind, item = next(reports)
        except StopIteration as stop:
            return stop.value
        if kind == "log":
            context.log.info(item)
        else:
            yield from report_committed(context, key, commodity, item)


def forecast_asset(model_name: str, parts: Partitions, horizon: int) -> dg.AssetsDefinition:
    key = dg.AssetKey(["forecasts", model_name])

    @dg.asset(
        key=key,
        partitions_def=parts.forecast,
        deps=[dg.AssetDep(["trained_models", model_name], partition_mapping=parts.day_to_window), UNIFIED_KEY],
        backfill_policy=dg.BackfillPolicy.single_run(),
        # Newly arrived or revised input (unified_data's version hashes every row): ask for the last
        # REVISION_DAYS days; the run computes only the new days and those whose input fingerprint changed
        # (a late feed, a revised close), as a new vintage, and skips the rest. Older revisions: a rerun.
        automation_condition=_recent(REVISION_DAYS),
        check_specs=[dg.AssetCheckSpec(n, asset=key) for n in CHECK_NAMES],
        group_name="forecasts",
        kinds={"python"},  # plus the environment's (definitions.py)
        pool="forecast_db",
        required_resource_keys={"forecast", BACKFILL, SPARK},
        description=f"{model_name}: 2,000 price paths x {horizon} sessions and {horizon} point forecasts per day, "
                    f"from the data before the day and the model of the day's window. Rows in "
                    f"commodity.forecast.distributions and commodity.forecast.point_forecasts. Each day's "
                    f"materialization shows that day: status, cutoff, median and 95% band at steps 1 and {horizon}.",
    )
    def _forecast(context: dg.AssetExecutionContext, config: ForecastRunConfig):
        # A generator: each day's materialization is written as soon as its window is committed, with that
        # day's own numbers, so a long backfill's partitions turn green as it goes (docs/decisions.md,
        # "Per-day materializations"); the run's totals go to the run log, not to the days.
        forecast: ForecastResource = context.resources.forecast
        store, settings = forecast.store(), forecast.settings
        totals: dict[str, int] = {"days_asked": 0, "days_written": 0, "days_skipped": 0, "days_failed": 0,
                                  "rows_distributions": 0, "rows_points": 0, "failed_recomputations": 0}
        outcomes: dict[str, list[checks.CheckOutcome]] = {}

        def metadata(commodity, days):
            return day_metadata(store, model_name, settings.model_version, commodity, days, settings.horizon)

        for commodity, days in split_keys(context.partition_keys).items():
            context.log.info(f"{model_name} {commodity}: {len(days)} days from {days[0]} to {days[-1]}")
            spark = getattr(context.resources, SPARK)
            with explained_failures():
                if spark is not None and len(days) >= settings.spark_min_days:
                    # Large backfill: fan out over Spark; on Databricks rows go to Delta through Spark.
                    # Its groups commit in parallel on the cluster: the days are reported once it returns.
                    n = spark_engine.backfill(spark.spark_session, store, settings, [model_name], {commodity: days},
                                              force=config.force, log=context.log.info,
                                              delta_catalog=forecast.delta_catalog)
                    totals["days_asked"] += len(days)
                    totals["days_written"] += n
                    totals["days_skipped"] += len(days) - n
                    yield from report_committed(context, key, commodity, metadata(commodity, days))
                else:
                    def run(report, commodity=commodity, days=days):
                        return forecasting.forecast_days(
                            store, settings, model_name, commodity, days, force=config.force,
                            log=lambda m: report(("log", m)),
                            on_commit=lambda done: report(("days", metadata(commodity, done))))

                    r = yield from _relay(streaming.stream(run), context, key, commodity)
                    for k in totals:
                        totals[k] += getattr(r, k)
            for o in checks.forecast_checks(store, settings, model_name, commodity, days):
                outcomes.setdefault(o.name, []).append(o)
        # The run's totals belong to the run, not to any one day: they go to its log.
        context.log.info(f"{model_name} run totals: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
        # The step's own materialization of every day (with each day's metadata, added as it committed, and the
        # data version): assets downstream in the same run wait for it.
        yield dg.MaterializeResult(check_results=check_results(outcomes))

    return _forecast


def actuals_asset(parts: Partitions, horizon: int) -> dg.AssetsDefinition:
    @dg.asset(
        key="actuals",
        partitions_def=parts.forecast,
        # After the forecasts whose rows it fills, so a run that selects both orders them.
        deps=[UNIFIED_KEY, *(dg.AssetKey(["forecasts", m]) for m in REGISTRY)],
        backfill_policy=dg.BackfillPolicy.single_run(),
        # Closes for a day's steps arrive over the following span_days(H) calendar days.
        # Not blocked by a model never trained (its forecasts missing): the others still get their actuals.
        automation_condition=_recent(actuals_window(horizon)).without(~dg.AutomationCondition.any_deps_missing())
        .with_label("eager over recent days, whichever models are trained"),
        group_name="forecasts",
        kinds={"python"},  # plus the environment's (definitions.py)
        pool="forecast_db",
        required_resource_keys={"forecast", BACKFILL},
        description=f"Realized closes on each forecast day's {horizon} steps: fills point_forecasts.actual_close and "
                    "the path_id 0 (is_actuals) rows of every model's distributions once all steps are known.",
    )
    def _actuals(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        store, settings = context.resources.forecast.store(), context.resources.forecast.settings
        complete = partial = asked = 0
        for commodity, days in split_keys(context.partition_keys).items():
            with explained_failures():
                c, p = actuals.attach_actuals(store, commodity, days, settings.calendar(commodity),
                                              log=context.log.info)
            complete, partial, asked = complete + c, partial + p, asked + len(days)
        return dg.MaterializeResult(metadata={"days_asked": asked, "days_complete": complete,
                                              "days_partly_known": partial})

    return _actuals
