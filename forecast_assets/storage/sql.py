"""SQL text shared by the backends: DuckDB and Databricks SQL agree on all of it.

Identifiers come only from storage.schema (constants, and column names built
from the integer horizon) and the catalog each builder takes as an argument (the
store's own, checked where it is configured), so no text is rewritten afterwards;
every value is a bound parameter (`?`), never formatted into the text. No SQL is
written outside storage/.
"""

from __future__ import annotations

from forecast_assets.storage.schema import day_columns, qualified, table_columns


def create_table(table: str, catalog: str, horizon: int, using: str = "") -> str:
    cols = ", ".join(f"{c} {t}" for c, t in table_columns(table, horizon))
    return f"CREATE TABLE IF NOT EXISTS {qualified(table, catalog)} ({cols}){using}"


def add_column(table: str, catalog: str, column: str, sql_type: str) -> str:
    """One ADDED column (schema.ADDED) for a table made before it: DuckDB and Spark/Databricks both take
    this form, and both append the column last, where schema.table_columns has it."""
    return f"ALTER TABLE {qualified(table, catalog)} ADD COLUMN {column} {sql_type}"


def insert_path0(catalog: str, actuals_relation: str, horizon: int) -> str:
    """Path-0 rows for every model/version with a successful forecast on a day whose actuals are complete
    (one per vintage: each vintage is a whole forecast, its realized path included).

    The relation holds one row per forecast_start_date with day_1..day_H realized closes.
    """
    dist = qualified("distributions", catalog)
    days = ", ".join(f"a.{c}" for c in day_columns(horizon))
    return f"""
        INSERT INTO {dist} (path_id, forecast_start_date, data_cutoff_date, generation_timestamp, commodity,
                            model_name, model_version, {", ".join(day_columns(horizon))}, is_actuals, has_data_leakage,
                            training_cutoff_date, model_fingerprint, vintage)
        SELECT 0, d.forecast_start_date, d.data_cutoff_date, d.generation_timestamp, d.commodity, d.model_name,
               d.model_version, {days}, TRUE, d.has_data_leakage, d.training_cutoff_date, d.model_fingerprint,
               d.vintage
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
               d.training_cutoff_date, d.model_fingerprint, d.vintage
        FROM {dist} d JOIN {actuals_relation} a ON a.forecast_start_date = d.forecast_start_date
        WHERE d.commodity = ? AND d.path_id = 1
    """


def unified_summary(table: str) -> str:
    return (f"SELECT commodity, COUNT(*) AS n_rows, COUNT(DISTINCT region) AS n_regions, MIN(date) AS first_date, "
            f"MAX(date) AS last_date, MAX(CASE WHEN is_trading_day = 1 THEN date END) AS last_trading_day "
            f"FROM {table} GROUP BY commodity ORDER BY commodity")


# -- named reads (storage.base.ForecastStore); catalog is the store's ---------------------------

def model_versions(catalog: str) -> str:
    """Model/version pairs with point forecasts of a commodity in [start, end]. Params: commodity, start, end."""
    return (f"SELECT DISTINCT model_name, model_version FROM {qualified('point_forecasts', catalog)} "
            f"WHERE commodity = ? AND forecast_start_date BETWEEN ? AND ? ORDER BY 1, 2")


def failed_days(catalog: str) -> str:
    """Days whose model failed. Params: commodity, model_name, model_version, start, end."""
    return (f"SELECT DISTINCT forecast_start_date, data_cutoff_date "
            f"FROM {vintage_view_name('point_forecasts', catalog)} "
            f"WHERE commodity = ? AND model_name = ? AND model_version = ? AND NOT model_success "
            f"AND forecast_start_date BETWEEN ? AND ?")


def day_steps(catalog: str) -> str:
    """Point rows at two steps of each day (a partition's numbers in the UI).
    Params: commodity, model_name, model_version, start, end, step, step."""
    return (f"SELECT forecast_start_date, data_cutoff_date, day_ahead, forecast_date, forecast_median, lower_95, "
            f"upper_95, model_success, failure_reason FROM {vintage_view_name('point_forecasts', catalog)} "
            f"WHERE commodity = ? AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ? "
            f"AND day_ahead IN (?, ?) ORDER BY forecast_start_date, day_ahead")


