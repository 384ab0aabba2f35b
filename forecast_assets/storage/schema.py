"""The tables of docs/contract.md, as data, so every backend creates the same columns.

Two tables have columns per step of the forecast horizon (Settings.horizon):
distributions (day_1..day_H) and forecast_metadata (metrics at the steps of
metadata_horizons(H)). Their columns come from functions of the horizon, never
a module constant, so nothing can quietly assume 14.

Types are the ones both DuckDB and Databricks SQL accept (STRING, DOUBLE,
FLOAT, INT, DATE, TIMESTAMP, BOOLEAN). Columns marked "extra" are ours, beyond
the contract: training_cutoff_date and model_fingerprint say which trained
model made a forecast (resume skips a day only if it is complete and came
from the same model), failure_reason says why model_success is FALSE, and
trained_models.window_start names the window a model serves, so a missing
model is never silently replaced by an older one.

ADDED lists the columns added to a table after it first shipped. They come
last in the table's columns, and ensure_schema adds any a stored table lacks
(ALTER TABLE ... ADD COLUMN; old rows read NULL), so a database made before
keeps working and its column order matches a new one (Databricks inserts by
position). A new column goes at the end of ADDED[table], never in the middle.
"""

from __future__ import annotations

CATALOG = "commodity"
SILVER = "silver"
FORECAST = "forecast"

WEATHER = ["temp_max_c", "temp_min_c", "temp_mean_c", "precipitation_mm", "rain_mm", "snowfall_cm",
           "humidity_mean_pct", "wind_speed_max_kmh"]

UNIFIED_DATA = [
    ("date", "DATE"), ("is_trading_day", "INT"), ("commodity", "STRING"),
    ("open", "DOUBLE"), ("high", "DOUBLE"), ("low", "DOUBLE"), ("close", "DOUBLE"),
    ("volume", "DOUBLE"), ("vix", "DOUBLE"), ("region", "STRING"),
    *[(c, "DOUBLE") for c in WEATHER],
]
# FX columns (<ccy>_usd) are added to unified_data as the loaded data needs them.

TRAINED_MODELS = [
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
    ("training_start_date", "DATE"), ("training_cutoff_date", "DATE"),
    ("fitted_model_json", "STRING"), ("fitted_model_s3_path", "STRING"),
    ("created_at", "TIMESTAMP"), ("created_by", "STRING"), ("year", "INT"), ("month", "INT"),
    ("window_start", "DATE"), ("model_fingerprint", "STRING"),  # extra
]



def day_columns(horizon: int) -> list[str]:
    """distributions' price columns: day_1..day_H."""
    return [f"day_{k}" for k in range(1, horizon + 1)]


