"""Bad files for `forecast-assets import`: each is made in a temporary folder and must be refused.

A case is (id, make(tmp_path) -> path, patterns the message must contain,
extra CLI arguments). Most are one change to an 80-weekday CSV of Coffee
(files.base_rows); row numbers are 1-based data rows (row 1 = file line 2).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .files import base_rows, good_frame, write_csv


@dataclass(frozen=True)
class ImportCase:
    id: str
    make: Callable[[Path], Path]
    patterns: list[str]
    args: list[str] = field(default_factory=list)


# -- CSV mutations ---------------------------------------------------------------------------

def _csv(mutate, name="bad.csv"):
    def make(tmp_path):
        return write_csv(tmp_path / name, mutate(base_rows()))
    return make


def _set(row: int, **values):
    """Set columns of 1-based data row `row`."""
    def apply(rows):
        rows[row - 1].update(values)
        return rows
    return apply


def _all_then(col, value, row, bad):
    """Give every row column `col` = value, then row `row` the bad value."""
    def apply(rows):
        for r in rows:
            r[col] = value
        rows[row - 1][col] = bad
        return rows
    return apply


def _drop(col):
    def apply(rows):
        for r in rows:
            r.pop(col, None)
        return rows
    return apply


def _gap(rows):
    # 2020-01-01 .. then jump four months ahead for the rest
    for r in rows[40:]:
        r["date"] = (pd.Timestamp(r["date"]) + pd.Timedelta(days=120)).strftime("%Y-%m-%d")
    return rows


def _region_gap(rows):
    other = base_rows(region="South")
    for r in rows:
        r["region"] = "North"
    del other[20:60]  # South misses 40 weekdays (~8 weeks)
    return rows + other


def _regions_disagree(rows):
    other = base_rows(region="South")
    for r in rows:
        r["region"] = "North"
    other[14]["close"] = "999"
    return rows + other


def _regions_disagree_on_flag(rows):
    other = base_rows(region="South", extra={"is_trading_day": "1"})
    for r in rows:
        r.update(region="North", is_trading_day="1")
    other[20]["is_trading_day"] = "0"
    return rows + other


def _two_commodities(rows):
    return rows + base_rows(n=10, commodity="Sugar")


def _dup_region_key(rows):
    for r in rows:
        r["region"] = "North"
    rows[30]["region"] = "South"
    rows[40].update(region="South", date=rows[30]["date"])
    return rows


def _header_repeated(rows):
    # Two exports concatenated: the second header lands in the data as row 41.
    return rows[:40] + [{"date": "date", "commodity": "commodity", "close": "close"}] + rows[40:]


def _year_typo(rows):
    rows[-1]["date"] = "2202-04-21"  # 2020-04-21 mistyped
    return rows


def _shuffled_with_nan(rows):
    order = np.random.default_rng(1).permutation(len(rows))
    rows = [rows[i] for i in order]
    rows[17]["close"] = "nan"  # row 18 of the file as written, whatever its date
    return rows


CSV_CASES = [
    ImportCase("missing_close_column", _csv(_drop("close")), [r"missing required column: close"]),
    ImportCase("missing_date_column", _csv(_drop("date")), [r"missing required column: date"]),
    ImportCase("missing_commodity_column", _csv(_drop("commodity")), [r"missing required column: commodity"]),
    ImportCase("empty_close", _csv(_set(7, close="")), [r"\brow 7\b", "2020-01-09", "close", "missing"]),
    ImportCase("nan_close", _csv(_set(9, close="NaN")), [r"\brow 9\b", "close"]),
    ImportCase("nan_close_unsorted_file", _csv(_shuffled_with_nan), [r"\brow 18\b", "close"]),
    ImportCase("inf_close", _csv(_set(5, close="inf")), [r"\brow 5\b", "close", "finite"]),
    ImportCase("minus_inf_volume", _csv(_set(3, volume="-inf")), [r"\brow 3\b", "volume"]),
    ImportCase("inf_weather", _csv(_set(44, temp_max_c="Infinity")), [r"\brow 44\b", "temp_max_c"]),
    ImportCase("inf_fx", _csv(_set(12, brl_usd="inf")), [r"\brow 12\b", "brl_usd", "finite"]),
    ImportCase("zero_close", _csv(_set(11, close="0")), [r"\brow 11\b", "close", "positive"]),
    ImportCase("negative_close", _csv(_set(2, close="-3.5")), [r"\brow 2\b", "close", "-3.5"]),
    ImportCase("negative_open", _csv(_set(4, open="-1")), [r"\brow 4\b", "open"]),
    ImportCase("zero_low", _csv(_set(6, low="0")), [r"\brow 6\b", "low"]),
    ImportCase("negative_volume", _csv(_set(12, volume="-5")), [r"\brow 12\b", "volume", "negative"]),
    ImportCase("negative_vix", _csv(_set(13, vix="-0.1")), [r"\brow 13\b", "vix"]),
    ImportCase("negative_precipitation", _csv(_set(15, precipitation_mm="-2")), [r"\brow 15\b", "precipitation_mm"]),
    ImportCase("negative_wind", _csv(_set(16, wind_speed_max_kmh="-9")), [r"\brow 16\b", "wind_speed_max_kmh"]),
    ImportCase("humidity_over_100", _csv(_set(16, humidity_mean_pct="140")), [r"\brow 16\b", "humidity_mean_pct"]),
    ImportCase("text_in_close", _csv(_set(6, close="abc")), [r"\brow 6\b", "close", "'abc'"]),
    ImportCase("units_in_close", _csv(_set(6, close="101.5 USD")), [r"\brow 6\b", "close", "101.5 USD"]),
    ImportCase("thousands_separator", _csv(_set(8, close='"1,234.5"')), [r"\brow 8\b", "close", "1,234.5"]),
    ImportCase("text_in_weather", _csv(_set(14, temp_max_c="warm")), [r"\brow 14\b", "temp_max_c", "'warm'"]),
    ImportCase("text_in_fx", _csv(_set(3, cop_usd="n.a.")), [r"\brow 3\b", "cop_usd", "'n.a.'"]),
    ImportCase("duplicate_key", _csv(_set(20, date="2020-01-14")), [r"\brows 10 and 20\b", "2020-01-14", "same date"]),
    ImportCase("duplicate_key_with_region", _csv(_dup_region_key), [r"\brows 31 and 41\b", "South"]),
    ImportCase("mixed_date_formats", _csv(_set(15, date="01/21/2020")), [r"\brow 15\b", "01/21/2020", "format"]),
    ImportCase("mixed_date_and_datetime", _csv(_set(17, date="2020-01-23 00:00:00")), [r"\brow 17\b", "format"]),
    ImportCase("impossible_date", _csv(_set(8, date="2020-02-30")), [r"\brow 8\b", "2020-02-30", "not a valid date"]),
    ImportCase("garbage_date", _csv(_set(2, date="20x0-01-02")), [r"\brow 2\b", "20x0-01-02"]),
    ImportCase("spreadsheet_serial_date", _csv(_set(1, date="43831")), [r"\brow 1\b", "43831", "ISO"]),
    ImportCase("date_out_of_range", _csv(_set(3, date="1024-01-03")), [r"\brow 3\b", "outside the supported range"]),
    ImportCase("non_iso_first_row", _csv(_set(1, date="01/01/2020")), [r"\brow 1\b", "ISO"]),
    ImportCase("header_repeated_in_data", _csv(_header_repeated), [r"\brow 41\b", "'date'", "format"]),
    ImportCase("year_typo", _csv(_year_typo), [r"'Coffee'", "2202-04-21", "more than 45"]),
    ImportCase("missing_date_cell", _csv(_set(13, date="")), [r"\brow 13\b", "date is missing"]),
    ImportCase("missing_commodity_cell", _csv(_set(5, commodity="")), [r"\brow 5\b", "commodity is missing"]),
    ImportCase("blank_commodity_cell", _csv(_set(5, commodity="   ")), [r"\brow 5\b", "commodity is missing"]),
    ImportCase("quote_in_commodity", _csv(_set(3, commodity="Cof'fee")), [r"\brow 3\b", "commodity name", "Cof'fee"]),
    ImportCase("sql_in_commodity", _csv(_set(1, commodity="Coffee'; DROP TABLE x; --")),
               [r"\brow 1\b", "commodity name", "DROP TABLE"]),
    ImportCase("pipe_in_commodity", _csv(_set(2, commodity="Coffee|2024")), [r"\brow 2\b", "commodity name"]),
    ImportCase("sql_in_region", _csv(_all_then("region", "North", 9, "Brazil; DELETE FROM t")),
               [r"\brow 9\b", "region name"]),
    ImportCase("double_quote_in_region", _csv(_all_then("region", "North", 1, '"a""b"')),
               [r"\brow 1\b", "region name", 'a"b']),
    ImportCase("newline_in_region", _csv(_all_then("region", "North", 4, '"Nor\nth"')), [r"\brow 4\b", "region name"]),
    ImportCase("missing_region_cell", _csv(_all_then("region", "North", 22, "")), [r"\brow 22\b", "region is missing"]),
    ImportCase("too_long_name", _csv(_set(4, commodity="C" * 65)), [r"\brow 4\b", "commodity name"]),
    # A file's own history counts when it replaces the stored one; a merge checks the merged history.
    ImportCase("too_little_history", _csv(lambda rows: rows[:30]), [r"'Coffee' has 30 trading days", "60"],
               ["--replace"]),
    ImportCase("too_little_history_second_commodity", _csv(_two_commodities), [r"'Sugar' has 10 trading days"],
               ["--replace"]),
    ImportCase("gap_of_months", _csv(_gap), [r"'Coffee'", "2020-02-25", "2020-06-25", "more than 45"]),
    ImportCase("gap_in_one_region", _csv(_region_gap), [r"region 'South'", "2020-01-28", "2020-03-25"]),
    ImportCase("regions_disagree_on_close", _csv(_regions_disagree),
               [r"\brows 15 and 95\b", "'close'", "regions North and South"]),
    ImportCase("regions_disagree_on_trading_day", _csv(_regions_disagree_on_flag),
               [r"\brows 21 and 101\b", "'is_trading_day'"]),
    ImportCase("trading_day_2", _csv(_all_then("is_trading_day", "1", 10, "2")),
               [r"\brow 10\b", "is_trading_day", r"2\.0 is not 0 or 1"]),
    ImportCase("trading_day_yes", _csv(_all_then("is_trading_day", "1", 10, "yes")),
               [r"\brow 10\b", "is_trading_day", "'yes'"]),
    ImportCase("trading_day_all_zero", _csv(lambda rows: [r | {"is_trading_day": "0"} for r in rows]),
               [r"'Coffee' has 0 trading days"]),
]


# -- whole files -----------------------------------------------------------------------------

def _raw(name: str, content: bytes):
    def make(tmp_path):
        path = tmp_path / name
        path.write_bytes(content)
        return path
    return make


def _parquet(df_fn, name="bad.parquet"):
    def make(tmp_path):
        path = tmp_path / name
        df_fn().to_parquet(path)
        return path
    return make


def _frame_with(col, row, value):
    def fn():
        df = good_frame()
        if col not in df.columns:
            df[col] = 1.0 if col != "close" else df["close"]
        df[col] = df[col].astype(str if isinstance(value, str) else float)  # a text column, or a float one
        df.loc[row - 1, col] = value
        return df
    return fn


def _ancient_timestamp():
    df = good_frame()
    days = df["date"].to_numpy().astype("datetime64[us]")
    days[6] = np.datetime64("1024-01-09", "us")  # a timestamp pandas' nanoseconds cannot hold
    return df.assign(date=pd.Series(days, dtype="datetime64[us]"))


def _huge_csv(tmp_path):
    """Just over the default limit of 1,000,000 rows (about 24 MB): refused while streaming, not loaded."""
    from forecast_assets.core.importer import MAX_IMPORT_ROWS

    n = MAX_IMPORT_ROWS + 1
    days = np.resize(pd.date_range("2000-01-01", periods=10_000, freq="D").strftime("%Y-%m-%d").to_numpy(), n)
    path = tmp_path / "huge.csv"
    pd.DataFrame({"date": days, "commodity": "Coffee", "close": "100.0"}).to_csv(path, index=False)
    return path


def _huge_parquet(tmp_path):
    from forecast_assets.core.importer import MAX_IMPORT_ROWS

    n = MAX_IMPORT_ROWS + 1
    path = tmp_path / "huge.parquet"
    pd.DataFrame({"date": np.resize(pd.date_range("2000-01-01", periods=10_000, freq="D").to_numpy(), n),
                  "commodity": "Coffee",
                  "close": np.full(n, 100.0)}).to_parquet(path)
    return path


def _sparse_rows(rows):
    # 80 trading days 40 days apart: 80 rows that would become ~3,200 calendar rows
    for i, r in enumerate(rows):
        r["date"] = (pd.Timestamp("2000-01-03") + pd.Timedelta(days=40 * i)).strftime("%Y-%m-%d")
    return rows


HEADER = b"date,commodity,close\n"


def _truncated_gz(tmp_path):
    """A download cut off halfway."""
    data = gzip.compress(write_csv(tmp_path / "full.csv", base_rows()).read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path

FILE_CASES = [
    ImportCase("empty_file", _raw("empty.csv", b""), [r"is empty"]),
    ImportCase("empty_gz", _raw("empty.csv.gz", b""), [r"is empty"]),
    ImportCase("gz_header_only", _raw("h.csv.gz", gzip.compress(HEADER)), [r"empty"]),
    ImportCase("truncated_gz", _truncated_gz, [r"cannot be read as csv", "end-of-stream"]),
    ImportCase("header_only", _raw("header.csv", HEADER), [r"is empty", "no data rows"]),
    ImportCase("semicolon_separated", _raw("semi.csv", b"date;commodity;close\n2020-01-01;Coffee;1\n"),
               [r"missing required columns", r"separated by ';'"]),
    ImportCase("wrong_extension_xlsx", _raw("prices.xlsx", b"PK\x03\x04"), [r"'\.xlsx'"]),
    ImportCase("wrong_extension_json", _raw("prices.json", b"[]"), [r"'\.json'"]),
    ImportCase("no_extension", _raw("prices", HEADER), [r"extension"]),
    ImportCase("no_such_file", lambda tmp_path: tmp_path / "nowhere.csv", [r"no such file"]),
    ImportCase("a_directory", lambda tmp_path: (tmp_path / "dir.csv").mkdir() or tmp_path / "dir.csv",
               [r"is a directory"]),
    ImportCase("ragged_csv_row", _raw("ragged.csv", HEADER + b"2020-01-01,Coffee,1\n2020-01-02,Coffee,1,extra,x\n"),
               [r"line 3", "well-formed"]),
    ImportCase("duplicate_column_names", _raw("dup.csv", b"date,commodity,close, Close\n2020-01-01,Coffee,1,1\n"),
               [r"' Close'", r"'close'"]),
    ImportCase("same_column_twice", _raw("dup2.csv", b"date,commodity,close,date\n2020-01-01,Coffee,1,2020-01-02\n"),
               [r"column 'date' and column 'date'"]),
    ImportCase("not_utf8", _raw("latin.csv", HEADER + "2020-01-01,Caf\xe9,1\n".encode("latin-1")), [r"UTF-8"]),
    ImportCase("binary_garbage", _raw("noise.csv", bytes(range(256)) * 4), [r"UTF-8|well-formed|cannot be read"]),
    ImportCase("not_parquet", _raw("fake.parquet", b"date,commodity,close\n"), [r"cannot be read as parquet"]),
    ImportCase("parquet_no_rows", _parquet(lambda: good_frame().iloc[:0]), [r"is empty"]),
    ImportCase("parquet_nan_close", _parquet(_frame_with("close", 12, np.nan)), [r"\brow 12\b", "close"]),
    ImportCase("parquet_inf_vix", _parquet(_frame_with("vix", 21, np.inf)), [r"\brow 21\b", "vix"]),
    ImportCase("parquet_text_close", _parquet(_frame_with("close", 33, "n/a!")), [r"\brow 33\b", "close", "n/a!"]),
    ImportCase("parquet_bool_close", _parquet(lambda: good_frame().assign(close=True)), [r"'close'", "true/false"]),
    ImportCase("parquet_negative_high", _parquet(_frame_with("high", 2, -7.0)), [r"\brow 2\b", "high"]),
    ImportCase("parquet_missing_close_column", _parquet(lambda: good_frame().drop(columns="close")),
               [r"missing required column: close"]),
    ImportCase("parquet_numeric_dates", _parquet(lambda: good_frame().assign(date=20200101)), [r"'date'", "int"]),
    ImportCase("parquet_text_dates_mixed", _parquet(lambda: good_frame().assign(
        date=lambda d: d["date"].dt.strftime("%Y-%m-%d").where(d.index != 9, "14.01.2020"))),
        [r"\brow 10\b", "14.01.2020", "format"]),
    ImportCase("parquet_date_out_of_range", _parquet(_ancient_timestamp), [r"\brow 7\b", "1024-01-09", "outside"]),
    ImportCase("parquet_duplicate_key", _parquet(lambda: good_frame().assign(
        date=lambda d: d["date"].where(d.index != 5, d["date"].iloc[4]))), [r"\brows 5 and 6\b", "same date"]),
    ImportCase("huge_csv_over_default_limit", _huge_csv, [r"more data rows than the import limit of 1,000,000", "in parts"]),
    ImportCase("huge_parquet_over_default_limit", _huge_parquet, [r"has 1,000,001 data rows, more than the import limit of 1,000,000", "in parts"]),
    ImportCase("over_a_lower_limit_gz", lambda tmp_path: _gz(write_csv(tmp_path / "p.csv", base_rows())),
               [r"more data rows than the import limit of 50", "--max-rows"], ["--max-rows", "50"]),
    ImportCase("calendar_fill_over_limit", _csv(_sparse_rows, "sparse.csv"),
               [r"3,161 rows once every calendar day", "limit of 1,000"], ["--max-rows", "1000"]),
]


# -- issue 13: what real files get wrong that no single row shows ------------------------------

def _spike(rows):
    rows[39]["close"] = f"{float(rows[39]['close']) * 3:.2f}"  # a one-day x3 spike (row 40), back the next day
    return rows


def _thousands(rows):
    for i, r in enumerate(rows):
        r["close"] = f"{990 + 0.1 * i:.1f}"
    rows[49]["close"] = "1.000"  # 1,000 written with a European thousands separator, read as 1.0
    return rows


def _case_within(rows):
    for r in rows[40:]:
        r["commodity"] = "coffee"
    return rows


def _case_table(rows):
    for r in rows:
        r["commodity"] = "coffee"  # the table holds 'Coffee'
    return rows


def _utc_midnight_in_new_york():
    df = good_frame()
    df["date"] = df["date"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")  # 2019-12-31 19:00-05:00 ...
    return df


GUARD_CASES = [
    ImportCase("one_day_x3_spike", _csv(_spike), [r"\brow 40\b", "2020-02-25", r"one-day move of x3", "--allow-jumps"]),
    ImportCase("european_thousands_separator", _csv(_thousands),
               [r"\brow 50\b", r"close 1 after 994\.8", r"'1\.000' looks like a number written with a thousands "
                                                        r"separator", "--allow-jumps"]),
    ImportCase("names_equal_but_for_case_in_file", _csv(_case_within),
               [r"commodity 'Coffee' \(row 1\) and commodity 'coffee' \(row 41\) differ only in case"]),
    ImportCase("name_equal_but_for_case_to_the_table", _csv(_case_table),
               [r"commodity 'coffee' in the file and commodity 'Coffee' in commodity\.silver\.unified_data differ "
                r"only in case"]),
    ImportCase("regions_not_stored", _csv(lambda rows: rows),
               [r"commodity 'Coffee': the file's region\(s\) 'global' are not among the regions stored in "
                r"commodity\.silver\.unified_data \('Brazil_MinasGerais', ", "--replace"]),
    ImportCase("parquet_utc_midnight_in_new_york", _parquet(_utc_midnight_in_new_york),
               [r"midnight UTC shown in time zone America/New_York", "2019-12-31 19:00:00-05:00",
                r"the day before 2020-01-01"]),
]


def _gz(path: Path) -> Path:
    out = path.with_suffix(".csv.gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


IMPORT_CASES = CSV_CASES + FILE_CASES + GUARD_CASES