def scores(catalog: str, start: bool, end: bool, scored_as: str = "latest") -> str:
    """Scored steps (crps known) of each forecast's first or latest scored vintage, bounded by
    forecast_start_date >= ? / <= ? when start / end are given."""
    where = ["crps IS NOT NULL", scored_as_filter("forecast_scores", catalog, scored_as)]
    if start:
        where.append("forecast_start_date >= ?")
    if end:
        where.append("forecast_start_date <= ?")
    return f"SELECT * FROM {qualified('forecast_scores', catalog)} WHERE {' AND '.join(where)}"


def member_actuals(catalog: str, n_models: int) -> str:
    """What the ensemble's weights learn from (issue 15): forecast_start_date, model_name, vintage, day_ahead,
    forecast_date, actual_close of the stored steps with a realized close of each listed model's latest good
    vintage (the one read_paths reads) in [start, end]. Params: commodity, model_version, start, end, *models."""
    return (f"SELECT forecast_start_date, model_name, COALESCE(vintage, 1) AS vintage, day_ahead, forecast_date, "
            f"actual_close FROM {vintage_view_name('point_forecasts', catalog)} "
            f"WHERE commodity = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ? "
            f"AND {_models_in(n_models)} AND model_success AND actual_close IS NOT NULL "
            f"ORDER BY model_name, forecast_start_date, day_ahead")


def path_scores(catalog: str, start: bool, end: bool, scored_as: str = "latest") -> str:
    """Whole-path scores per forecast (energy score known), of the vintage and bounded like scores()."""
    where = ["energy_score IS NOT NULL", scored_as_filter("forecast_metadata", catalog, scored_as)]
    if start:
        where.append("forecast_start_date >= ?")
    if end:
        where.append("forecast_start_date <= ?")
    return (f"SELECT commodity, model_name, model_version, forecast_start_date, energy_score, variogram_score "
            f"FROM {qualified('forecast_metadata', catalog)} WHERE {' AND '.join(where)}")


def pit(catalog: str, one_commodity: bool = False) -> str:
    """Steps with a PIT value of each forecast's latest scored vintage (of one commodity: param commodity)."""
    where = "commodity = ? AND " if one_commodity else ""
    return (f"SELECT commodity, model_name, model_version, forecast_start_date, day_ahead, forecast_date, pit "
            f"FROM {qualified('forecast_scores', catalog)} WHERE {where}pit IS NOT NULL "
            f"AND {scored_as_filter('forecast_scores', catalog, 'latest')}")


def latest_scored_days(catalog: str) -> str:
    return (f"SELECT commodity, model_name, model_version, MAX(forecast_start_date) AS d "
            f"FROM {qualified('forecast_metadata', catalog)} WHERE actuals_available GROUP BY ALL ORDER BY ALL")


def _good(horizon: int) -> str:
    """Every day column holds a finite positive price. NaN compares greater than every number in
    DuckDB and Spark SQL, so this is false for NULL, NaN, +-inf and non-positive values on both."""
    return " AND ".join(f"({c} > 0 AND {c} < CAST('Infinity' AS FLOAT))" for c in day_columns(horizon))


def leakage_rows(catalog: str) -> str:
    """Rows of both forecast tables flagging leakage. Params: (commodity, model_name, model_version, start, end) x 2."""
    return (f"SELECT (SELECT COUNT(*) FROM {vintage_view_name('distributions', catalog)} WHERE has_data_leakage AND "
            f"commodity = ? AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?) + "
            f"(SELECT COUNT(*) FROM {vintage_view_name('point_forecasts', catalog)} "
            f"WHERE has_data_leakage AND commodity = ? "
            f"AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?) AS n")


def path_counts(catalog: str, horizon: int) -> str:
    """Per day: simulated paths and paths with a bad price. Params: commodity, model_name, model_version, start, end."""
    return (f"SELECT forecast_start_date, COUNT(*) AS n_paths, "
            f"SUM(CASE WHEN {_good(horizon)} THEN 0 ELSE 1 END) AS n_bad "
            f"FROM {vintage_view_name('distributions', catalog)} "
            f"WHERE path_id > 0 AND commodity = ? AND model_name = ? "
            f"AND model_version = ? AND forecast_start_date BETWEEN ? AND ? GROUP BY forecast_start_date")


