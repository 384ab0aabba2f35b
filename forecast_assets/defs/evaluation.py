"""forecast_metadata (scores per forecast, commodity x day) and model_performance (the comparison)."""

import base64
from typing import Literal
from datetime import date, timedelta

import dagster as dg

from forecast_assets.core import comparison

from forecast_assets.core.models import REGISTRY
from forecast_assets.defs.failures import explained_failures
from forecast_assets.defs.forecasting import actuals_window
from forecast_assets.defs.launchers import BACKFILL
from forecast_assets.defs.partitions import Partitions, split_keys
from forecast_assets.defs.resources import ForecastResource
from forecast_assets.lib.tables import frame_table
from forecast_assets.storage.schema import metadata_horizons

CALIBRATION_BAND = (0.85, 0.995)  # 95% coverage outside this over the period: warn


def _steps(horizon: int) -> str:
    """'1, 7 and 14' for 14: the steps forecast_metadata scores."""
    hs = [str(h) for h in metadata_horizons(horizon)]
    return hs[0] if len(hs) == 1 else f"{', '.join(hs[:-1])} and {hs[-1]}"


def forecast_metadata_asset(parts: Partitions, horizon: int) -> dg.AssetsDefinition:
    key = dg.AssetKey("forecast_metadata")
    # Scores change when actuals arrive: rescore recent days whenever an upstream partition updates,
    # over the actuals' window and six days more (30 days for 14 steps).
    # (Not eager(): a model that was never trained must not block scoring the others.)
    condition = (dg.AutomationCondition.in_latest_time_window(timedelta(days=actuals_window(horizon) + 6))
                 & dg.AutomationCondition.any_deps_updated().since_last_handled()
                 & ~dg.AutomationCondition.any_deps_in_progress() & ~dg.AutomationCondition.in_progress())

    @dg.asset(
        key=key,
        partitions_def=parts.forecast,
        deps=["actuals", *(dg.AssetKey(["forecasts", m]) for m in (*REGISTRY, "ensemble"))],
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=condition,
        check_specs=[dg.AssetCheckSpec("no_leakage_in_scored", asset=key),
                     dg.AssetCheckSpec("no_missing_scored_days", asset=key)],
        group_name="evaluation",
        kinds={"python"},  # plus the environment's (definitions.py)
        pool="forecast_db",
        required_resource_keys={"forecast", BACKFILL},
        description="Scores of every model's forecast of the day once its prices are known: mae, rmse, mape, crps, "
                    f"coverage and sharpness (80/95), direction of the median from day 0, at {_steps(horizon)} steps; "
                    "energy and variogram scores of the whole paths. Rows in "
                    "commodity.forecast.forecast_metadata (per-step scores in forecast_scores).",
    )
    def _metadata(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        # Imported here: scoringrules brings scipy (~0.3 s), which no run but a scoring one needs.
        from forecast_assets.runs import scoring

        store = context.resources.forecast.store()
        totals = {"days": 0, "forecasts_scored": 0, "forecasts_complete": 0}
        leaks = missing = 0
        for commodity, days in split_keys(context.partition_keys).items():
            with explained_failures():
                r = scoring.score_days(store, commodity, days, log=context.log.info)
            totals = {k: totals[k] + getattr(r, k) for k in totals}
            leaks += store.leaking_scored(commodity, days[0], days[-1])
            missing += len(store.missing_scored_days(commodity, days[0], days[-1]))
        return dg.MaterializeResult(metadata=totals, check_results=[
            dg.AssetCheckResult(check_name="no_leakage_in_scored", passed=leaks == 0,
                                description=f"{leaks} scored forecasts flag data leakage",
                                metadata={"forecasts_with_leakage": leaks}),
            dg.AssetCheckResult(check_name="no_missing_scored_days", passed=missing == 0,
                                description=f"{missing} forecasts with known actuals have no scores",
                                metadata={"missing": missing}),
        ])

    return _metadata


class PerformanceConfig(dg.Config):
    start: str = ""  # YYYY-MM-DD; empty: the first scored day
    end: str = ""  # YYYY-MM-DD; empty: the last scored day
    scored_as: Literal["latest", "first"] = "latest"  # "latest": each day's latest vintage; "first": as first published


# The comparison's columns in the UI's table: (column of model_performance, its name there, what it is).
_TABLE_COLUMNS = [
    ("commodity", "commodity", None), ("horizon", "step", "forecast step (session) scored"),
    ("model_name", "model", None), ("model_version", "version", None), ("n_forecasts", "n", "forecasts scored"),
    ("crps", "crps", "mean CRPS (lower is better)"),
    ("crps_skill_vs_naive", "crps_skill_vs_naive", "1 - CRPS / naive's CRPS on the days both forecast"),
    ("dm_pvalue", "dm_pvalue", "Diebold-Mariano test of the CRPS difference with naive"),
    ("mae", "mae", None), ("rmse", "rmse", None), ("mape", "mape", "percent"),
    ("coverage_50", "coverage_50", "share of realized prices inside the 50% band"),
    ("coverage_80", "coverage_80", "inside the 80% band"), ("coverage_95", "coverage_95", "inside the 95% band"),
    ("sharpness_95", "sharpness_95", "mean width of the 95% band"),
    ("directional_accuracy", "directional_accuracy", "median's direction from the last known close"),
    ("energy_score", "energy_score", "whole-path score of the H-step paths (same on every step)"),
    ("energy_skill_vs_naive", "energy_skill_vs_naive", None),
]


def comparison_table(perf, horizons) -> dg.TableMetadataValue:
    """The comparison at the steps forecast_metadata scores, one row per commodity, step, model and version."""
    cols = [c for c in _TABLE_COLUMNS if c[0] in perf.columns]
    p = perf[perf["horizon"].isin(horizons)].sort_values(["commodity", "horizon", "crps"])
    p = p[[c for c, _, _ in cols]].rename(columns={c: n for c, n, _ in cols})
    p = p.round({n: 4 for _, n, _ in cols if p[n].dtype.kind == "f"})
    return frame_table(p, {n: d for _, n, d in cols if d})


def _image_md(path) -> str:
    data = base64.b64encode(open(path, "rb").read()).decode()
    return f"![{path.name}](data:image/png;base64,{data})"


@dg.asset(
    key="model_performance",
    deps=["forecast_metadata"],
    group_name="evaluation",
    kinds={"python"},  # plus the environment's (definitions.py)
    pool="forecast_db",
    automation_condition=dg.AutomationCondition.on_cron("0 9 * * *", "America/Los_Angeles"),
    check_specs=[dg.AssetCheckSpec("calibration_95", asset="model_performance")],
    description="One row per commodity, model, version and horizon over a period: scores, CRPS skill against "
                "naive and a Diebold-Mariano test of the difference. commodity.forecast.model_performance; "
                "pictures (fan charts, CRPS by horizon, PIT histograms) in the metadata.",
)
def model_performance(context: dg.AssetExecutionContext, config: PerformanceConfig,
                      forecast: ForecastResource) -> dg.MaterializeResult:
    # Imported here: matplotlib and scoringrules (~1 s of every process that loads the code location).
    from forecast_assets.runs import pictures, scoring

    store, settings = forecast.store(), forecast.settings
    perf = scoring.model_performance(store, date.fromisoformat(config.start) if config.start else None,
                                      date.fromisoformat(config.end) if config.end else None,
                                      scored_as=config.scored_as)
    written = pictures.write_pictures(store, settings.plot_dir, perf)
    horizons = metadata_horizons(settings.horizon)
    context.log.info("\n" + comparison.comparison_table(perf, horizons))
    bad = comparison.miscalibrated(perf, *CALIBRATION_BAND)
    md = {f"picture_{k}": dg.MetadataValue.md(_image_md(p)) for k, p in written.items()
          if k in ("crps_by_horizon", "pit_histograms") or k.startswith("fan_")}
    return dg.MaterializeResult(
        metadata={
            "rows": len(perf),
            "scored_as": config.scored_as,
            # A table the UI sorts and filters (the text version is in the run log and `forecast-assets report`).
            "comparison": comparison_table(perf, horizons),
            "pictures_dir": dg.MetadataValue.path(str(settings.plot_dir.resolve())),
            **md,
        },
        check_results=[dg.AssetCheckResult(
            check_name="calibration_95", passed=bad.empty, severity=dg.AssetCheckSeverity.WARN,
            description="95% coverage within 85%..99.5% for every commodity, model and version" if bad.empty else
            "95% coverage outside 85%..99.5%: " + "; ".join(
                f"{r.commodity} {r.model_name} {r.model_version}: {100 * r.coverage_95:.1f}%" for r in bad.itertuples()),
            metadata={"miscalibrated": len(bad)},
        )],
    )


