"""The rules unified_data rows must meet: one implementation for both ways data arrives.

`forecast-assets import` (core.importer) checks a parsed file with these before
anything is written; the table reader (every store's read_unified) checks what
it read with these before the pipeline sees a row. So a file and a table that
another loader filled are refused for the same things, in the same words. Only
the place differs: a file names its 1-based data row and the row's key, a table
(whose rows have no order) names the key:

    prices.csv: row 9 (2020-01-14, Coffee, global): column 'close': 0.0 is not a positive price
    commodity.silver.unified_data: row (2020-01-14, Coffee, global): column 'close': 0.0 is not a positive price

The rules (README "Bad input" lists them for users):
- the contract's columns (docs/contract.md) with their types: date a date, names text,
  is_trading_day and the market, weather and <ccy>_usd columns numbers;
- date, commodity and region present; dates within DATE_MIN..DATE_MAX; names pass config.check_name (they become
  SQL values and partition keys); is_trading_day 0 or 1;
- no inf anywhere; close present and > 0; open/high/low > 0 where given;
  volume, vix, precipitation, rain, snow, wind >= 0; humidity in 0..100;
- one row per (date, commodity, region); the market columns (open..vix, FX) and
  is_trading_day equal on every region row of a (commodity, date);
- no gap of more than MAX_GAP_DAYS between trading days, per commodity and per
  region: carrying a price or the weather across months would invent them;
- MIN_TRADING_DAYS trading days per commodity in a file, and before a window to
  train it.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from ..config import ConfigError, check_name
from .data import FX_RE, MARKET_COLUMNS, WEATHER_COLUMNS

UNIFIED_COLUMNS = ["date", "is_trading_day", "commodity", *MARKET_COLUMNS, "region", *WEATHER_COLUMNS]
PRICE_COLUMNS = ["open", "high", "low", "close"]
NUMERIC_COLUMNS = [*MARKET_COLUMNS, *WEATHER_COLUMNS]
# Physical quantities that cannot be negative (a sign error in the data, not a market move).
NON_NEGATIVE = ["volume", "vix", "precipitation_mm", "rain_mm", "snowfall_cm", "wind_speed_max_kmh"]
MAX_GAP_DAYS = 45
MIN_TRADING_DAYS = 60
# Dates the pipeline can hold (pandas' nanosecond timestamps), in whole years.
DATE_MIN, DATE_MAX = np.datetime64("1678-01-01", "D"), np.datetime64("2261-12-31", "D")
_SHOW_TOL = 1e-9  # market columns equal across regions up to this relative tolerance

# SQL type names (DuckDB and Databricks spellings) by what the contract needs.
_SQL_DATE = re.compile(r"^(DATE|TIMESTAMP.*|DATETIME)$", re.I)
_SQL_NUMBER = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?\d*|BYTE|SHORT|LONG|FLOAT\d*|REAL|DOUBLE( PRECISION)?|"
                         r"(DECIMAL|NUMERIC|DEC)(\(.*\))?)$", re.I)
_SQL_TEXT = re.compile(r"^(VARCHAR|STRING|TEXT|CHAR|NVARCHAR|BPCHAR)(\(.*\))?$", re.I)


class InputDataError(ValueError):
    """unified_data (a file to import or the table) breaks a rule; the message names the rows and column."""


def _num(x) -> str:
    """A number for a message: 1.5, nan, inf (not np.float64(1.5))."""
    return repr(float(x))


def _floats(s: pd.Series) -> np.ndarray:
    """float64 values, NULL -> NaN (also for DuckDB's nullable Int32 columns)."""
    return s.to_numpy(dtype="float64", na_value=np.nan)


class _Where:
    """Names rows: 'row 9 (2020-01-14, Coffee, global)' in a file, 'row (2020-01-14, Coffee, global)' in a table."""

    def __init__(self, df: pd.DataFrame, row_numbers: np.ndarray | None):
        self.df, self.numbers = df, row_numbers

    def key(self, i: int) -> str:
        d = self.df["date"].iloc[i]
        parts = ["?" if pd.isna(d) else str(pd.Timestamp(d).date())]
        for c in ("commodity", "region"):
            v = self.df[c].iloc[i]
            parts.append(v if isinstance(v, str) and v.strip() else "?")
        return ", ".join(parts)

    def row(self, i: int) -> str:
        return f"row {self.numbers[i] + 1} ({self.key(i)})" if self.numbers is not None else f"row ({self.key(i)})"

    def first(self, mask: np.ndarray) -> tuple[int, str] | None:
        bad = np.flatnonzero(mask)
        if not len(bad):
            return None
        i = int(bad[0])
        more = f" and {len(bad) - 1} more row{'s' if len(bad) > 2 else ''}" if len(bad) > 1 else ""
        return i, self.row(i) + more


def out_of_range(day) -> str:
    return f"date {np.datetime64(day, 'D')} is outside the supported range {DATE_MIN} .. {DATE_MAX}"


def _fail(source: str, msg: str):
    raise InputDataError(f"{source}: {msg}")


def _check_mask(source: str, where: _Where, mask: np.ndarray, problem) -> None:
    """Raise naming the first row where mask is True; problem(i) says what is wrong with it."""
    hit = where.first(mask)
    if hit is not None:
        _fail(source, f"{hit[1]}: {problem(hit[0])}")


# -- the table's columns -------------------------------------------------------------------

def check_table_schema(types: Mapping[str, str], source: str) -> None:
    """The table's columns (name -> SQL type) against the contract, before a row is read.

    A text date column is refused rather than guessed at: `forecast-assets import`
    parses and checks text dates.
    """
    types = {str(k).lower(): str(v).strip() for k, v in types.items()}
    if not types:
        _fail(source, "the table does not exist: run `forecast-assets init`, then load data "
                      "(`forecast-assets import PATH` or `forecast-assets load-sample`)")
    missing = [c for c in UNIFIED_COLUMNS if c not in types]
    if missing:
        _fail(source, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                      "(the contract's columns are in docs/contract.md)")
    fx = [c for c in types if FX_RE.match(c)]
    for c in UNIFIED_COLUMNS + fx:
        t = types[c]
        if c == "date":
            ok, want = _SQL_DATE.match(t), "DATE (text dates: load them with `forecast-assets import`)"
        elif c in ("commodity", "region"):
            ok, want = _SQL_TEXT.match(t), "text (STRING)"
        elif c == "is_trading_day":
            ok, want = _SQL_NUMBER.match(t) or t.upper() == "BOOLEAN", "INT (0 or 1)"
        else:
            ok, want = _SQL_NUMBER.match(t), "a number type (DOUBLE)"
        if not ok:
            _fail(source, f"column '{c}' has type {t}; it must be {want}")


def conform_frame(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """A frame read from the table, as the pipeline expects it: lower-case names, dates at midnight.

    A time of day is dropped (as the importer drops it); then the frame is validated.
    """
    df = df.copy(deep=False)  # columns are replaced below, the caller's frame is left alone
    if any(str(c) != str(c).lower() for c in df.columns):
        df = df.rename(columns={c: str(c).lower() for c in df.columns})
    if "date" in df.columns and pd.api.types.is_datetime64_any_dtype(df["date"]):
        d = df["date"]
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        if {"commodity", "region"} <= set(df.columns):  # else validate_unified names the missing column
            days = d.to_numpy().astype("datetime64[D]")
            _check_mask(source, _Where(df, None), (days < DATE_MIN) | (days > DATE_MAX),
                        lambda i: out_of_range(days[i]))
        df["date"] = d.dt.normalize().astype("datetime64[ns]")
    validate_unified(df, source)
    if "is_trading_day" in df.columns and pd.api.types.is_bool_dtype(df["is_trading_day"]):
        df["is_trading_day"] = df["is_trading_day"].astype("int32")
    return df


# -- rows ------------------------------------------------------------------------------------

def validate_unified(df: pd.DataFrame, source: str = "unified_data") -> None:
    """Every rule a whole unified_data frame must meet (columns, types, rows, gaps)."""
    missing = [c for c in UNIFIED_COLUMNS if c not in df.columns]
    if missing:
        _fail(source, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if len(df) == 0:
        return
    fx = [c for c in df.columns if FX_RE.match(str(c))]
    for c in NUMERIC_COLUMNS + fx + ["is_trading_day"]:
        s = df[c]
        if not pd.api.types.is_numeric_dtype(s) or (pd.api.types.is_bool_dtype(s) and c != "is_trading_day"):
            _fail(source, f"column '{c}' has type {s.dtype}, not a number type")
    if not pd.api.types.is_datetime64_any_dtype(df["date"]):
        if not is_date_objects(df["date"]):
            _fail(source, f"column 'date' has type {df['date'].dtype}, not a date type")
        df = df.assign(date=pd.to_datetime(df["date"]))
    for c in ("commodity", "region"):
        if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_datetime64_any_dtype(df[c]):
            _fail(source, f"column '{c}' has type {df[c].dtype}, not text")
    check_rows(df, source)
    check_gaps(df, source)


def is_date_objects(s: pd.Series) -> bool:
    """datetime.date values (Parquet and Spark DATE columns arrive as these)."""
    if s.dtype != object:
        return False
    present = s.dropna()
    return (len(present) > 0 and not isinstance(present.iloc[0], str)
            and present.map(lambda v: hasattr(v, "year") and not isinstance(v, str)).all())


def check_rows(df: pd.DataFrame, source: str, row_numbers: np.ndarray | None = None) -> None:
    """The row rules, on typed columns: date datetime64, names text, numbers float-like.

    Optional columns may be absent (a file gives what it has). row_numbers[i] is
    the 0-based data row of position i in a file; None for a table.
    """
    where = _Where(df, row_numbers)
    n = len(df)
    if n == 0:
        return
    # Keys present, names allowed (judged once per distinct value: there are few).
    _check_mask(source, where, df["date"].isna().to_numpy(), lambda i: "date is missing")
    codes = {}
    for c in ("commodity", "region"):
        code, names = pd.factorize(df[c], use_na_sentinel=True)
        blank = np.array([not isinstance(v, str) or not v.strip() for v in names] + [True], dtype=bool)
        _check_mask(source, where, blank[code], lambda i, c=c: f"{c} is missing")  # code -1 (NULL): the last
        for k, value in enumerate(names):
            try:
                check_name(value, c)
            except ConfigError as exc:
                _fail(source, f"{where.row(int(np.flatnonzero(code == k)[0]))}: {exc}")
        codes[c] = code
    flag = _floats(df["is_trading_day"].astype("float64") if pd.api.types.is_bool_dtype(df["is_trading_day"])
                   else df["is_trading_day"])
    _check_mask(source, where, np.isnan(flag), lambda i: "column 'is_trading_day' is missing (it must be 0 or 1)")
    _check_mask(source, where, ~np.isin(flag, [0.0, 1.0]),
                lambda i: f"column 'is_trading_day': {_num(flag[i])} is not 0 or 1")

    # Values.
    fx = [c for c in df.columns if FX_RE.match(str(c))]
    values = {c: _floats(df[c]) for c in NUMERIC_COLUMNS + fx if c in df.columns}
    for c, v in values.items():
        _check_mask(source, where, np.isinf(v),
                    lambda i, c=c, v=v: f"column '{c}': {_num(v[i])} is not a finite number")
    _check_mask(source, where, np.isnan(values["close"]), lambda i: "column 'close' is missing (NULL or NaN)")
    for c in PRICE_COLUMNS:
        if c in values:
            v = values[c]
            _check_mask(source, where, v <= 0,
                        lambda i, c=c, v=v: f"column '{c}': {_num(v[i])} is not a positive price")
    for c in NON_NEGATIVE:
        if c in values:
            v = values[c]
            _check_mask(source, where, v < 0, lambda i, c=c, v=v: f"column '{c}': {_num(v[i])} is negative")
    if "humidity_mean_pct" in values:
        v = values["humidity_mean_pct"]
        _check_mask(source, where, (v < 0) | (v > 100),
                    lambda i: f"column 'humidity_mean_pct': {_num(v[i])} is outside 0..100")

    # One row per key; keys as integers: (commodity, date) and (commodity, region, date).
    day = df["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    span = int(day.max() - day.min()) + 1
    cd = codes["commodity"].astype(np.int64) * span + (day - day.min())
    cr = codes["commodity"].astype(np.int64) * (codes["region"].max() + 1) + codes["region"]
    crd = cr * span + (day - day.min())
    order = np.argsort(crd, kind="stable")
    twin = np.flatnonzero(crd[order][1:] == crd[order][:-1])
    if len(twin):
        j = int(order[twin].min())  # the first row, in input order, that has a twin
        same = np.flatnonzero(crd == crd[j])
        rows = (f"rows {row_numbers[same[0]] + 1} and {row_numbers[same[1]] + 1}" if row_numbers is not None
                else f"{len(same)} rows")
        _fail(source, f"{rows} ({where.key(j)}) have the same date, commodity and region")

    # Market columns (and the trading flag) are per (commodity, date): equal on every region row.
    market = [c for c in [*MARKET_COLUMNS, *fx] if c in values]
    _consistent(df, cd, {**{c: values[c] for c in market}, "is_trading_day": flag}, source, where)


def _consistent(df: pd.DataFrame, group: np.ndarray, columns: dict[str, np.ndarray], source: str,
                where: _Where) -> None:
    """Every row compared with the first row (in input order) of its group; NaN equals NaN."""
    _, first_pos, inverse = np.unique(group, return_index=True, return_inverse=True)
    ref = first_pos[inverse]
    for c, a in columns.items():
        b = a[ref]
        differ = ~((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= _SHOW_TOL * np.maximum(1.0, np.abs(b))))
        bad = np.flatnonzero(differ)
        if len(bad):
            j = int(bad[0])
            i = int(ref[j])
            date = pd.Timestamp(df["date"].iloc[j]).date()
            regions = f"regions {df['region'].iloc[i]} and {df['region'].iloc[j]}"
            rows = (f"rows {where.numbers[i] + 1} and {where.numbers[j] + 1}" if where.numbers is not None
                    else "rows")
            _fail(source, f"{rows} ({date}, {df['commodity'].iloc[j]}, {regions}): column '{c}' differs "
                          f"({_num(b[j])} vs {_num(a[j])}); it must be the same on every region row of a date")


# -- history ---------------------------------------------------------------------------------

def check_gaps(df: pd.DataFrame, source: str) -> None:
    """No more than MAX_GAP_DAYS between trading days, per commodity and per (commodity, region)."""
    trading = df[_floats(df["is_trading_day"].astype("float64")) == 1.0]
    if trading.empty:
        return
    day = trading["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    com, coms = pd.factorize(trading["commodity"], sort=True)
    reg, regs = pd.factorize(trading["region"], sort=True)
    _gap(com, day, source, lambda k: f"commodity {coms[k]!r}")
    # Per region too: its weather would otherwise be carried across the hole.
    _gap(com * len(regs) + reg, day, source,
         lambda k: f"commodity {coms[k // len(regs)]!r}, region {regs[k % len(regs)]!r}")


def _gap(group: np.ndarray, day: np.ndarray, source: str, what) -> None:
    """The first gap (by group, then date) longer than MAX_GAP_DAYS between days of one group."""
    order = np.lexsort((day, group))
    g, d = group[order], day[order]
    gaps = d[1:] - d[:-1]
    big = np.flatnonzero((g[1:] == g[:-1]) & (gaps > MAX_GAP_DAYS))
    if len(big):
        k = int(big[0])
        a, b = np.datetime64(int(d[k]), "D"), np.datetime64(int(d[k + 1]), "D")
        _fail(source, f"{what(int(g[k]))} has no trading data from {a} to {b} ({gaps[k]} days, more than "
                      f"{MAX_GAP_DAYS}); carrying values across it would invent them")


def check_history(n_days: int, commodity: str, source: str, *, needed: int = MIN_TRADING_DAYS,
                  before=None, model: str | None = None) -> None:
    """At least `needed` trading days (in a file, or before a window to train it; `model` names the
    model whose own need is larger than the 60-day rule)."""
    if n_days < needed:
        when = f" before {before}" if before is not None else ""
        who = f" for {model}" if model else ""
        _fail(source, f"commodity {commodity!r} has {n_days} trading days of data{when}; "
                      f"at least {needed} are needed{who}")
