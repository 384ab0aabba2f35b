"""Bad unified_data tables: what another loader might leave in commodity.silver.unified_data.

A case is (id, SQL run on the database file, patterns the message must contain,
the operations that read the bad rows and must refuse). The defects sit on
Wednesday 2024-07-10, inside what every operation reads: the full read (as the
`valid_rows` check does), training the 2025-01-01 window (everything before it),
forecasting and attaching actuals for 2024-07-08..12, and scoring them.
"""

from __future__ import annotations

from dataclasses import dataclass

U = "commodity.silver.unified_data"
D = "DATE '2024-07-10'"
COFFEE = f"commodity = 'Coffee' AND date = {D}"
HUILA = f"{COFFEE} AND region = 'Colombia_Huila'"
ALL_OPS = ("read", "train", "forecast", "actuals", "score")


@dataclass(frozen=True)
class TableCase:
    id: str
    sql: list[str]
    patterns: list[str]
    ops: tuple[str, ...] = ALL_OPS


def _set(where: str, **values) -> list[str]:
    return [f"UPDATE {U} SET {', '.join(f'{k} = {v}' for k, v in values.items())} WHERE {where}"]


def _retype(col: str, sql_type: str, *more: str) -> list[str]:
    return [f"ALTER TABLE {U} ALTER {col} TYPE {sql_type}", *more]


ROW = r"row \(2024-07-10, Coffee, Colombia_Huila\)"
FIRST_OF_DATE = r"row \(2024-07-10, Coffee, Brazil_MinasGerais\) and 3 more rows"
GAP = "DATE '2024-06-19' AND DATE '2024-08-19'"  # trading days 2024-06-18 .. 2024-08-20: 63 days apart

