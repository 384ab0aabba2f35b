"""SQL text shared by the backends: DuckDB and Databricks SQL agree on all of it.

Identifiers come only from storage.schema (constants, and column names built
from the integer horizon); every value is a bound parameter (`?`), never
formatted into the text.
"""

from __future__ import annotations

from forecast_assets.storage.schema import day_columns, qualified, table_columns


def create_table(table: str, catalog: str, horizon: int, using: str = "") -> str:
    cols = ", ".join(f"{c} {t}" for c, t in table_columns(table, horizon))
    return f"CREATE TABLE IF NOT EXISTS {qualified(table, catalog)} ({cols}){using}"


def delete_forecast_days(table: str, catalog: str, days_relation: str) -> str:
    return (
        f"DELETE FROM {qualified(table, catalog)} WHERE commodity = ? AND model_name = ? AND model_version = ? "
        f"AND forecast_start_date IN (SELECT d FROM {days_relation})"
    )


def forecast_status(catalog: str) -> str:
    dist, pts = qualified("distributions", catalog), qualified("point_forecasts", catalog)
    return f"""
        WITH d AS (
            SELECT forecast_start_date,
                   SUM(CASE WHEN path_id > 0 THEN 1 ELSE 0 END) AS n_paths,
                   MAX(CASE WHEN path_id = 0 THEN 1 ELSE 0 END) AS has_actuals,
                   MIN(model_fingerprint) AS fp_min, MAX(model_fingerprint) AS fp_max
            FROM {dist}
            WHERE commodity = ? AND model_name = ? AND model_version = ?
              AND forecast_start_date BETWEEN ? AND ?
            GROUP BY forecast_start_date
        ), p AS (
            SELECT forecast_start_date, COUNT(*) AS n_points, MAX(data_cutoff_date) AS data_cutoff_date,
                   MIN(CASE WHEN model_success THEN 1 ELSE 0 END) AS all_success,
                   MIN(model_fingerprint) AS fp_min, MAX(model_fingerprint) AS fp_max
            FROM {pts}
            WHERE commodity = ? AND model_name = ? AND model_version = ?
              AND forecast_start_date BETWEEN ? AND ?
            GROUP BY forecast_start_date
        )
        SELECT p.forecast_start_date, COALESCE(d.n_paths, 0) AS n_paths, COALESCE(d.has_actuals, 0) AS has_actuals,
               p.n_points, p.all_success, p.data_cutoff_date,
               CASE WHEN p.fp_min = p.fp_max AND (d.fp_min IS NULL OR (d.fp_min = p.fp_min AND d.fp_max = p.fp_max))
                    THEN p.fp_min END AS model_fingerprint
        FROM p LEFT JOIN d ON d.forecast_start_date = p.forecast_start_date
        ORDER BY p.forecast_start_date
    """


def insert_path0(catalog: str, actuals_relation: str, horizon: int) -> str:
    """Path-0 rows for every model/version with a successful forecast on a day whose actuals are complete.

    The relation holds one row per forecast_start_date with day_1..day_H realized closes.
    """
    dist = qualified("distributions", catalog)
    days = ", ".join(f"a.{c}" for c in day_columns(horizon))
    return f"""
        INSERT INTO {dist} (path_id, forecast_start_date, data_cutoff_date, generation_timestamp, commodity,
                            model_name, model_version, {", ".join(day_columns(horizon))}, is_actuals, has_data_leakage,
                            training_cutoff_date, model_fingerprint)
        SELECT 0, d.forecast_start_date, d.data_cutoff_date, d.generation_timestamp, d.commodity, d.model_name,
               d.model_version, {days}, TRUE, d.has_data_leakage, d.training_cutoff_date, d.model_fingerprint
        FROM {dist} d JOIN {actuals_relation} a ON a.forecast_start_date = d.forecast_start_date
        WHERE d.commodity = ? AND d.path_id = 1
    """


def delete_path0(catalog: str, actuals_relation: str) -> str:
    return (
        f"DELETE FROM {qualified('distributions', catalog)} WHERE commodity = ? AND path_id = 0 "
        f"AND forecast_start_date IN (SELECT forecast_start_date FROM {actuals_relation})"
    )


def path0_rows(catalog: str, actuals_relation: str, horizon: int) -> str:
    """The rows insert_path0 inserts, as a query named like distributions' columns.

    For backends that replace path-0 rows with one atomic statement
    (Databricks: INSERT INTO ... REPLACE WHERE ... <this query>) instead of
    delete_path0 + insert_path0. Same selection and values as insert_path0.
    """
    dist = qualified("distributions", catalog)
    days = ", ".join(f"a.{c} AS {c}" for c in day_columns(horizon))
    return f"""
        SELECT 0 AS path_id, d.forecast_start_date, d.data_cutoff_date, d.generation_timestamp, d.commodity,
               d.model_name, d.model_version, {days}, TRUE AS is_actuals, d.has_data_leakage,
               d.training_cutoff_date, d.model_fingerprint
        FROM {dist} d JOIN {actuals_relation} a ON a.forecast_start_date = d.forecast_start_date
        WHERE d.commodity = ? AND d.path_id = 1
    """


def unified_summary(table: str) -> str:
    return (f"SELECT commodity, COUNT(*) AS n_rows, COUNT(DISTINCT region) AS n_regions, MIN(date) AS first_date, "
            f"MAX(date) AS last_date, MAX(CASE WHEN is_trading_day = 1 THEN date END) AS last_trading_day "
            f"FROM {table} GROUP BY commodity ORDER BY commodity")


def unified_version(table: str) -> str:
    """Per-commodity aggregates whose fingerprint is unified_data's data version.

    Integer sums (exact whatever order an engine adds in), so the version moves only with the data.
    """
    return (f"SELECT commodity, COUNT(*) AS n, MIN(date) AS first_date, MAX(date) AS last_date, "
            f"SUM(CAST(ROUND(close * 10000) AS BIGINT)) AS close_sum, SUM(is_trading_day) AS trading_days "
            f"FROM {table} GROUP BY commodity ORDER BY commodity")
