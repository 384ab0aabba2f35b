"""Importing a user's daily history: good files round-trip, bad files are refused with the row named."""

from __future__ import annotations

import gzip
import re
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecast_assets.core.data import WEATHER_COLUMNS
from forecast_assets.core.importer import (
    UNIFIED_COLUMNS,
    ImportValidationError,
    prepare_unified,
    read_table,
    validate_unified,
)
from forecast_assets.core.sample import make_sample

N = 80  # weekdays in the base file; more than the default min_trading_days (60)


def base_rows(n: int = N, commodity: str = "Coffee", start: str = "2020-01-01", region: str | None = None,
              extra: dict | None = None) -> list[dict]:
    """Weekday rows as text, like a CSV a user would export."""
    rows = []
    for i, d in enumerate(pd.bdate_range(start, periods=n)):
        row = {"date": d.strftime("%Y-%m-%d"), "commodity": commodity, "close": f"{100 + 0.5 * i:.2f}"}
        if region is not None:
            row["region"] = region
        row.update(extra or {})
        rows.append(row)
    return rows


def write_csv(path, rows: list[dict], columns: list[str] | None = None):
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def load(path, **kw):
    return prepare_unified(read_table(path), source=path.name, **kw)


# -- good inputs ----------------------------------------------------------------------------

def test_minimal_csv_round_trip_with_calendar_fill(tmp_path):
    path = write_csv(tmp_path / "prices.csv", base_rows())
    out, notes = load(path)
    assert list(out.columns) == UNIFIED_COLUMNS
    first, last = pd.Timestamp("2020-01-01"), pd.bdate_range("2020-01-01", periods=N)[-1]
    assert out["date"].tolist() == list(pd.date_range(first, last))  # every calendar day
    assert out["is_trading_day"].dtype == "int32"
    assert out["is_trading_day"].sum() == N
    assert (out.loc[out["date"].dt.dayofweek >= 5, "is_trading_day"] == 0).all()
    assert (out.loc[out["date"].dt.dayofweek < 5, "is_trading_day"] == 1).all()
    assert set(out["region"]) == {"global"} and set(out["commodity"]) == {"Coffee"}
    # weekends carry Friday's values; open/high/low default to close; nullable columns are NULL
    g = out.set_index("date")
    assert g.loc["2020-01-04", "close"] == g.loc["2020-01-03", "close"] == 101.0
    assert (out["open"] == out["close"]).all() and (out["high"] == out["close"]).all()
    assert (out["low"] == out["close"]).all()
    assert out[["volume", "vix", *WEATHER_COLUMNS]].isna().all().all()
    assert np.isfinite(out["close"]).all() and (out["close"] > 0).all()
    text = " | ".join(notes)
    assert "global" in text and "weather" in text and "open" in text
    validate_unified(out)


def test_unsorted_input_case_insensitive_headers_and_unknown_columns(tmp_path):
    rows = base_rows()
    order = np.random.default_rng(0).permutation(len(rows))
    cols = [" Date", "COMMODITY", "Close ", " Notes "]
    shuffled = [{" Date": rows[i]["date"], "COMMODITY": rows[i]["commodity"], "Close ": rows[i]["close"],
                 " Notes ": "x"} for i in order]
    out, notes = load(write_csv(tmp_path / "shuffled.csv", shuffled, cols))
    ref, _ = load(write_csv(tmp_path / "sorted.csv", base_rows()))
    pd.testing.assert_frame_equal(out, ref)
    assert any("ignored unknown columns: Notes" in n for n in notes)
    assert any("sorted" in n for n in notes)


def test_parquet_regions_weather_fx_and_holidays(tmp_path):
    days = pd.bdate_range("2021-01-04", periods=100)
    days = days[days != pd.Timestamp("2021-04-02")]  # a holiday: a 4-day hole is fine
    rows = []
    for region, offset in (("North", 0.0), ("South", 5.0)):
        for i, d in enumerate(days):
            if region == "South" and i == 10:
                continue  # South misses a date North has
            rows.append({"date": d, "commodity": "Cocoa", "region": region, "close": 2000.0 + i,
                         "open": np.nan if i == 3 else 1999.0 + i, "volume": 1000.0 + i,
                         "temp_mean_c": 20.0 + offset + 0.1 * i, "brl_usd": 5.0 + 0.01 * i})
    path = tmp_path / "cocoa.parquet"
    pd.DataFrame(rows).sample(frac=1, random_state=3).to_parquet(path)
    out, notes = load(path)
    assert list(out.columns) == UNIFIED_COLUMNS + ["brl_usd"]
    validate_unified(out)
    assert out.groupby(["commodity", "date"])[["close", "brl_usd", "is_trading_day"]].nunique().eq(1).all().all()
    south = out[out["region"] == "South"].set_index("date")
    # the date only North had: South gets North's market values and its own (forward filled) weather
    d10, d9 = days[10], days[9]
    assert south.loc[d10, "close"] == 2010.0 and south.loc[d10, "is_trading_day"] == 1
    assert south.loc[d10, "temp_mean_c"] == south.loc[d9, "temp_mean_c"]
    assert out.set_index(["region", "date"]).loc[("North", pd.Timestamp("2021-04-02")), "is_trading_day"] == 0
    assert out.loc[out["date"] == days[3], "open"].eq(out.loc[out["date"] == days[3], "close"]).all()
    assert any("open in 2 rows" in n for n in notes)
    assert not out[["commodity", "region", "date"]].duplicated().any()
    assert out.equals(out.sort_values(["commodity", "region", "date"]).reset_index(drop=True))