TABLE_CASES = [
    # The table's columns (checked before a row is read).
    TableCase("table_missing", [f"DROP TABLE {U}"], ["does not exist", "forecast-assets init"]),
    TableCase("close_column_missing", [f"ALTER TABLE {U} DROP COLUMN close"], ["missing column: close"]),
    TableCase("weather_column_missing", [f"ALTER TABLE {U} DROP COLUMN rain_mm"], ["missing column: rain_mm"]),
    TableCase("region_column_missing", [f"ALTER TABLE {U} DROP COLUMN region"], ["missing column: region"]),
    TableCase("trading_flag_column_missing", [f"ALTER TABLE {U} DROP COLUMN is_trading_day"],
              ["missing column: is_trading_day"]),
    TableCase("close_as_text", _retype("close", "VARCHAR"), ["column 'close' has type VARCHAR", "number"]),
    TableCase("date_as_text", _retype("date", "VARCHAR"),
              ["column 'date' has type VARCHAR", "DATE", "forecast-assets import"]),
    TableCase("date_as_text_mixed_formats",
              _retype("date", "VARCHAR", f"UPDATE {U} SET date = '07/10/2024' WHERE date = '2024-07-10'"),
              ["column 'date' has type VARCHAR"]),
    TableCase("trading_flag_as_text", _retype("is_trading_day", "VARCHAR", *_set(HUILA, is_trading_day="'yes'")),
              ["column 'is_trading_day' has type VARCHAR", "INT"]),
    TableCase("fx_as_text", _retype("brl_usd", "VARCHAR"), ["column 'brl_usd' has type VARCHAR"]),
    TableCase("weather_as_text", _retype("temp_max_c", "VARCHAR"), ["column 'temp_max_c' has type VARCHAR"]),
    TableCase("region_as_number", [f"ALTER TABLE {U} DROP COLUMN region", f"ALTER TABLE {U} ADD COLUMN region INTEGER"],
              ["column 'region' has type INTEGER", "text"]),
    # Values.
    TableCase("close_null", _set(HUILA, close="NULL"), [ROW, "column 'close' is missing"]),
    TableCase("close_nan", _set(COFFEE, close="'NaN'::DOUBLE"), [FIRST_OF_DATE, "column 'close' is missing"]),
    TableCase("close_inf", _set(COFFEE, close="'inf'::DOUBLE"), [FIRST_OF_DATE, "'close': inf is not a finite"]),
    TableCase("weather_minus_inf", _set(HUILA, temp_max_c="'-inf'::DOUBLE"), [ROW, "'temp_max_c': -inf"]),
    TableCase("volume_inf", _set(COFFEE, volume="'inf'::DOUBLE"), [FIRST_OF_DATE, "'volume': inf"]),
    TableCase("fx_inf", _set(COFFEE, brl_usd="'inf'::DOUBLE"), [FIRST_OF_DATE, "'brl_usd': inf"]),
    TableCase("close_zero", _set(COFFEE, close="0"), [FIRST_OF_DATE, "'close': 0.0 is not a positive price"]),
    TableCase("close_negative", _set(COFFEE, close="-12.5"), [FIRST_OF_DATE, "'close': -12.5 is not a positive"]),
    TableCase("open_negative", _set(COFFEE, open="-1"), [FIRST_OF_DATE, "'open': -1.0"]),
    TableCase("high_negative", _set(COFFEE, high="-1"), [FIRST_OF_DATE, "'high': -1.0"]),
    TableCase("low_zero", _set(COFFEE, low="0"), [FIRST_OF_DATE, "'low': 0.0"]),
    TableCase("volume_negative", _set(COFFEE, volume="-100"), [FIRST_OF_DATE, "'volume': -100.0 is negative"]),
    TableCase("vix_negative", _set(COFFEE, vix="-3"), [FIRST_OF_DATE, "'vix': -3.0 is negative"]),
    TableCase("precipitation_negative", _set(HUILA, precipitation_mm="-2"), [ROW, "'precipitation_mm': -2.0"]),
    TableCase("snowfall_negative", _set(HUILA, snowfall_cm="-0.5"), [ROW, "'snowfall_cm': -0.5"]),
    TableCase("humidity_over_100", _set(HUILA, humidity_mean_pct="140"), [ROW, "'humidity_mean_pct': 140.0"]),
    TableCase("trading_flag_2", _set(COFFEE, is_trading_day="2"), [FIRST_OF_DATE, r"'is_trading_day': 2\.0 is not"]),
    TableCase("trading_flag_null", _set(HUILA, is_trading_day="NULL"), [ROW, "'is_trading_day' is missing"]),
    # Keys and names.
    TableCase("date_null", _set(HUILA, date="NULL"), [r"row \(\?, Coffee, Colombia_Huila\)", "date is missing"],
              ops=("read",)),  # a row without a date is outside every date range a run reads
    TableCase("region_null", _set(HUILA, region="NULL"), [r"row \(2024-07-10, Coffee, \?\)", "region is missing"]),
    TableCase("region_empty", _set(HUILA, region="''"), ["region is missing"]),
    TableCase("region_with_sql", _set(HUILA, region="'Huila''; DROP TABLE x; --'"),
              [r"row \(2024-07-10, Coffee, Huila'; DROP", "region name", "not allowed"]),
    TableCase("region_too_long", _set(HUILA, region=f"'{'R' * 65}'"), ["region name", "not allowed"]),
    TableCase("duplicate_row", [f"INSERT INTO {U} SELECT * FROM {U} WHERE {HUILA}"],
              [r"2 rows \(2024-07-10, Coffee, Colombia_Huila\) have the same date, commodity and region"]),
    TableCase("duplicate_key_other_values",
              [f"INSERT INTO {U} BY NAME SELECT * REPLACE (temp_max_c + 1 AS temp_max_c) FROM {U} WHERE {HUILA}"],
              [r"2 rows \(2024-07-10, Coffee, Colombia_Huila\)", "same date"]),
    TableCase("times_of_day_collide",
              _retype("date", "TIMESTAMP",
                      f"INSERT INTO {U} BY NAME SELECT * REPLACE (date + INTERVAL 9 HOUR AS date) FROM {U} "
                      f"WHERE {HUILA}"),
              [r"2 rows \(2024-07-10, Coffee, Colombia_Huila\)", "same date"]),
    TableCase("regions_disagree_on_close", _set(HUILA, close="close + 1"),
              [r"rows \(2024-07-10, Coffee, regions Brazil_MinasGerais and Colombia_Huila\)", "'close' differs",
               "same on every region row"]),
    TableCase("regions_disagree_on_trading_day", _set(HUILA, is_trading_day="0"), ["'is_trading_day' differs"]),
    TableCase("regions_disagree_on_fx", _set(HUILA, cop_usd="cop_usd * 2"), ["'cop_usd' differs"]),
    # History.
    TableCase("gap_of_months_flagged_non_trading",
              _set(f"commodity = 'Coffee' AND date BETWEEN {GAP}", is_trading_day="0"),
              ["commodity 'Coffee' has no trading data from 2024-06-18 to 2024-08-20", "63 days, more than 45"],
              ops=("read", "train", "forecast")),
    TableCase("gap_of_months_rows_missing", [f"DELETE FROM {U} WHERE commodity = 'Coffee' AND date BETWEEN {GAP}"],
              ["commodity 'Coffee' has no trading data from 2024-06-18 to 2024-08-20"],
              ops=("read", "train", "forecast")),
    TableCase("gap_in_one_region",
              [f"DELETE FROM {U} WHERE commodity = 'Coffee' AND region = 'Ethiopia_Sidamo' AND date BETWEEN {GAP}"],
              ["commodity 'Coffee', region 'Ethiopia_Sidamo' has no trading data from 2024-06-18 to 2024-08-20"],
              ops=("read", "train", "forecast")),
    TableCase("year_typo_future", [f"INSERT INTO {U} BY NAME SELECT * REPLACE (DATE '2224-07-10' AS date) FROM {U} "
                                   f"WHERE {COFFEE}"],
              ["no trading data from 2025-02-28 to 2224-07-10"], ops=("read",)),
    TableCase("year_typo_past", [f"INSERT INTO {U} BY NAME SELECT * REPLACE (DATE '1024-07-10' AS date) FROM {U} "
                                 f"WHERE {COFFEE}"],
              [r"row \(1024-07-10, Coffee, Brazil_MinasGerais\) and 3 more rows", "outside the supported range"],
              ops=("read", "train")),
    TableCase("year_typo_in_range", [f"INSERT INTO {U} BY NAME SELECT * REPLACE (DATE '1924-07-10' AS date) "
                                     f"FROM {U} WHERE {COFFEE}"],
              ["commodity 'Coffee' has no trading data from 1924-07-10 to 2020-01-02"], ops=("read", "train")),
    TableCase("too_little_history", [f"DELETE FROM {U} WHERE date < DATE '2024-11-01'"],
              ["commodity 'Coffee' has 41 trading days of data before 2025-01-01; at least 60 are needed"],
              ops=("train",)),
    TableCase("no_trading_days", _set("commodity = 'Coffee'", is_trading_day="0"),
              ["no trading days for 'Coffee'", "load data first"], ops=("train",)),
    TableCase("commodity_absent", [f"DELETE FROM {U} WHERE commodity = 'Coffee'"],
              ["no trading days for 'Coffee'", "load data first"], ops=("train",)),
]
