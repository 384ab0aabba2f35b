"""Frames as a backend hands them over (Databricks SQL returns typed frames, no schema query first).

Every reader ends in input_rules.conform_frame: these are the rules on the
frame's own dtypes, which a DuckDB table reaches through check_table_schema.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from forecast_assets.core.input_rules import InputDataError, conform_frame
from forecast_assets.core.sample import make_sample


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


FRAME_CASES = [
    ("missing_weather_column", lambda df: df.drop(columns="rain_mm"), [r"missing column: rain_mm"]),
    ("close_zero", _break(lambda df: df.__setitem__("close", df["close"].where(df.index != 7, 0.0))),
     [r"row \(2024-01-08, Coffee, Brazil_MinasGerais\)", "close"]),
    ("close_nan", _break(lambda df: df.__setitem__("close", df["close"].where(df.index != 3))),
     [r"row \(2024-01-04, Coffee, Brazil_MinasGerais\)", "close"]),
    ("close_as_text", lambda df: df.assign(close=df["close"].astype(str)), [r"'close'", "not a number type"]),
    ("vix_as_bool", lambda df: df.assign(vix=df["vix"] > 20), [r"'vix'", "not a number type"]),
    ("region_as_number", lambda df: df.assign(region=1), [r"'region'", "not text"]),
    ("trading_flag_2", _break(lambda df: df.__setitem__("is_trading_day", df["is_trading_day"].where(
        df.index != 5, 2))), [r"row \(2024-01-06, Coffee, Brazil_MinasGerais\)", "is_trading_day"]),
    ("duplicate_key", _break(_dup_key), [r"2 rows \(2024-01-01, Coffee, Brazil_MinasGerais\)"]),
    ("regions_differ", _break(_regions_differ), [r"'close' differs", "2024-03-05"]),
    ("bad_region_name", _break(lambda df: df.__setitem__("region", df["region"].replace(
        "Ethiopia_Sidamo", "Sidamo'; --"))), [r"region name"]),
    ("date_as_text", lambda df: df.assign(date=df["date"].dt.strftime("%Y-%m-%d")), [r"'date'", "not a date type"]),
]


@pytest.mark.parametrize("breaker, patterns", [(b, p) for _, b, p in FRAME_CASES], ids=[c[0] for c in FRAME_CASES])
def test_conform_frame_refuses_broken_frames(small_sample, breaker, patterns):
    conform_frame(small_sample.copy(), "t")
    with pytest.raises(InputDataError) as err:
        conform_frame(breaker(small_sample), "t")
    msg = str(err.value)
    assert msg.startswith("t: ")
    for p in patterns:
        assert re.search(p, msg), f"{p!r} not in {msg!r}"