def test_parquet_date_type_column(tmp_path):
    df = pd.DataFrame(base_rows())
    df["date"] = pd.to_datetime(df["date"]).dt.date  # Parquet DATE -> datetime.date objects
    df["close"] = df["close"].astype(float)
    path = tmp_path / "dates.pq"
    df.to_parquet(path)
    out, _ = load(path)
    ref, _ = load(write_csv(tmp_path / "ref.csv", base_rows()))
    pd.testing.assert_frame_equal(out, ref)


def test_sample_round_trips_exactly_through_parquet_and_csv_gz(tmp_path):
    sample = make_sample(start=date(2022, 1, 1), end=date(2023, 12, 31))
    sample.to_parquet(tmp_path / "s.parquet")
    out, _ = load(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(out, sample)
    sample.to_csv(tmp_path / "s.csv.gz", index=False)
    out, _ = load(tmp_path / "s.csv.gz")
    pd.testing.assert_frame_equal(out, sample, check_exact=False, rtol=1e-12)


def test_iso_datetime_strings_and_min_trading_days(tmp_path):
    rows = base_rows(n=30)
    for r in rows:
        r["date"] += " 00:00:00"
    out, _ = load(write_csv(tmp_path / "t.csv", rows), min_trading_days=30)
    assert out["is_trading_day"].sum() == 30


def test_validate_unified_on_full_sample_is_fast():
    sample = make_sample(end=date(2026, 6, 30))
    t = time.perf_counter()
    validate_unified(sample)
    assert time.perf_counter() - t < 2.0


# -- bad inputs -----------------------------------------------------------------------------

def _set(row: int, **values):
    """Mutation: set columns of 1-based data row `row`."""
    def apply(rows):
        rows[row - 1].update(values)
        return rows
    return apply


def _all_then(col, value, row, bad):
    """Mutation: give every row column `col` = value, then row `row` the bad value."""
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


def _two_commodities(rows):
    return rows + base_rows(n=10, commodity="Sugar")


def _dup_region_key(rows):
    for r in rows:
        r["region"] = "North"
    rows[30]["region"] = "South"
    rows[40].update(region="South", date=rows[30]["date"])
    return rows


CSV_CASES = [
    # id, mutation of the base rows, patterns the message must contain
    ("missing_close", _drop("close"), [r"missing required column: close"]),
    ("missing_date", _drop("date"), [r"missing required column: date"]),
    ("missing_commodity", _drop("commodity"), [r"missing required column: commodity"]),
    ("empty_close", _set(7, close=""), [r"\brow 7\b", "close"]),
    ("nan_close", _set(9, close="NaN"), [r"\brow 9\b", "close"]),
    ("inf_close", _set(5, close="inf"), [r"\brow 5\b", "close", "finite"]),
    ("minus_inf_volume", _set(3, volume="-inf"), [r"\brow 3\b", "volume"]),
    ("inf_weather", _set(44, temp_max_c="Infinity"), [r"\brow 44\b", "temp_max_c"]),
    ("zero_close", _set(11, close="0"), [r"\brow 11\b", "close", "positive"]),
    ("negative_close", _set(2, close="-3.5"), [r"\brow 2\b", "close"]),
    ("negative_open", _set(4, open="-1"), [r"\brow 4\b", "open"]),
    ("zero_low", _set(6, low="0"), [r"\brow 6\b", "low"]),
    ("negative_volume", _set(12, volume="-5"), [r"\brow 12\b", "volume", "negative"]),
    ("negative_vix", _set(13, vix="-0.1"), [r"\brow 13\b", "vix"]),
    ("negative_precipitation", _set(15, precipitation_mm="-2"), [r"\brow 15\b", "precipitation_mm"]),
    ("humidity_over_100", _set(16, humidity_mean_pct="140"), [r"\brow 16\b", "humidity_mean_pct"]),
    ("text_in_close", _set(6, close="abc"), [r"\brow 6\b", "close", "'abc'"]),
    ("thousands_separator", _set(8, close='"1,234.5"'), [r"\brow 8\b", "close", "1,234.5"]),
    ("text_in_weather", _set(14, temp_max_c="warm"), [r"\brow 14\b", "temp_max_c", "'warm'"]),
    ("duplicate_key", _set(20, date="2020-01-14"), [r"\brows 10 and 20\b", "2020-01-14"]),
    ("duplicate_key_with_region", _dup_region_key, [r"\brows 31 and 41\b", "South"]),
    ("mixed_date_formats", _set(15, date="01/21/2020"), [r"\brow 15\b", "01/21/2020", "format"]),
    ("mixed_date_and_datetime", _set(17, date="2020-01-23 00:00:00"), [r"\brow 17\b", "format"]),
    ("unparseable_date", _set(8, date="2020-02-30"), [r"\brow 8\b", "2020-02-30", "not a valid date"]),
    ("garbage_date", _set(2, date="20x0-01-02"), [r"\brow 2\b", "20x0-01-02"]),
    ("non_iso_first_row", _set(1, date="01/01/2020"), [r"\brow 1\b", "ISO"]),
    ("missing_date_cell", _set(13, date=""), [r"\brow 13\b", "date is missing"]),
    ("missing_commodity_cell", _set(5, commodity=""), [r"\brow 5\b", "commodity is missing"]),
    ("quote_in_commodity", _set(3, commodity="Cof'fee"), [r"\brow 3\b", "commodity name", "Cof'fee"]),
    ("sql_in_commodity", _set(1, commodity="Coffee'; DROP TABLE x; --"), [r"\brow 1\b", "commodity name"]),
    ("sql_in_region", _all_then("region", "North", 9, "Brazil; DELETE FROM t"), [r"\brow 9\b", "region name"]),
    ("double_quote_in_region", _all_then("region", "North", 1, '"a""b"'), [r"\brow 1\b", "region name", 'a"b']),
    ("missing_region_cell", _all_then("region", "North", 22, ""), [r"\brow 22\b", "region is missing"]),
    ("too_long_name", _set(4, commodity="C" * 65), [r"\brow 4\b", "commodity name"]),
    ("too_little_history", lambda rows: rows[:30], [r"'Coffee' has 30 trading days", "60"]),
    ("too_little_history_second_commodity", _two_commodities, [r"'Sugar' has 10 trading days"]),
    ("gap_of_months", _gap, [r"'Coffee'", "2020-02-25", "2020-06-25", "more than 45"]),
    ("gap_in_one_region", _region_gap, [r"region 'South'", "2020-01-28", "2020-03-25"]),
    ("regions_disagree_on_close", _regions_disagree, [r"\brows 15 and 95\b", "'close'", "region"]),
    ("bad_is_trading_day", _all_then("is_trading_day", "1", 10, "2"), [r"\brow 10\b", "is_trading_day", "'2'"]),
]


@pytest.mark.parametrize("mutate, patterns", [(m, p) for _, m, p in CSV_CASES], ids=[c[0] for c in CSV_CASES])
def test_bad_csv_is_refused_with_the_problem_named(tmp_path, mutate, patterns):
    rows = mutate(base_rows())
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportValidationError) as err:
        load(path)
    msg = str(err.value)
    for p in patterns:
        assert re.search(p, msg), f"{p!r} not in {msg!r}"
    assert msg.startswith("bad.csv")  # the source is named too