def point_counts(catalog: str) -> str:
    """Per day: point rows, all successful, a failure reason. Params as path_counts."""
    return (f"SELECT forecast_start_date, COUNT(*) AS n_points, "
            f"MIN(CASE WHEN model_success THEN 1 ELSE 0 END) AS ok, MAX(failure_reason) AS reason "
            f"FROM {vintage_view_name('point_forecasts', catalog)} WHERE commodity = ? AND model_name = ? "
            f"AND model_version = ? AND forecast_start_date BETWEEN ? AND ? GROUP BY forecast_start_date")


def leaking_scored(catalog: str) -> str:
    """Scored forecasts whose point rows flag leakage. Params: commodity, start, end."""
    return (f"SELECT COUNT(*) AS n FROM {qualified('forecast_metadata', catalog)} m WHERE m.commodity = ? "
            f"AND m.forecast_start_date BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM "
            f"{vintage_view_name('point_forecasts', catalog)} p "
            f"WHERE p.commodity = m.commodity AND p.model_name = m.model_name AND p.model_version = m.model_version "
            f"AND p.forecast_start_date = m.forecast_start_date AND p.has_data_leakage)")


def missing_scored_days(catalog: str, horizon: int) -> str:
    """Successful forecasts with every step's actual stored but no complete score row (its score at the
    last step missing). Params: commodity, start, end, horizon."""
    return (f"SELECT p.model_name, p.model_version, p.forecast_start_date "
            f"FROM {vintage_view_name('point_forecasts', catalog)} p "
            f"LEFT JOIN {qualified('forecast_metadata', catalog)} m "
            f"ON m.commodity = p.commodity AND m.model_name = p.model_name "
            f"AND m.model_version = p.model_version AND m.forecast_start_date = p.forecast_start_date "
            f"AND COALESCE(m.vintage, 1) = COALESCE(p.vintage, 1) "
            f"AND m.actuals_available AND m.crps_{int(horizon)}d IS NOT NULL "
            f"WHERE p.commodity = ? AND p.forecast_start_date BETWEEN ? AND ? AND p.model_success "
            f"GROUP BY p.model_name, p.model_version, p.forecast_start_date "
            f"HAVING COUNT(p.actual_close) = ? AND COUNT(m.forecast_start_date) = 0")


def trained_models_summary(catalog: str) -> str:
    return (f"SELECT commodity, model_name, model_version, COUNT(*) AS windows, MIN(window_start) AS first_window, "
            f"MAX(window_start) AS last_window, CAST(SUM(CASE WHEN fitted_model_s3_path IS NULL THEN 0 ELSE 1 END) "
            f"AS BIGINT) AS in_artifact_files FROM {qualified('trained_models', catalog)} GROUP BY ALL ORDER BY ALL")


def point_forecasts_summary(catalog: str) -> str:
    return (f"SELECT p.commodity, p.model_name, p.model_version, COUNT(DISTINCT p.forecast_start_date) AS days, "
            f"MIN(p.forecast_start_date) AS first_day, MAX(p.forecast_start_date) AS last_day, "
            f"COUNT(*) AS point_rows, CAST(SUM(CASE WHEN p.has_data_leakage THEN 1 ELSE 0 END) AS BIGINT) "
            f"AS leakage_rows FROM {qualified('point_forecasts', catalog)} p GROUP BY ALL ORDER BY ALL")


def distributions_summary(catalog: str) -> str:
    return (f"SELECT commodity, model_name, model_version, COUNT(*) AS distribution_rows, "
            f"CAST(SUM(CASE WHEN is_actuals THEN 1 ELSE 0 END) AS BIGINT) AS actuals_rows "
            f"FROM {qualified('distributions', catalog)} GROUP BY ALL ORDER BY ALL")


# -- import merge (forecast-assets import without --replace) ------------------------------------

