"""The tables of contracts.md, as data, so every backend creates the same columns.

Types are the ones both DuckDB and Databricks SQL accept (STRING, DOUBLE,
FLOAT, INT, DATE, TIMESTAMP, BOOLEAN). Columns marked "extra" are ours, beyond
the contract: training_cutoff_date and model_fingerprint say which trained
model made a forecast (resume skips a day only if it is complete and came
from the same model), failure_reason says why model_success is FALSE, and
trained_models.window_start names the window a model serves, so a missing
model is never silently replaced by an older one.
"""

from __future__ import annotations

CATALOG = "commodity"
SILVER = "silver"
FORECAST = "forecast"
HORIZON = 14
DAY_COLUMNS = [f"day_{k}" for k in range(1, HORIZON + 1)]

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

DISTRIBUTIONS = [
    ("path_id", "INT"), ("forecast_start_date", "DATE"), ("data_cutoff_date", "DATE"),
    ("generation_timestamp", "TIMESTAMP"), ("commodity", "STRING"), ("model_name", "STRING"),
    ("model_version", "STRING"), *[(c, "FLOAT") for c in DAY_COLUMNS],
    ("is_actuals", "BOOLEAN"), ("has_data_leakage", "BOOLEAN"),
    ("training_cutoff_date", "DATE"), ("model_fingerprint", "STRING"),  # extra
]

POINT_FORECASTS = [
    ("forecast_start_date", "DATE"), ("forecast_date", "DATE"), ("data_cutoff_date", "DATE"),
    ("generation_timestamp", "TIMESTAMP"), ("day_ahead", "INT"),
    ("forecast_mean", "DOUBLE"), ("forecast_std", "DOUBLE"), ("lower_95", "DOUBLE"), ("upper_95", "DOUBLE"),
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
    ("model_success", "BOOLEAN"), ("actual_close", "DOUBLE"), ("has_data_leakage", "BOOLEAN"),
    ("failure_reason", "STRING"), ("training_cutoff_date", "DATE"), ("model_fingerprint", "STRING"),  # extra
]

METADATA_METRICS = ["mae", "rmse", "mape", "crps", "coverage_80", "coverage_95", "sharpness_80", "sharpness_95",
                    "directional_accuracy"]
METADATA_HORIZONS = (1, 7, 14)
FORECAST_METADATA = [
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
    ("forecast_start_date", "DATE"), ("data_cutoff_date", "DATE"),
    *[(f"{m}_{h}d", "DOUBLE") for m in METADATA_METRICS for h in METADATA_HORIZONS],
    ("actuals_available", "BOOLEAN"), ("model_success", "BOOLEAN"), ("evaluated_at", "TIMESTAMP"),
]

# Ours, beyond the contract: the per-step scores behind forecast_metadata (every step, not
# only 1/7/14, so calibration and CRPS by horizon need no rescoring), and the comparison.
SCORE_COLUMNS = ["error", "abs_error", "sq_error", "ape", "crps", "in_80", "in_95", "width_80", "width_95",
                 "interval_score_80", "interval_score_95", "direction_hit", "pit"]
FORECAST_SCORES = [
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"),
    ("forecast_start_date", "DATE"), ("day_ahead", "INT"), ("forecast_date", "DATE"),
    ("actual_close", "DOUBLE"), ("close_day0", "DOUBLE"), *[(c, "DOUBLE") for c in SCORE_COLUMNS],
]
MODEL_PERFORMANCE = [
    ("commodity", "STRING"), ("model_name", "STRING"), ("model_version", "STRING"), ("horizon", "INT"),
    ("period_start", "DATE"), ("period_end", "DATE"), ("n_forecasts", "INT"),
    ("mae", "DOUBLE"), ("rmse", "DOUBLE"), ("mape", "DOUBLE"), ("crps", "DOUBLE"),
    ("coverage_80", "DOUBLE"), ("coverage_95", "DOUBLE"), ("sharpness_80", "DOUBLE"), ("sharpness_95", "DOUBLE"),
    ("interval_score_80", "DOUBLE"), ("interval_score_95", "DOUBLE"), ("directional_accuracy", "DOUBLE"),
    ("n_common", "INT"), ("crps_skill_vs_naive", "DOUBLE"), ("dm_stat", "DOUBLE"), ("dm_pvalue", "DOUBLE"),
    ("evaluated_at", "TIMESTAMP"),
]

TABLES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "unified_data": (SILVER, UNIFIED_DATA),
    "trained_models": (FORECAST, TRAINED_MODELS),
    "distributions": (FORECAST, DISTRIBUTIONS),
    "point_forecasts": (FORECAST, POINT_FORECASTS),
    "forecast_metadata": (FORECAST, FORECAST_METADATA),
    "forecast_scores": (FORECAST, FORECAST_SCORES),
    "model_performance": (FORECAST, MODEL_PERFORMANCE),
}


def qualified(table: str, catalog: str = CATALOG) -> str:
    schema, _ = TABLES[table]
    return f"{catalog}.{schema}.{table}"


def columns(table: str) -> list[str]:
    return [c for c, _ in TABLES[table][1]]