def _write_raw(name: str, content: bytes):
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


def _good_frame() -> pd.DataFrame:
    df = pd.DataFrame(base_rows())
    df["date"] = pd.to_datetime(df["date"])
    df["close"] = df["close"].astype(float)
    return df


def _frame_with(col, row, value):
    def fn():
        df = _good_frame()
        if col not in df.columns:
            df[col] = 1.0 if col != "close" else df["close"]
        df[col] = df[col].astype(str if isinstance(value, str) else float)  # a text column, or a float one
        df.loc[row - 1, col] = value
        return df
    return fn


HEADER = b"date,commodity,close\n"
FILE_CASES = [
    ("empty_file", _write_raw("empty.csv", b""), [r"is empty"]),
    ("empty_gz", _write_raw("empty.csv.gz", b""), [r"is empty"]),
    ("gz_header_only", _write_raw("h.csv.gz", gzip.compress(HEADER)), [r"empty"]),
    ("header_only", _write_raw("header.csv", HEADER), [r"is empty", "no data rows"]),
    ("wrong_extension_xlsx", _write_raw("prices.xlsx", b"PK\x03\x04"), [r"'\.xlsx'"]),
    ("wrong_extension_json", _write_raw("prices.json", b"[]"), [r"'\.json'"]),
    ("no_extension", _write_raw("prices", HEADER), [r"extension"]),
    ("ragged_csv_row", _write_raw("ragged.csv", HEADER + b"2020-01-01,Coffee,1\n2020-01-02,Coffee,1,extra,x\n"),
     [r"line 3", "well-formed"]),
    ("duplicate_column_names", _write_raw("dup.csv", b"date,commodity,close, Close\n2020-01-01,Coffee,1,1\n"),
     [r"' Close'", r"'close'"]),
    ("not_utf8", _write_raw("latin.csv", HEADER + "2020-01-01,Caf\xe9,1\n".encode("latin-1")), [r"UTF-8"]),
    ("not_parquet", _write_raw("fake.parquet", b"date,commodity,close\n"), [r"cannot be read as parquet"]),
    ("parquet_no_rows", _parquet(lambda: _good_frame().iloc[:0]), [r"is empty"]),
    ("parquet_nan_close", _parquet(_frame_with("close", 12, np.nan)), [r"\brow 12\b", "close"]),
    ("parquet_inf_vix", _parquet(_frame_with("vix", 21, np.inf)), [r"\brow 21\b", "vix"]),
    ("parquet_text_close", _parquet(_frame_with("close", 33, "n/a!")), [r"\brow 33\b", "close", "n/a!"]),
    ("parquet_negative_high", _parquet(_frame_with("high", 2, -7.0)), [r"\brow 2\b", "high"]),
    ("parquet_missing_close_column", _parquet(lambda: _good_frame().drop(columns="close")),
     [r"missing required column: close"]),
    ("parquet_numeric_dates", _parquet(lambda: _good_frame().assign(date=20200101)), [r"'date'", "int"]),
]


