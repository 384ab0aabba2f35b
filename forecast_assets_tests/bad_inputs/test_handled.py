"""Inputs that look odd but are accepted, with the handling README "Bad input" documents.

Table: what another loader may do differently from `forecast-assets import`
without being wrong. Each variant must give exactly the forecasts of the clean
table (naive, 2024-07-08..12, same seeds).
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.runs import actuals, forecasting, loading, training
from forecast_assets.core import importer
from forecast_assets.core.importer import prepare_unified, read_table
from forecast_assets.storage.schema import day_columns, qualified
from forecast_assets_tests.read_sql import read_sql

from .conftest import DAYS, WINDOW, run_sql
from .files import base_rows, write_csv

DAY_COLUMNS = day_columns(14)
from .table_cases import U

WEATHER = ["temp_max_c", "temp_min_c", "temp_mean_c", "precipitation_mm", "rain_mm", "snowfall_cm",
           "humidity_mean_pct", "wind_speed_max_kmh"]

HANDLED = {
    # Rows in any physical order: the reader orders by date.
    "rows_in_random_order": [f"CREATE TABLE commodity.silver.shuffled AS SELECT * FROM {U} ORDER BY random()",
                             f"DELETE FROM {U}", f"INSERT INTO {U} SELECT * FROM commodity.silver.shuffled",
                             "DROP TABLE commodity.silver.shuffled"],
    # A TIMESTAMP date column (at midnight): read as dates.
    "timestamp_dates": [f"ALTER TABLE {U} ALTER date TYPE TIMESTAMP"],
    # Only trading days stored: the models use trading days only, the calendar rows are not needed.
    "no_calendar_rows": [f"DELETE FROM {U} WHERE is_trading_day = 0"],
    # Extra columns: welcome (docs/contract.md), ignored.
    "extra_columns": [f"ALTER TABLE {U} ADD COLUMN notes VARCHAR DEFAULT 'another loader'",
                      f"ALTER TABLE {U} ADD COLUMN batch_id INTEGER DEFAULT 7"],
    # Column names in another case: names are case-insensitive, as in a file.
    "upper_case_column_name": [f'ALTER TABLE {U} RENAME COLUMN close TO "CLOSE"'],
    # is_trading_day as BOOLEAN or BIGINT, prices as DECIMAL: any number type.
    "trading_flag_boolean": [f"ALTER TABLE {U} ALTER is_trading_day TYPE BOOLEAN"],
    "trading_flag_bigint": [f"ALTER TABLE {U} ALTER is_trading_day TYPE BIGINT"],
    "close_decimal": [f"ALTER TABLE {U} ALTER close TYPE DECIMAL(18, 4)"],
    # NULL in the nullable columns (naive uses close only).
    "nulls_in_nullable_columns": [f"UPDATE {U} SET open = NULL, high = NULL, low = NULL, volume = NULL, vix = NULL, "
                                  f"brl_usd = NULL, cop_usd = NULL, {', '.join(f'{c} = NULL' for c in WEATHER)}"],
    # Another commodity's rows with a bad name: never read for Coffee (names are bound parameters);
    # the unified_data valid_rows check reports them.
    "other_commodity_with_sql_in_its_name": [
        f"INSERT INTO {U} BY NAME SELECT * REPLACE ('Cocoa''; DROP TABLE x; --' AS commodity) FROM {U} "
        "WHERE commodity = 'Sugar'"],
}


def _paths(store) -> pd.DataFrame:
    return read_sql(store, f"SELECT forecast_start_date, path_id, data_cutoff_date, {', '.join(DAY_COLUMNS)} "
                       f"FROM {qualified('distributions')}_latest WHERE commodity = 'Coffee' AND model_name = 'naive' "
                       f"ORDER BY 1, 2")


@pytest.mark.parametrize("sql", HANDLED.values(), ids=HANDLED.keys())
def test_table_variant_gives_the_same_forecasts(sql, db):
    store, s = db
    before = _paths(store)
    run_sql(s.duckdb_path, sql)
    r = forecasting.forecast_days(store, s, "naive", "Coffee", DAYS, force=True)
    assert (r.days_written, r.days_failed) == (len(DAYS), 0)
    actuals.attach_actuals(store, "Coffee", DAYS, Calendar(ICE_SOFTS))
    pd.testing.assert_frame_equal(_paths(store), before)


def test_table_without_any_weather_trains_every_model_without_it(db):
    store, s = db
    run_sql(s.duckdb_path, [f"UPDATE {U} SET {', '.join(f'{c} = NULL' for c in WEATHER)}"])
    for model in ("xgboost", "sarimax_auto_weather"):
        training.train_windows(store, s, model, "Coffee", [WINDOW], "test")
        doc = json.loads(loading.load_trained(store, s, model, "Coffee", WINDOW).text)
        params = doc["params"]
        assert (params["weather"] == []) if model == "xgboost" else (params["weather_used"] is False)
        r = forecasting.forecast_days(store, s, model, "Coffee", DAYS[:2])
        assert (r.days_written, r.days_failed) == (2, 0)
    prices = _all_paths(store)
    assert len(prices) and np.isfinite(prices).all() and (prices > 0).all()


def _all_paths(store) -> np.ndarray:
    return read_sql(store, f"SELECT {', '.join(DAY_COLUMNS)} FROM {qualified('distributions')} WHERE path_id > 0"
                       ).to_numpy(dtype="float64")


# -- import ----------------------------------------------------------------------------------

def _load(path, **kw):
    return prepare_unified(read_table(path, **kw), source=path.name, **kw)


def test_csv_read_in_chunks_equals_one_read(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "p.csv", base_rows())
    whole, _ = _load(path)
    monkeypatch.setattr(importer, "_CHUNK_ROWS", 7)  # 80 rows in 12 chunks
    chunked, _ = _load(path)
    pd.testing.assert_frame_equal(chunked, whole)


def test_row_limit_is_inclusive(tmp_path):
    path = write_csv(tmp_path / "p.csv", base_rows())  # 80 weekday rows -> 112 calendar days
    assert len(_load(path, max_rows=112)[0]) == 112
    with pytest.raises(importer.ImportValidationError, match="more data rows than the import limit of 79"):
        _load(path, max_rows=79)


def test_byte_order_mark_and_true_false_trading_flag(tmp_path):
    rows = [r | {"is_trading_day": "TRUE"} for r in base_rows()]
    rows[5]["is_trading_day"] = "false"  # a holiday the exchange was closed
    path = tmp_path / "excel.csv"
    write_csv(path, rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    out, _ = _load(path)
    assert out.loc[out["date"] == pd.Timestamp(base_rows()[5]["date"]), "is_trading_day"].item() == 0
    assert out["is_trading_day"].sum() == 79


def test_weather_columns_all_empty_is_a_note_not_an_error(tmp_path):
    rows = [r | {c: "" for c in WEATHER} for r in base_rows()]
    out, notes = _load(write_csv(tmp_path / "p.csv", rows))
    assert out[WEATHER].isna().all().all()
    assert "no weather values: models will run without weather regressors" in notes


def test_parquet_timestamps_with_time_and_zone_are_days(tmp_path):
    df = pd.DataFrame(base_rows())
    df["close"] = df["close"].astype(float)
    df["date"] = pd.to_datetime(df["date"]).dt.tz_localize("America/Sao_Paulo") + pd.Timedelta(hours=17)
    df.to_parquet(tmp_path / "tz.parquet")
    out, _ = _load(tmp_path / "tz.parquet")
    ref, _ = _load(write_csv(tmp_path / "ref.csv", base_rows()))
    pd.testing.assert_frame_equal(out, ref)
    assert out["date"].min() == pd.Timestamp(date(2020, 1, 1))


def test_a_csv_over_the_limit_is_refused_before_the_rest_is_read(tmp_path, monkeypatch):
    # 1.4 MB of rows, then bytes that are not even text: a file read whole would fail on those
    # instead (the parser reads ahead in blocks of a few hundred kB, not further).
    path = write_csv(tmp_path / "p.csv", base_rows())
    path.write_bytes(path.read_bytes() + b"2020-05-01,Coffee,101.5\n" * 60_000 + b"\xff\xfe not text\n" * 100)
    with pytest.raises(importer.ImportValidationError, match="UTF-8"):
        read_table(path)
    monkeypatch.setattr(importer, "_CHUNK_ROWS", 20)
    with pytest.raises(importer.ImportValidationError, match="more data rows than the import limit of 50"):
        read_table(path, max_rows=50)
