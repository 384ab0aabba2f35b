"""Checks on stored forecasts, read back from the tables (not from what a run meant to write).

Each returns a CheckOutcome; the Dagster layer turns them into asset check results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from forecast_assets.config import Settings
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.schema import day_columns, qualified


def _good(horizon: int) -> str:
    """True when every day column holds a finite positive price. NaN compares greater than every
    number in DuckDB and Spark SQL, so this is false for NULL, NaN, +-inf and non-positive values."""
    return " AND ".join(f"({c} > 0 AND {c} < CAST('Infinity' AS FLOAT))" for c in day_columns(horizon))


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def forecast_checks(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                    days: list[date]) -> list[CheckOutcome]:
    key = [commodity, model_name, settings.model_version, min(days), max(days)]
    leak = store.query(
        f"SELECT (SELECT COUNT(*) FROM {qualified('distributions')} WHERE has_data_leakage AND commodity = ? "
        f"AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?) + "
        f"(SELECT COUNT(*) FROM {qualified('point_forecasts')} WHERE has_data_leakage AND commodity = ? "
        f"AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?) AS n", key + key)
    n_leak = int(leak["n"].iloc[0])

    paths = store.query(
        f"SELECT forecast_start_date, COUNT(*) AS n_paths, "
        f"SUM(CASE WHEN {_good(settings.horizon)} THEN 0 ELSE 1 END) AS n_bad "
        f"FROM {qualified('distributions')} WHERE path_id > 0 AND commodity = ? AND model_name = ? "
        f"AND model_version = ? AND forecast_start_date BETWEEN ? AND ? GROUP BY forecast_start_date", key)
    wrong_count = paths[paths["n_paths"] != settings.n_paths]
    bad_values = int(paths["n_bad"].sum()) if len(paths) else 0

    pts = store.query(
        f"SELECT forecast_start_date, COUNT(*) AS n_points, "
        f"MIN(CASE WHEN model_success THEN 1 ELSE 0 END) AS ok, MAX(failure_reason) AS reason "
        f"FROM {qualified('point_forecasts')} WHERE commodity = ? AND model_name = ? AND model_version = ? "
        f"AND forecast_start_date BETWEEN ? AND ? GROUP BY forecast_start_date", key)
    have_pts = {d.date() if hasattr(d, "date") else d: (n, ok, r) for d, n, ok, r in pts.itertuples(index=False)}
    have_paths = {d.date() if hasattr(d, "date") else d for d in paths["forecast_start_date"]}
    asked = sorted(set(days))
    missing = [d for d in asked if d not in have_pts or have_pts[d][0] != settings.horizon]
    failed = [d for d in asked if d in have_pts and not have_pts[d][1]]
    no_paths = [d for d in asked if d in have_pts and have_pts[d][1] and d not in have_paths]

    def sample(ds):
        return ", ".join(str(d) for d in ds[:10]) + (" ..." if len(ds) > 10 else "")

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
    ]


def leaking_scored(store: ForecastStore, commodity: str, start: date, end: date) -> int:
    """Scored forecasts (metadata rows) whose stored rows flag data leakage."""
    q = store.query(
        f"SELECT COUNT(*) AS n FROM {qualified('forecast_metadata')} m WHERE m.commodity = ? "
        f"AND m.forecast_start_date BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM {qualified('point_forecasts')} p "
        f"WHERE p.commodity = m.commodity AND p.model_name = m.model_name AND p.model_version = m.model_version "
        f"AND p.forecast_start_date = m.forecast_start_date AND p.has_data_leakage)", [commodity, start, end])
    return int(q["n"].iloc[0])


def missing_scored_days(store: ForecastStore, commodity: str, start: date, end: date) -> pd.DataFrame:
    """Successful forecasts whose actuals (every step of the store's horizon) are all stored but which have
    no complete score row."""
    h = int(store.horizon)
    return store.query(
        f"SELECT p.model_name, p.model_version, p.forecast_start_date FROM {qualified('point_forecasts')} p "
        f"LEFT JOIN {qualified('forecast_metadata')} m ON m.commodity = p.commodity AND m.model_name = p.model_name "
        f"AND m.model_version = p.model_version AND m.forecast_start_date = p.forecast_start_date "
        f"AND m.actuals_available AND m.crps_{h}d IS NOT NULL "
        f"WHERE p.commodity = ? AND p.forecast_start_date BETWEEN ? AND ? AND p.model_success "
        f"GROUP BY p.model_name, p.model_version, p.forecast_start_date "
        f"HAVING COUNT(p.actual_close) = ? AND COUNT(m.forecast_start_date) = 0", [commodity, start, end, h])