@pytest.mark.parametrize("make, patterns", [(m, p) for _, m, p in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_file_is_refused_with_the_problem_named(tmp_path, make, patterns):
    path = make(tmp_path)
    with pytest.raises(ImportValidationError) as err:
        load(path)
    msg = str(err.value)
    for p in patterns:
        assert re.search(p, msg), f"{p!r} not in {msg!r}"


# -- validate_unified -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_sample() -> pd.DataFrame:
    return make_sample(start=date(2024, 1, 1), end=date(2024, 6, 30))


def _break(fn):
    def apply(df):
        df = df.copy()
        fn(df)
        return df
    return apply


def _regions_differ(df):
    df.loc[(df["region"] == "Colombia_Huila") & (df["date"] == "2024-03-05"), "close"] += 0.01


def _dup_key(df):
    df.loc[1, "date"] = df.loc[0, "date"]


VALIDATE_CASES = [
    ("missing_weather_column", lambda df: df.drop(columns="rain_mm"), [r"missing column: rain_mm"]),
    ("close_zero", _break(lambda df: df.__setitem__("close", df["close"].where(df.index != 7, 0.0))),
     [r"\brow 8\b", "close"]),
    ("close_nan", _break(lambda df: df.__setitem__("close", df["close"].where(df.index != 3))),
     [r"\brow 4\b", "close"]),
    ("close_as_text", lambda df: df.assign(close=df["close"].astype(str)), [r"'close'", "not a number type"]),
    ("trading_flag_2", _break(lambda df: df.__setitem__("is_trading_day", df["is_trading_day"].where(
        df.index != 5, 2))), [r"\brow 6\b", "is_trading_day"]),
    ("duplicate_key", _break(_dup_key), [r"\brows 1 and 2\b"]),
    ("regions_differ", _break(_regions_differ), [r"'close' differs", "2024-03-05"]),
    ("bad_region_name", _break(lambda df: df.__setitem__("region", df["region"].replace(
        "Ethiopia_Sidamo", "Sidamo'; --"))), [r"region name"]),
    ("date_as_text", lambda df: df.assign(date=df["date"].dt.strftime("%Y-%m-%d")), [r"'date'"]),
]


@pytest.mark.parametrize("breaker, patterns", [(b, p) for _, b, p in VALIDATE_CASES],
                         ids=[c[0] for c in VALIDATE_CASES])
def test_validate_unified_refuses_broken_frames(small_sample, breaker, patterns):
    validate_unified(small_sample)
    with pytest.raises(ImportValidationError) as err:
        validate_unified(breaker(small_sample))
    msg = str(err.value)
    for p in patterns:
        assert re.search(p, msg), f"{p!r} not in {msg!r}"