def merge_unified(table: str, source: str, source_columns: list[str], target_columns: list[str]) -> str:
    """Upsert unified_data rows by key (date, commodity, region): a matched row is replaced whole (target
    columns the source lacks become NULL, as in a first import), a new key is inserted, other rows stay.
    One statement, so all or nothing; DuckDB (>= 1.4) and Databricks SQL both run this text."""
    have = set(source_columns)
    val = {c: (f"s.{c}" if c in have else "NULL") for c in target_columns}
    sets = ", ".join(f"{c} = {val[c]}" for c in target_columns if c not in ("date", "commodity", "region"))
    return (f"MERGE INTO {table} AS t USING {source} AS s "
            f"ON t.date = s.date AND t.commodity = s.commodity AND t.region = s.region "
            f"WHEN MATCHED THEN UPDATE SET {sets} "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(target_columns)}) "
            f"VALUES ({', '.join(val[c] for c in target_columns)})")


def unified_names(table: str) -> str:
    """The distinct commodity names of unified_data (the import compares spellings with these)."""
    return f"SELECT DISTINCT commodity FROM {table} WHERE commodity IS NOT NULL ORDER BY 1"


# -- the forecast explorer's reads (forecast_assets/explorer): read-only, one commodity or one day ----------
# `points_table` / `dist_table` name the table read: today point_forecasts / distributions, which hold every
# vintage of a day when the vintage columns exist; the *_latest views can be passed instead once they do.

def explorer_catalogue(catalog: str, points_table: str = "point_forecasts") -> str:
    """Per commodity, model and version: first_day, last_day and days with point forecasts."""
    return (f"SELECT commodity, model_name, model_version, MIN(forecast_start_date) AS first_day, "
            f"MAX(forecast_start_date) AS last_day, COUNT(DISTINCT forecast_start_date) AS days "
            f"FROM {qualified(points_table, catalog)} GROUP BY ALL ORDER BY ALL")


def _models_in(n_models: int) -> str:
    # One placeholder per model: `IN (?, ?)` is the form DuckDB and Databricks SQL both bind.
    return f"model_name IN ({', '.join('?' * n_models)})"


def day_points(catalog: str, n_models: int, vintage: bool, points_table: str = "point_forecasts") -> str:
    """Every step of one day's forecasts by these models (and every vintage, with `vintage`).
    Params: commodity, model_version, day, *models."""
    extra = ", vintage, vintage_reason" if vintage else ""
    return (f"SELECT model_name, model_version, forecast_start_date, data_cutoff_date, generation_timestamp, "
            f"day_ahead, forecast_date, forecast_mean, forecast_median, lower_50, upper_50, lower_80, upper_80, "
            f"lower_95, upper_95, actual_close, model_success, failure_reason{extra} "
            f"FROM {qualified(points_table, catalog)} WHERE commodity = ? AND model_version = ? "
            f"AND forecast_start_date = ? AND {_models_in(n_models)} ORDER BY model_name, day_ahead")


def day_sample_paths(catalog: str, horizon: int, n_models: int, vintage: bool,
                     dist_table: str = "distributions") -> str:
    """The first few simulated paths (path_id 1..n) of one day's forecasts by these models.
    Params: commodity, model_version, day, *models, n."""
    extra = ", vintage" if vintage else ""
    return (f"SELECT model_name, path_id, {', '.join(day_columns(horizon))}{extra} "
            f"FROM {qualified(dist_table, catalog)} WHERE commodity = ? AND model_version = ? "
            f"AND forecast_start_date = ? AND {_models_in(n_models)} AND path_id BETWEEN 1 AND ? "
            f"ORDER BY model_name, path_id")


def trading_closes(catalog: str) -> str:
    """date, close of a commodity's trading days in [start, end] (market columns are the same on every
    region row of a date: one per date). Params: commodity, start, end."""
    return (f"SELECT date, MAX(close) AS close FROM {qualified('unified_data', catalog)} "
            f"WHERE commodity = ? AND is_trading_day = 1 AND date BETWEEN ? AND ? GROUP BY date ORDER BY date")


