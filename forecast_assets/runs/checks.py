"""Checks on stored forecasts, read back from the tables (not from what a run meant to write).

Each returns a CheckOutcome; the Dagster layer turns them into asset check results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from forecast_assets.config import Settings
from forecast_assets.storage.base import ForecastStore


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def forecast_checks(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                    days: list[date]) -> list[CheckOutcome]:
    stored = store.stored_forecast_checks(commodity, model_name, settings.model_version, min(days), max(days))
    n_leak, paths, pts = stored.leakage_rows, stored.paths, stored.points
    wrong_count = paths[paths["n_paths"] != settings.n_paths]
    bad_values = int(paths["n_bad"].sum()) if len(paths) else 0

    have_pts = {d.date() if hasattr(d, "date") else d: (n, ok, r) for d, n, ok, r in pts.itertuples(index=False)}
    have_paths = {d.date() if hasattr(d, "date") else d for d in paths["forecast_start_date"]}
    asked = sorted(set(days))
    missing = [d for d in asked if d not in have_pts or have_pts[d][0] != settings.horizon]
    failed = [d for d in asked if d in have_pts and not have_pts[d][1]]
    no_paths = [d for d in asked if d in have_pts and have_pts[d][1] and d not in have_paths]

    def sample(ds):
        return ", ".join(str(d) for d in ds[:10]) + (" ..." if len(ds) > 10 else "")

    # A recomputation that failed left the earlier good vintage current: the run must say so.
    refailed = stored.failed_recomputations
    refailed_days = [d.date() if hasattr(d, "date") else d for d in refailed["forecast_start_date"]]

    return [
        CheckOutcome("no_data_leakage", n_leak == 0,
                     "no row has has_data_leakage set" if n_leak == 0 else f"{n_leak} rows flag data leakage",
                     {"rows_with_leakage": n_leak}),
        CheckOutcome("paths_valid", wrong_count.empty and bad_values == 0 and not no_paths,
                     f"every forecast day has exactly {settings.n_paths} paths of {settings.horizon} finite, "
                     f"positive prices" if wrong_count.empty and bad_values == 0 and not no_paths else
                     f"{len(wrong_count) + len(no_paths)} days with a wrong path count, {bad_values} paths with "
                     f"non-finite or non-positive prices",
                     {"days_wrong_path_count": len(wrong_count) + len(no_paths), "bad_paths": bad_values}),
        CheckOutcome("no_missing_days", not missing and not failed,
                     f"all {len(asked)} days asked are forecast" if not missing and not failed else
                     f"{len(missing)} days missing ({sample(missing)}), {len(failed)} days failed "
                     f"({sample(failed)}: {have_pts[failed[0]][2] if failed else ''})",
                     {"days_asked": len(asked), "days_missing": len(missing), "days_failed": len(failed)}),
        CheckOutcome("no_failed_recomputation", refailed.empty,
                     "no recomputation failed" if refailed.empty else
                     f"{len(refailed)} days' last recomputation failed ({sample(refailed_days)}: "
                     f"{refailed['reason'].iloc[0]}); their earlier good vintage stays current",
                     {"failed_recomputations": len(refailed)}),
    ]


def current_window_trained(store: ForecastStore, settings: Settings, model_name: str, today: date) -> CheckOutcome:
    """Every commodity has a trained model for the window containing `today`: the daily forecast needs it."""
    from forecast_assets.core.calendar import window_start

    w = window_start(today)
    missing = [c for c in settings.commodities
               if store.read_trained_model(c, model_name, settings.model_version, w) is None]
    return CheckOutcome(
        "current_window_trained", not missing,
        f"every commodity has a trained {model_name} model {settings.model_version} for window {w}" if not missing
        else f"no trained {model_name} model {settings.model_version} for window {w} (containing {today}) of "
             f"{', '.join(missing)}: today's forecast will fail; materialize trained_models/{model_name} partition"
             f"{'s' if len(missing) > 1 else ''} {', '.join(repr(f'{c}|{w}') for c in missing)}",
        {"window": str(w), "commodities_missing": len(missing)})
