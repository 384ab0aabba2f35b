"""Importing a user's daily history: good files round-trip with the documented handling.

Bad files (and bad unified_data tables) are the corpus in forecast_assets_tests/bad_inputs/.
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd

from forecast_assets.core.data import WEATHER_COLUMNS
from forecast_assets.core.importer import (
    UNIFIED_COLUMNS,
    prepare_unified,
    read_table,
    validate_unified,
)
from forecast_assets.core.sample import make_sample
from forecast_assets_tests.bad_inputs.files import N, base_rows, write_csv


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