def commodity_performance(catalog: str) -> str:
    """model_performance rows of one commodity, scored on each day's latest vintage. Params: commodity."""
    return (f"SELECT * FROM {qualified('model_performance', catalog)} WHERE commodity = ? "
            f"AND COALESCE(scored_as, 'latest') = 'latest' "
            f"ORDER BY model_name, model_version, horizon")


# -- issue 13: vintages, input fingerprints, the data version ----------------------------------

VINTAGE_VIEWS = ("latest", "first")  # distributions_latest, point_forecasts_first, ...


def vintage_view_name(table: str, catalog: str, which: str = "latest") -> str:
    """The view of `table` (distributions, point_forecasts) holding one vintage per forecast day."""
    if which not in VINTAGE_VIEWS:
        raise ValueError(f"vintage must be one of {', '.join(VINTAGE_VIEWS)}, not {which!r}")
    return f"{qualified(table, catalog)}_{which}"


def _vintage_key(catalog: str, which: str) -> str:
    """Per forecast day, the vintage a reader gets (docs/contract.md, "Vintages"): the latest (first)
    vintage whose model succeeded, or the latest (first) attempt when none did. A row without a
    vintage (written before vintages existed) is vintage 1."""
    pick = "MAX" if which == "latest" else "MIN"
    return (f"SELECT commodity, model_name, model_version, forecast_start_date, "
            f"COALESCE({pick}(CASE WHEN model_success THEN COALESCE(vintage, 1) END), "
            f"{pick}(COALESCE(vintage, 1))) AS v FROM {qualified('point_forecasts', catalog)} "
            f"GROUP BY commodity, model_name, model_version, forecast_start_date")


def create_vintage_view(table: str, catalog: str, which: str = "latest") -> str:
    """CREATE OR REPLACE VIEW <table>_<which>: the same text on DuckDB and Databricks SQL."""
    return (f"CREATE OR REPLACE VIEW {vintage_view_name(table, catalog, which)} AS "
            f"SELECT t.* FROM {qualified(table, catalog)} t JOIN ({_vintage_key(catalog, which)}) k "
            f"ON t.commodity = k.commodity AND t.model_name = k.model_name AND t.model_version = k.model_version "
            f"AND t.forecast_start_date = k.forecast_start_date AND COALESCE(t.vintage, 1) = k.v")


def forecast_status_vintages(catalog: str) -> str:
    """Per stored day of a commodity/model/version in [start, end]: the current (latest) vintage's
    completeness, cutoff, last step and fingerprints, and the last attempt (vintage, success), failed
    or not. Params: (commodity, model_name, model_version, start, end) x 3."""
    dist, pts = vintage_view_name("distributions", catalog), vintage_view_name("point_forecasts", catalog)
    base = qualified("point_forecasts", catalog)
    key = "commodity = ? AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ?"
    return f"""
        WITH d AS (
            SELECT forecast_start_date,
                   SUM(CASE WHEN path_id > 0 THEN 1 ELSE 0 END) AS n_paths,
                   MAX(CASE WHEN path_id = 0 THEN 1 ELSE 0 END) AS has_actuals,
                   MIN(model_fingerprint) AS fp_min, MAX(model_fingerprint) AS fp_max
            FROM {dist} WHERE {key} GROUP BY forecast_start_date
        ), p AS (
            SELECT forecast_start_date, COUNT(*) AS n_points, MAX(data_cutoff_date) AS data_cutoff_date,
                   MAX(forecast_date) AS last_forecast_date,
                   MIN(CASE WHEN model_success THEN 1 ELSE 0 END) AS all_success,
                   MIN(model_fingerprint) AS fp_min, MAX(model_fingerprint) AS fp_max,
                   MIN(input_fingerprint) AS in_min, MAX(input_fingerprint) AS in_max,
                   MAX(COALESCE(vintage, 1)) AS vintage
            FROM {pts} WHERE {key} GROUP BY forecast_start_date
        ), a AS (
            SELECT forecast_start_date, MAX(COALESCE(vintage, 1)) AS last_vintage
            FROM {base} WHERE {key} GROUP BY forecast_start_date
        )
        SELECT p.forecast_start_date, COALESCE(d.n_paths, 0) AS n_paths, COALESCE(d.has_actuals, 0) AS has_actuals,
               p.n_points, p.all_success, p.data_cutoff_date, p.last_forecast_date,
               CASE WHEN p.fp_min = p.fp_max AND (d.fp_min IS NULL OR (d.fp_min = p.fp_min AND d.fp_max = p.fp_max))
                    THEN p.fp_min END AS model_fingerprint,
               CASE WHEN p.in_min = p.in_max THEN p.in_min END AS input_fingerprint,
               p.vintage, a.last_vintage
        FROM p LEFT JOIN d ON d.forecast_start_date = p.forecast_start_date
        JOIN a ON a.forecast_start_date = p.forecast_start_date
        ORDER BY p.forecast_start_date
    """