def metadata_horizons(horizon: int) -> tuple[int, ...]:
    """The steps forecast_metadata scores: the first, the middle (H // 2) and the last.

    (1, 7, 14) for 14, as the contract has it; (1, 2, 5) for 5, (1, 10, 21) for 21; a
    step named twice is kept once ((1,) for 1, (1, 2) for 2, (1, 3) for 3). Every step's
    scores are in forecast_scores whatever the horizon.
    """
    return tuple(sorted({1, horizon // 2, horizon} - {0}))


def _distributions(horizon: int) -> list[tuple[str, str]]:
    return [
        ("path_id", "INT"), ("forecast_start_date", "DATE"), ("data_cutoff_date", "DATE"),
        ("generation_timestamp", "TIMESTAMP"), ("commodity", "STRING"), ("model_name", "STRING"),
        ("model_version", "STRING"), *[(c, "FLOAT") for c in day_columns(horizon)],
        ("is_actuals", "BOOLEAN"), ("has_data_leakage", "BOOLEAN"),
        ("training_cutoff_date", "DATE"), ("model_fingerprint", "STRING"),  # extra
        *ADDED["distributions"],
    ]

POINT_FORECASTS = [
    ("forecast_start_date", "DATE"), ("forecast_date", "DATE"), ("data_cutoff_date", "DATE"),
    ("generation_timestamp", "TIMESTAMP"), ("day_ahead", "INT"),
    ("forecast_mean", "DOUBLE"), ("forecast_std", "DOUBLE"), ("lower_95", "DOUBLE"), ("upper_95", "DOUBLE"),
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
    ("model_success", "BOOLEAN"), ("actual_close", "DOUBLE"), ("has_data_leakage", "BOOLEAN"),
    ("failure_reason", "STRING"), ("training_cutoff_date", "DATE"), ("model_fingerprint", "STRING"),  # extra
]

# Columns added after the first release, per table (see the module doc): appended, never reordered.
# Issue 13: a forecast's vintage (1 = first published; a recomputation appends n + 1, the earlier
# rows stay), why it was made (VINTAGE_REASONS) and the fingerprint of the input rows it read.
VINTAGE_COLUMNS = [("input_fingerprint", "STRING"), ("vintage", "INT"), ("vintage_reason", "STRING")]
VINTAGE_REASONS = ("first", "input_changed", "model_changed", "force", "retry", "incomplete")

ADDED: dict[str, list[tuple[str, str]]] = {
    # distributions: the vintage number only (the key its views join on); why and from what input are
    # on the day's point_forecasts rows, not repeated on its 2,000 path rows (bulk write cost).
    "distributions": [("vintage", "INT")],
    # Issue 12: the median and the 80% (10%/90%) and 50% (25%/75%) bands, from the paths.
    "point_forecasts": [("forecast_median", "DOUBLE"), ("lower_80", "DOUBLE"), ("upper_80", "DOUBLE"),
                        ("lower_50", "DOUBLE"), ("upper_50", "DOUBLE"), *VINTAGE_COLUMNS],
    # Whole-path scores of the H-step paths (one per forecast, not per step); the vintage scored.
    "forecast_metadata": [("energy_score", "DOUBLE"), ("variogram_score", "DOUBLE"), ("vintage", "INT")],
    "forecast_scores": [("in_50", "DOUBLE"), ("width_50", "DOUBLE"), ("vintage", "INT")],
    # scored_as: 'latest' (each day's latest good vintage) or 'first' (as first published).
    "model_performance": [("coverage_50", "DOUBLE"), ("sharpness_50", "DOUBLE"), ("energy_score", "DOUBLE"),
                          ("variogram_score", "DOUBLE"), ("energy_skill_vs_naive", "DOUBLE"),
                          ("scored_as", "STRING")],
}
# Point-forecast columns computed from the paths (ADDED["point_forecasts"] minus the vintage columns).
POINT_BANDS = [c for c, t in ADDED["point_forecasts"] if (c, t) not in VINTAGE_COLUMNS]

METADATA_METRICS = ["mae", "rmse", "mape", "crps", "coverage_80", "coverage_95", "sharpness_80", "sharpness_95",
                    "directional_accuracy"]


def metadata_columns(horizon: int) -> list[str]:
    """forecast_metadata's metric columns: mae_1d, mae_7d, mae_14d, rmse_1d, ... for 14."""
    return [f"{m}_{h}d" for m in METADATA_METRICS for h in metadata_horizons(horizon)]


def _forecast_metadata(horizon: int) -> list[tuple[str, str]]:
    return [
        ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
        ("forecast_start_date", "DATE"), ("data_cutoff_date", "DATE"),
        *[(c, "DOUBLE") for c in metadata_columns(horizon)],
        ("actuals_available", "BOOLEAN"), ("model_success", "BOOLEAN"), ("evaluated_at", "TIMESTAMP"),
        *ADDED["forecast_metadata"],
    ]

# Ours, beyond the contract: the per-step scores behind forecast_metadata (every step, not
# only the steps of metadata_horizons, so calibration and CRPS by horizon need no rescoring), and the comparison.
SCORE_COLUMNS = ["error", "abs_error", "sq_error", "ape", "crps", "in_80", "in_95", "width_80", "width_95",
                 "interval_score_80", "interval_score_95", "direction_hit", "pit",
                 "in_50", "width_50"]
FORECAST_SCORES = [
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
    ("forecast_start_date", "DATE"), ("day_ahead", "INT"), ("forecast_date", "DATE"),
    ("actual_close", "DOUBLE"), ("close_day0", "DOUBLE"), *[(c, "DOUBLE") for c in SCORE_COLUMNS[:-2]],
    *ADDED["forecast_scores"],
]  # ADDED["forecast_scores"] (in_50, width_50, vintage) stay last
MODEL_PERFORMANCE = [
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"), ("horizon", "INT"),
    ("period_start", "DATE"), ("period_end", "DATE"), ("n_forecasts", "INT"),
    ("mae", "DOUBLE"), ("rmse", "DOUBLE"), ("mape", "DOUBLE"), ("crps", "DOUBLE"),
    ("coverage_80", "DOUBLE"), ("coverage_95", "DOUBLE"), ("sharpness_80", "DOUBLE"), ("sharpness_95", "DOUBLE"),
    ("interval_score_80", "DOUBLE"), ("interval_score_95", "DOUBLE"), ("directional_accuracy", "DOUBLE"),
    ("n_common", "INT"), ("crps_skill_vs_naive", "DOUBLE"), ("dm_stat", "DOUBLE"), ("dm_pvalue", "DOUBLE"),
    ("evaluated_at", "TIMESTAMP"), *ADDED["model_performance"],
]
POINT_FORECASTS = [*POINT_FORECASTS, *ADDED["point_forecasts"]]

# table -> (schema, its columns: a list, or a function of the horizon)
_DEFS = {
    "unified_data": (SILVER, UNIFIED_DATA),
    "trained_models": (FORECAST, TRAINED_MODELS),
    "distributions": (FORECAST, _distributions),
    "point_forecasts": (FORECAST, POINT_FORECASTS),
    "forecast_metadata": (FORECAST, _forecast_metadata),
    "forecast_scores": (FORECAST, FORECAST_SCORES),
    "model_performance": (FORECAST, MODEL_PERFORMANCE),
}
TABLES: tuple[str, ...] = tuple(_DEFS)
# Tables whose columns depend on the horizon.
HORIZON_TABLES: tuple[str, ...] = tuple(t for t, (_, cols) in _DEFS.items() if callable(cols))


def qualified(table: str, catalog: str = CATALOG) -> str:
    schema, _ = _DEFS[table]
    return f"{catalog}.{schema}.{table}"


def table_columns(table: str, horizon: int | None = None) -> list[tuple[str, str]]:
    """(name, SQL type) of a table's columns; `horizon` is required for HORIZON_TABLES."""
    _, cols = _DEFS[table]
    if callable(cols):
        if horizon is None:
            raise TypeError(f"the columns of {table} depend on the forecast horizon: pass it")
        return cols(horizon)
    return list(cols)


def columns(table: str, horizon: int | None = None) -> list[str]:
    return [c for c, _ in table_columns(table, horizon)]


def missing_added(table: str, live: list[str]) -> list[tuple[str, str]]:
    """ADDED columns of `table` that a stored table with columns `live` lacks, in order: what
    ensure_schema adds. Nothing else is ever added, dropped or changed."""
    have = {c.lower() for c in live}
    return [(c, t) for c, t in ADDED.get(table, []) if c.lower() not in have]
