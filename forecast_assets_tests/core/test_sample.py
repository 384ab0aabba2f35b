"""The synthetic unified_data: contract shape, determinism, shocks that move the price."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest

from forecast_assets.config import ConfigError
from forecast_assets.core import sample as sample_mod
from forecast_assets.core.data import MARKET_COLUMNS, WEATHER_COLUMNS
from forecast_assets.core.importer import UNIFIED_COLUMNS, validate_unified
from forecast_assets.core.sample import FX_COLUMNS, GEN_END, GEN_START, make_sample

END = date(2026, 6, 30)
COFFEE_REGIONS = ["Brazil_MinasGerais", "Colombia_Huila", "Ethiopia_Sidamo", "Vietnam_CentralHighlands"]
SUGAR_REGIONS = ["Brazil_SaoPaulo", "India_UttarPradesh", "Thailand_Isan"]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return make_sample(end=END)


def _clear_caches():
    for f in (sample_mod._calendar, sample_mod._shared_market, sample_mod._generate):
        f.cache_clear()


def trading(df: pd.DataFrame, commodity: str) -> pd.DataFrame:
    """One row per trading day (first region), indexed by date."""
    g = df[(df["commodity"] == commodity) & (df["is_trading_day"] == 1)]
    return g[g["region"] == g["region"].iloc[0]].set_index("date")


def test_columns_and_types(df):
    assert list(df.columns) == UNIFIED_COLUMNS + FX_COLUMNS
    assert df["date"].dtype == "datetime64[ns]"
    assert (df["date"] == df["date"].dt.normalize()).all()
    assert df["is_trading_day"].dtype == "int32"
    for c in MARKET_COLUMNS + WEATHER_COLUMNS + FX_COLUMNS:
        assert df[c].dtype == "float64", c
    assert df[MARKET_COLUMNS + WEATHER_COLUMNS + FX_COLUMNS].notna().all().all()


def test_grain_regions_and_calendar(df):
    assert not df.duplicated(["date", "commodity", "region"]).any()
    assert sorted(df.groupby("commodity")["region"].unique()["Coffee"]) == COFFEE_REGIONS
    assert sorted(df.groupby("commodity")["region"].unique()["Sugar"]) == SUGAR_REGIONS
    days = pd.date_range("2015-07-07", END, freq="D")
    for (_, _), g in df.groupby(["commodity", "region"]):
        assert g["date"].tolist() == list(days)  # every calendar day, in order
    # sorted by commodity, region, date
    assert df.equals(df.sort_values(["commodity", "region", "date"]).reset_index(drop=True))


def test_passes_contract_validation_quickly(df):
    t = time.perf_counter()
    validate_unified(df)
    assert time.perf_counter() - t < 2.0


def test_full_sample_is_fast():
    _clear_caches()
    t = time.perf_counter()
    out = make_sample(end=END)
    elapsed = time.perf_counter() - t
    assert len(out) > 28_000
    assert elapsed < 3.0, elapsed


def test_deterministic_and_independent_of_end_start_and_selection(df):
    short = make_sample(end=date(2020, 12, 31))
    _clear_caches()  # determinism comes from the seeds, not from a cache
    again = make_sample(end=date(2020, 12, 31))
    pd.testing.assert_frame_equal(short, again)
    cut = df[df["date"] <= "2020-12-31"].reset_index(drop=True)
    pd.testing.assert_frame_equal(short, cut)
    later = make_sample(start=date(2019, 3, 2), end=date(2020, 12, 31))
    pd.testing.assert_frame_equal(later, short[short["date"] >= "2019-03-02"].reset_index(drop=True))
    sugar = make_sample(end=END, commodities=("Sugar",))
    pd.testing.assert_frame_equal(sugar, df[df["commodity"] == "Sugar"].reset_index(drop=True))


def test_default_end_is_yesterday_utc():
    out = make_sample(commodities=("Sugar",), start=date(2025, 1, 1))
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    assert out["date"].max().date() in (yesterday, yesterday - timedelta(days=1))  # midnight may pass between


def test_market_columns_equal_across_regions_and_vix_fx_shared(df):
    per_date = df.groupby(["commodity", "date"])[MARKET_COLUMNS + FX_COLUMNS + ["is_trading_day"]].nunique()
    assert (per_date == 1).all().all()
    shared = df.groupby("date")[["vix"] + FX_COLUMNS].nunique()
    assert (shared == 1).all().all()  # same vix and FX for Coffee and Sugar


def test_trading_day_flags_and_forward_fill(df):
    g = df[(df["commodity"] == "Coffee") & (df["region"] == "Colombia_Huila")].set_index("date")
    d = g.index
    # ICE Futures U.S. softs sessions: the NYSE's, straight from exchange-calendars
    xnys = xc.get_calendar("XNYS", start=str(d[0].date()), end=str(d[-1].date())).sessions
    assert (g["is_trading_day"].to_numpy() == d.isin(xnys).astype(int)).all()
    assert g.loc["2020-12-25", "is_trading_day"] == 0 and g.loc["2020-12-24", "is_trading_day"] == 1
    # Good Friday, Thanksgiving, Juneteenth (observed), MLK Day: exchange holidays, no session
    assert (g.loc[["2020-04-10", "2020-11-26", "2022-06-20", "2024-01-15"], "is_trading_day"] == 0).all()
    market = MARKET_COLUMNS + FX_COLUMNS
    last_trading = g[market].where(g["is_trading_day"] == 1).ffill()
    pd.testing.assert_frame_equal(g[market], last_trading)
    # weather still changes on non-trading days
    off = g[g["is_trading_day"] == 0]
    assert off["temp_mean_c"].diff().abs().gt(0).mean() > 0.5


def test_prices_are_plausible(df):
    assert (df[["open", "high", "low", "close", "volume", "vix"] + FX_COLUMNS] > 0).all().all()
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
    assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    for commodity, lo, hi in (("Coffee", 0.017, 0.025), ("Sugar", 0.015, 0.022)):
        vol = np.diff(np.log(trading(df, commodity)["close"].to_numpy())).std()
        assert lo < vol < hi, (commodity, vol)
    assert 10 < trading(df, "Sugar")["close"].median() < 30
    assert 40 < trading(df, "Coffee")["close"].median() < 250


def test_vix_spike_march_2020(df):
    vix = trading(df, "Coffee")["vix"]
    assert vix["2020-03-09":"2020-03-31"].max() > 2 * vix["2019"].median()


def test_frost_exists_and_moves_coffee(df):
    coffee = df[df["commodity"] == "Coffee"]
    frost = coffee[coffee["temp_min_c"] < 0]
    assert set(frost["region"]) == {"Brazil_MinasGerais"}
    assert frost["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-07-19", "2021-07-20", "2021-07-21",
                                                                 "2021-07-22"]
    close = trading(df, "Coffee")["close"]
    before = close[:"2021-07-19"].iloc[-1]
    after = close["2021-07-20":]
    jump = after.iloc[19] / before - 1  # 20 trading days later (2021-08-16)
    assert 0.20 < jump < 0.40, jump
    # much larger than a typical 20-day move of this series
    moves = np.abs(np.log(close).diff(20).dropna())
    assert np.log1p(jump) > moves.quantile(0.85)


def test_drought_exists_and_lifts_sugar(df):
    up = df[df["region"] == "India_UttarPradesh"].set_index("date")["precipitation_mm"]
    monsoon = up[(up.index.month >= 6) & (up.index.month <= 9)]
    by_year = monsoon.groupby(monsoon.index.year).sum()
    normal = by_year.drop([2023, 2026], errors="ignore").loc[2016:].median()
    assert by_year[2023] < 0.4 * normal
    close = trading(df, "Sugar")["close"]
    lift = close[:"2023-10-31"].iloc[-1] / close[:"2023-06-14"].iloc[-1] - 1
    assert 0.12 < lift < 0.40, lift
    # gradual: no single day carries the move
    r = np.log(close["2023-06-15":"2023-10-31"]).diff().dropna()
    assert r.max() < 0.1


def test_weather_regressor_has_something_to_find(df):
    """Daily returns fall after wet months and rise after dry ones (lagged, region-averaged)."""
    for commodity in ("Coffee", "Sugar"):
        g = df[df["commodity"] == commodity].sort_values(["region", "date"])
        trail = g.groupby("region")["precipitation_mm"].transform(
            lambda s: np.log1p(s.rolling(30, min_periods=1).mean().shift(1)))
        x = trail.groupby(g["date"]).mean()
        close = trading(df, commodity)["close"]
        r = np.log(close).diff()
        frame = pd.DataFrame({"r": r, "x": x.reindex(close.index)}).dropna()
        corr = frame["r"].corr(frame["x"])
        t_stat = corr * np.sqrt(len(frame))
        assert t_stat < -2.0, (commodity, t_stat)


def test_seasons_follow_hemispheres(df):
    def monthly(region, col):
        g = df[df["region"] == region]
        return g.groupby(g["date"].dt.month)[col].mean()

    mg = monthly("Brazil_MinasGerais", "temp_mean_c")
    assert mg[7] < mg[1] - 4  # southern winter in July
    up_t, up_p = monthly("India_UttarPradesh", "temp_mean_c"), monthly("India_UttarPradesh", "precipitation_mm")
    assert up_t[5] > up_t[1] + 8  # pre-monsoon heat
    assert up_p[[7, 8]].mean() > 5 * up_p[[1, 2]].mean()  # monsoon
    assert (df["snowfall_cm"] == 0).all()  # tropical regions
    assert (df["rain_mm"] == df["precipitation_mm"]).all()
    assert df["humidity_mean_pct"].between(0, 100).all()


def test_generic_commodity():
    cocoa = make_sample(end=date(2020, 12, 31), commodities=("Cocoa",))
    assert list(cocoa.columns) == UNIFIED_COLUMNS + FX_COLUMNS
    assert set(cocoa["region"]) == {"global"} and set(cocoa["commodity"]) == {"Cocoa"}
    validate_unified(cocoa)
    vol = np.diff(np.log(trading(cocoa, "Cocoa")["close"].to_numpy())).std()
    assert 0.014 < vol < 0.023
    both = make_sample(end=date(2020, 12, 31), commodities=("Coffee", "Cocoa"))
    pd.testing.assert_frame_equal(cocoa, both[both["commodity"] == "Cocoa"].reset_index(drop=True))
    other = make_sample(end=date(2020, 12, 31), commodities=("Wheat",))
    assert not np.allclose(other["close"].to_numpy(), cocoa["close"].to_numpy())  # its own seed


@pytest.mark.parametrize("kwargs, exc", [
    ({"commodities": ("Coffee'; DROP TABLE x; --",)}, ConfigError),
    ({"commodities": ()}, ValueError),
    ({"end": date(2015, 1, 1)}, ValueError),  # before start
    ({"start": date(1999, 1, 1), "end": date(2000, 2, 1)}, ValueError),
    ({"end": date(2036, 1, 1)}, ValueError),
])
def test_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        make_sample(**kwargs)


def test_whole_span_is_available():
    out = make_sample(start=GEN_START, end=GEN_END, commodities=("Coffee",))
    assert out["date"].min().date() == GEN_START and out["date"].max().date() == GEN_END
    assert (out["close"] > 0).all()
    assert set(out.loc[out["temp_min_c"] < 0, "date"].dt.year) == {2021}  # the frost is the only one