def failed_recomputations(catalog: str) -> str:
    """Days in [start, end] whose last attempt failed while an earlier vintage is good (that one stays
    current), with the failed attempt's reason. Params: commodity, model_name, model_version, start, end."""
    base = qualified("point_forecasts", catalog)
    return (f"SELECT forecast_start_date, MAX(CASE WHEN model_success THEN COALESCE(vintage, 1) END) AS good_vintage, "
            f"MAX(COALESCE(vintage, 1)) AS last_vintage, "
            f"MAX(CASE WHEN NOT model_success THEN failure_reason END) AS reason FROM {base} "
            f"WHERE commodity = ? AND model_name = ? AND model_version = ? AND forecast_start_date BETWEEN ? AND ? "
            f"GROUP BY forecast_start_date "
            f"HAVING MAX(CASE WHEN model_success THEN COALESCE(vintage, 1) END) < MAX(COALESCE(vintage, 1)) "
            f"ORDER BY forecast_start_date")


def unified_row_hash(table: str, dialect: str) -> str:
    """Per commodity: rows and the XOR of one hash per whole row (every column, FX ones too), computed in
    the database. XOR is exact whatever order an engine combines in, and each row's hash covers its
    date and region, so a swap of two closes, any VIX or weather change, or a change far below the
    old rounding (5e-5) moves it. DuckDB's hash of a row (a struct) XORs its columns' hashes, so an
    XOR over rows cancelled a swap of two closes between rows: hashed once more, the row's hash mixes
    its columns (casting the row to text does too, at 50x the cost). Spark's xxhash64(*) seeds each
    column's hash with the previous one. The two engines' values differ: the version compares a
    database with itself, never across engines."""
    row = {"duckdb": "hash(hash(u))", "databricks": "xxhash64(*)"}[dialect]
    return (f"SELECT commodity, COUNT(*) AS n, BIT_XOR({row}) AS h FROM {table} u "
            f"GROUP BY commodity ORDER BY commodity")


def scored_as_filter(table: str, catalog: str, scored_as: str) -> str:
    """A predicate keeping the rows of `table` (forecast_scores, forecast_metadata) of each forecast's
    first or latest scored vintage (rows without a vintage: 1). Scoring scores good vintages only, so
    these are the first and latest good vintages, the ones the views give."""
    if scored_as not in VINTAGE_VIEWS:
        raise ValueError(f"scored_as must be one of {', '.join(VINTAGE_VIEWS)}, not {scored_as!r}")
    pick = "MAX" if scored_as == "latest" else "MIN"
    return (f"(commodity, model_name, model_version, forecast_start_date, COALESCE(vintage, 1)) IN "
            f"(SELECT commodity, model_name, model_version, forecast_start_date, {pick}(COALESCE(vintage, 1)) "
            f"FROM {qualified(table, catalog)} GROUP BY commodity, model_name, model_version, forecast_start_date)")


def delete_forecast_vintages(table: str, catalog: str, batch_relation: str) -> str:
    """Rows of the (day, vintage) pairs a batch writes: removed first so writing a vintage twice (a retried
    write) leaves one copy; other vintages are never touched. Params: commodity, model_name, model_version."""
    return (f"DELETE FROM {qualified(table, catalog)} WHERE commodity = ? AND model_name = ? AND model_version = ? "
            f"AND (forecast_start_date, COALESCE(vintage, 1)) IN "
            f"(SELECT DISTINCT forecast_start_date, COALESCE(vintage, 1) FROM {batch_relation})")
