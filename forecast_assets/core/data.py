"""From unified_data (one row per date x commodity x region) to one row per trading day.

Market columns are taken once per date; weather is averaged over regions. The
system this replaces fed every region row into its models, so each date
counted R times; that must never happen here (docs/contract.md).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

MARKET_COLUMNS = ["open", "high", "low", "close", "volume", "vix"]
WEATHER_COLUMNS = [
    "temp_max_c",
    "temp_min_c",
    "temp_mean_c",
    "precipitation_mm",
    "rain_mm",
    "snowfall_cm",
    "humidity_mean_pct",
    "wind_speed_max_kmh",
]
FX_RE = re.compile(r"^[a-z]{3}_usd$")


def fx_columns(columns) -> list[str]:
    return [c for c in columns if FX_RE.match(c)]


def daily_series(unified: pd.DataFrame, commodity: str | None = None) -> pd.DataFrame:
    """One row per trading day for one commodity, indexed by date (ascending).

    Columns: close/open/high/low/volume/vix (first region row of the date; they
    are the same on every region row by contract), the weather columns present
    (mean over regions, NaN ignored) and the FX columns present.
    """
    df = unified
    if commodity is not None and "commodity" in df.columns:
        df = df[df["commodity"] == commodity]
    if "is_trading_day" in df.columns:
        df = df[df["is_trading_day"] == 1]
    if df.empty:
        return pd.DataFrame(columns=["close"], index=pd.DatetimeIndex([], name="date"))
    dates = pd.to_datetime(df["date"])
    market = [c for c in MARKET_COLUMNS if c in df.columns] + fx_columns(df.columns)
    weather = [c for c in WEATHER_COLUMNS if c in df.columns]
    grouped = df.assign(date=dates).groupby("date", sort=True)
    out = grouped[market].first()
    if weather:
        out = out.join(grouped[weather].mean())
    out.index.name = "date"
    return out.astype("float64")


def weather_columns(daily: pd.DataFrame) -> list[str]:
    """Weather columns with at least one value."""
    return [c for c in WEATHER_COLUMNS if c in daily.columns and daily[c].notna().any()]


def cutoff_positions(trading_dates: pd.DatetimeIndex, starts) -> np.ndarray:
    """Position of the last trading day strictly before each start (-1 if none)."""
    td = np.asarray(trading_dates.values.astype("datetime64[D]"))
    s = np.asarray(starts, dtype="datetime64[D]")
    return np.searchsorted(td, s, side="left") - 1


def log_returns(close: np.ndarray) -> np.ndarray:
    return np.diff(np.log(np.asarray(close, dtype="float64")))
