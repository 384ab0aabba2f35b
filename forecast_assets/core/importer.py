"""A user's own daily history (CSV or Parquet) -> validated unified_data.

    df = read_table("prices.csv")                # strings, so errors can name row and column
    unified, notes = prepare_unified(df, source="prices.csv")
    validate_unified(unified)                    # also for a table someone filled by hand

Row numbers in messages are 1-based data rows: row 1 is the first row after a
CSV header (file line 2), or the first row of the Parquet file / DataFrame.

What prepare_unified accepts (column names are matched case-insensitively,
surrounding spaces ignored):

- required: date, commodity, close. Optional: region (default 'global'),
  open/high/low (default close), volume, vix, the eight weather columns,
  <ccy>_usd FX columns (default NULL), and is_trading_day (0/1; without it
  every row of the file is a trading day). Other columns are ignored, with a
  note.
- dates: ISO YYYY-MM-DD (or YYYY-MM-DD HH:MM[:SS], time dropped) or a
  datetime/date type from Parquet; the first row fixes the format for the
  whole column.
- the input may be in any order: it is sorted by commodity, region, date.

The result is calendar days, forward filled: per (commodity, region), every
day from its first to its last date. Market columns (open..vix, FX) are per
(commodity, date), taken from the file where any region row of that date has
them, so they are equal on every region row of a date even when regions cover
different dates; weather is per region. Added days get is_trading_day = 0 and
the values of the last row before them. Gaps longer than MAX_GAP_DAYS are
refused: forward filling months would invent prices.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ConfigError, check_name
from .data import FX_RE, KEY_COLUMNS, MARKET_COLUMNS, WEATHER_COLUMNS

UNIFIED_COLUMNS = ["date", "is_trading_day", "commodity", *MARKET_COLUMNS, "region", *WEATHER_COLUMNS]
PRICE_COLUMNS = ["open", "high", "low", "close"]
NUMERIC_COLUMNS = [*MARKET_COLUMNS, *WEATHER_COLUMNS]
# Physical quantities that cannot be negative (a sign error in the file, not a market move).
NON_NEGATIVE = ["volume", "vix", "precipitation_mm", "rain_mm", "snowfall_cm", "wind_speed_max_kmh"]
MAX_GAP_DAYS = 45
DEFAULT_REGION = "global"
_SHOW = 5  # rows listed per problem; the rest are counted
_TOL = 1e-9
_NA_TEXT = {"", "nan", "na", "n/a", "null", "none", "<na>", "-nan", "#n/a"}

# Accepted date spellings; the first non-empty row picks one for the whole column.
_DATE_FORMATS = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d", "YYYY-MM-DD"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$"), None, "YYYY-MM-DD HH:MM"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$"), None, "YYYY-MM-DD HH:MM:SS"),
]


class ImportValidationError(ValueError):
    """The input cannot become unified_data; the message names the row(s) or column."""


# -- reading ---------------------------------------------------------------------------------

def read_table(path) -> pd.DataFrame:
    """CSV (.csv, .csv.gz: every column read as text) or Parquet (.parquet, .pq: types as stored)."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        kind = "csv"
    elif name.endswith((".parquet", ".pq")):
        kind = "parquet"
    else:
        ext = "".join(path.suffixes[-2:]) or "(none)"
        raise ImportValidationError(
            f"{path}: unsupported file extension {ext!r}; use .csv, .csv.gz, .parquet or .pq")
    if not path.is_file():
        raise ImportValidationError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportValidationError(f"{path} is empty")
    try:
        if kind == "csv":
            # Text first: a number that does not parse is reported with its row, not as a dtype surprise.
            df = pd.read_csv(path, dtype=str, keep_default_na=True, skipinitialspace=False)
        else:
            df = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise ImportValidationError(f"{path} is empty") from None
    except pd.errors.ParserError as exc:
        raise ImportValidationError(f"{path}: not a well-formed CSV file: {str(exc).strip()}") from None
    except UnicodeDecodeError as exc:
        raise ImportValidationError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, ValueError) as exc:  # corrupt gzip, not a Parquet file, ...
        raise ImportValidationError(f"{path}: cannot be read as {kind}: {exc}") from None
    if df.empty:
        raise ImportValidationError(f"{path} is empty (no data rows)")
    return df


# -- helpers ---------------------------------------------------------------------------------

def _rows(positions) -> str:
    """'row 3', 'rows 3, 8 (and 12 more)' from 0-based positions."""
    pos = list(positions)
    shown = ", ".join(str(p + 1) for p in pos[:_SHOW])
    more = f" (and {len(pos) - _SHOW} more)" if len(pos) > _SHOW else ""
    return f"row{'s' if len(pos) > 1 else ''} {shown}{more}"


def _num(x) -> str:
    """A number for a message: 1.5, nan, inf (not np.float64(1.5))."""
    return repr(float(x))


def _fail(source: str, msg: str) -> None:
    raise ImportValidationError(f"{source}: {msg}")


def _first_bad(source: str, mask: np.ndarray, what) -> None:
    """Raise naming the first rows where mask is True; what(pos) describes the first one."""
    bad = np.flatnonzero(mask)
    if len(bad):
        _fail(source, f"{_rows(bad)}: {what(bad[0])}")


def _is_date_objects(s: pd.Series) -> bool:
    if s.dtype != object:
        return False
    present = s.dropna()
    return (len(present) > 0 and not isinstance(present.iloc[0], str)
            and present.map(lambda v: hasattr(v, "year") and not isinstance(v, str)).all())


def _parse_dates(s: pd.Series, source: str) -> pd.Series:
    """datetime64[ns] at midnight, or an error naming the row."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        _first_bad(source, out.isna().to_numpy(), lambda i: "date is missing")
        return out.dt.normalize().astype("datetime64[ns]")
    if _is_date_objects(s):  # Parquet DATE columns come back as datetime.date objects
        out = pd.to_datetime(s, errors="coerce")
        _first_bad(source, out.isna().to_numpy(), lambda i: "date is missing")
        return out.dt.normalize().astype("datetime64[ns]")
    if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
        _fail(source, f"column 'date' has type {s.dtype}; use ISO dates (YYYY-MM-DD) or a date type")
    text = s.astype("string").str.strip()
    missing = text.isna() | (text == "")
    _first_bad(source, missing.to_numpy(), lambda i: "date is missing")
    first = text.iloc[0]
    fmt = next((f for f in _DATE_FORMATS if f[0].match(first)), None)
    if fmt is None:
        _fail(source, f"row 1: date {first!r} is not an ISO date (YYYY-MM-DD)")
    other = ~text.str.fullmatch(fmt[0].pattern).fillna(False).to_numpy(dtype=bool)
    _first_bad(source, other,
               lambda i: f"date {text.iloc[i]!r} is not in the column's format {fmt[2]} (the format of row 1)")
    if fmt[1] is not None:
        out = pd.to_datetime(text, format=fmt[1], errors="coerce")
    else:
        out = pd.to_datetime(text.str.replace("T", " ", regex=False), format="ISO8601", errors="coerce")
    _first_bad(source, out.isna().to_numpy(), lambda i: f"date {text.iloc[i]!r} is not a valid date")
    return out.dt.normalize().astype("datetime64[ns]")


def _parse_numeric(s: pd.Series, col: str, source: str) -> pd.Series:
    """float64, or an error naming the first row that is not a number."""
    if pd.api.types.is_bool_dtype(s):
        _fail(source, f"column '{col}' holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    out = pd.to_numeric(s, errors="coerce")  # fast path: most cells are plain numbers
    suspect = (s.notna() & out.isna()).to_numpy(dtype=bool)
    if suspect.any():
        # Blank or an NA spelling -> missing; anything else that is not a number is an error.
        text = s[suspect].astype(str).str.strip()
        blank = text.str.lower().isin(_NA_TEXT).to_numpy()
        bad = np.zeros(len(s), dtype=bool)
        bad[np.flatnonzero(suspect)[~blank]] = True
        _first_bad(source, bad, lambda i: f"column '{col}': {s.iloc[i]!r} is not a number")
    return out.astype("float64")


def _parse_names(s: pd.Series, what: str, source: str) -> pd.Series:
    """Stripped names, each checked with config.check_name (they end up as SQL values and partition keys)."""
    text = s.astype("string").str.strip()
    _first_bad(source, (text.isna() | (text == "")).to_numpy(), lambda i: f"{what} is missing")
    for value in text.unique():  # few distinct names; a bad one is reported with its first row
        try:
            check_name(str(value), what)
        except ConfigError as exc:
            i = int(np.flatnonzero((text == value).to_numpy())[0])
            _fail(source, f"row {i + 1}: {exc}")
    return text.astype(object)


def _consistent_by(df: pd.DataFrame, cols: list[str], group: list[str], source: str, what: str,
                   rows: np.ndarray | None = None) -> None:
    """Raise when `cols` differ between rows of the same `group` (NaN equals NaN; tolerance 1e-9)."""
    if not cols or df.empty:
        return
    # Every row is compared with the first row of its group (NaN equals NaN).
    codes = df.groupby(group, sort=False).ngroup().to_numpy()
    _, first_pos = np.unique(codes, return_index=True)
    ref_pos = first_pos[codes]
    for c in cols:
        a = df[c].to_numpy(dtype="float64")
        b = a[ref_pos]
        differ = ~((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= _TOL * np.maximum(1.0, np.abs(b))))
        bad = np.flatnonzero(differ)
        if len(bad):
            i, j = int(ref_pos[bad[0]]), int(bad[0])
            ri, rj = (rows[i], rows[j]) if rows is not None else (i, j)
            key = ", ".join(str(df[g].iloc[j].date() if g == "date" else df[g].iloc[j]) for g in group)
            _fail(source, f"rows {ri + 1} and {rj + 1} ({key}): {what} column '{c}' differs "
                          f"({_num(b[bad[0]])} vs {_num(a[bad[0]])}); "
                          "it must be the same on every region row of a date")


# -- prepare ---------------------------------------------------------------------------------

def prepare_unified(df: pd.DataFrame, *, min_trading_days: int = 60, source: str = "input"
                    ) -> tuple[pd.DataFrame, list[str]]:
    """Validate a user's daily history and turn it into unified_data rows.

    Returns (frame with UNIFIED_COLUMNS + the FX columns present, notes). Raises
    ImportValidationError naming the row(s), column or commodity at fault.
    """
    notes: list[str] = []
    if df is None or len(df) == 0:
        _fail(source, "is empty (no data rows)")

    # Column names: case-insensitive, stripped; two spellings of one column is ambiguous.
    names = [str(c).strip().lower() for c in df.columns]
    seen: dict[str, str] = {}
    for orig, norm in zip(df.columns, names):
        if norm in seen:
            _fail(source, f"column {orig!r} and column {seen[norm]!r} are the same column '{norm}'")
        seen[norm] = str(orig)
    df = df.set_axis(names, axis=1).reset_index(drop=True)  # positions = data rows - 1
    missing = [c for c in ("date", "commodity", "close") if c not in df.columns]
    if missing:
        hint = " (is it separated by ';'? use ',')" if len(names) == 1 and ";" in names[0] else ""
        _fail(source, f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                      f"(columns found: {', '.join(names)}){hint}")
    fx = [c for c in names if FX_RE.match(c)]
    known = set(UNIFIED_COLUMNS) | set(fx)
    unknown = [seen[c].strip() for c in names if c not in known]
    if unknown:
        notes.append(f"ignored unknown columns: {', '.join(unknown)}")

    n = len(df)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["date"] = _parse_dates(df["date"], source)
    out["commodity"] = _parse_names(df["commodity"], "commodity", source)
    if "region" in df.columns:
        out["region"] = _parse_names(df["region"], "region", source)
    else:
        out["region"] = DEFAULT_REGION
        notes.append(f"no region column: every row is region '{DEFAULT_REGION}'")

    if "is_trading_day" in df.columns:
        raw = df["is_trading_day"]
        text = raw.astype("string").str.strip().str.lower()
        flag = text.map({"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0}, na_action="ignore")
        _first_bad(source, flag.isna().to_numpy(),
                   lambda i: f"column 'is_trading_day': {str(raw.iloc[i])!r} is not 0 or 1")
        out["is_trading_day"] = flag.astype("int32").to_numpy()
    else:
        out["is_trading_day"] = np.int32(1)

    for col in NUMERIC_COLUMNS + fx:
        if col in df.columns:
            out[col] = _parse_numeric(df[col], col, source)
    present = [c for c in NUMERIC_COLUMNS + fx if c in out.columns]
    for col in present:
        v = out[col].to_numpy()
        _first_bad(source, np.isinf(v), lambda i, c=col, v=v: f"column '{c}': {_num(v[i])} is not a finite number")
    close = out["close"].to_numpy()
    _first_bad(source, np.isnan(close), lambda i: "column 'close' is missing (close may not be empty)")
    for col in PRICE_COLUMNS:
        if col in out.columns:
            v = out[col].to_numpy()
            _first_bad(source, v <= 0, lambda i, c=col, v=v: f"column '{c}': {_num(v[i])} is not a positive price")
    for col in NON_NEGATIVE:
        if col in out.columns:
            v = out[col].to_numpy()
            _first_bad(source, v < 0, lambda i, c=col, v=v: f"column '{c}': {_num(v[i])} is negative")
    if "humidity_mean_pct" in out.columns:
        v = out["humidity_mean_pct"].to_numpy()
        _first_bad(source, (v < 0) | (v > 100),
                   lambda i: f"column 'humidity_mean_pct': {_num(v[i])} is outside 0..100")

    # Keys: unique, then sorted (unsorted input is fine).
    dup = out.duplicated(KEY_COLUMNS, keep=False).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        same = out[KEY_COLUMNS].iloc[i]
        others = np.flatnonzero(dup & (out[KEY_COLUMNS] == same).all(axis=1).to_numpy())
        _fail(source, f"rows {others[0] + 1} and {others[1] + 1} have the same date, commodity and region "
                      f"({same['date'].date()}, {same['commodity']}, {same['region']})")
    order = np.lexsort((out["date"].to_numpy(), out["region"].to_numpy(), out["commodity"].to_numpy()))
    if not np.array_equal(order, np.arange(n)):
        notes.append("rows were not sorted: sorted by commodity, region, date")
    out = out.iloc[order].reset_index(drop=True)
    src_rows = order  # sorted position -> 0-based data row of the input

    # Checked on the columns as given, before defaults are filled in, so the message names what the user wrote.
    given = [c for c in MARKET_COLUMNS + fx + ["is_trading_day"] if c in out.columns]
    _consistent_by(out, given, ["commodity", "date"], source, "market", src_rows)

    # Missing open/high/low: the close stands in (consistent: low <= open, close <= high).
    absent = [c for c in ("open", "high", "low") if c not in out.columns]
    if absent:
        notes.append(f"no {', '.join(absent)} column{'s' if len(absent) > 1 else ''}: set to close")
    filled = {c: int(out[c].isna().sum()) for c in ("open", "high", "low") if c in out.columns}
    o = out["open"].fillna(out["close"]) if "open" in out.columns else out["close"]
    hi = np.fmax(o, out["close"])
    lo = np.fmin(o, out["close"])
    out["open"] = o
    out["high"] = out["high"].fillna(hi) if "high" in out.columns else hi
    out["low"] = out["low"].fillna(lo) if "low" in out.columns else lo
    if any(filled.values()):
        notes.append("missing " + ", ".join(f"{c} in {k} rows" for c, k in filled.items() if k)
                     + ": filled from open/close")
    for col in ("volume", "vix"):
        if col not in out.columns:
            out[col] = np.nan
            notes.append(f"no {col} column: NULL")
    weather_given = [c for c in WEATHER_COLUMNS if c in out.columns]
    for col in WEATHER_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    if not out[WEATHER_COLUMNS].notna().any().any():
        notes.append("no weather values: models will run without weather regressors")
    elif len(weather_given) < len(WEATHER_COLUMNS):
        notes.append(f"weather columns not given (NULL): "
                     f"{', '.join(c for c in WEATHER_COLUMNS if c not in weather_given)}")

    # History per commodity: enough trading days, no long holes.
    trading = out[out["is_trading_day"] == 1]
    for com in out["commodity"].unique():
        days = np.unique(trading.loc[trading["commodity"] == com, "date"].to_numpy())
        if len(days) < min_trading_days:
            _fail(source, f"commodity {com!r} has {len(days)} trading days of data; "
                          f"at least {min_trading_days} are needed")
        _check_gaps(days, source, f"commodity {com!r}")
    # Per region too: its weather would otherwise be forward filled across the hole.
    for (com, reg), g in trading.groupby(["commodity", "region"], sort=False):
        _check_gaps(g["date"].to_numpy(), source, f"commodity {com!r}, region {reg!r}")

    market = [*MARKET_COLUMNS, *fx]
    result, added = _fill_calendar(out, market, fx)
    if added:
        notes.append(f"added {added} calendar days (weekends, holidays) with is_trading_day = 0, forward filled")
    for com, g in result[result["is_trading_day"] == 1].groupby("commodity"):
        notes.append(f"{com}: {g['date'].nunique()} trading days, {g['date'].min().date()} .. "
                     f"{g['date'].max().date()}, {g['region'].nunique()} region(s)")
    validate_unified(result)  # the contract, checked once more on what we produced
    return result, notes


def _check_gaps(days: np.ndarray, source: str, what: str) -> None:
    if len(days) < 2:
        return
    gaps = np.diff(days).astype("timedelta64[D]").astype(np.int64)
    big = np.flatnonzero(gaps > MAX_GAP_DAYS)
    if len(big):
        a, b = pd.Timestamp(days[big[0]]).date(), pd.Timestamp(days[big[0] + 1]).date()
        _fail(source, f"{what} has no trading data from {a} to {b} ({gaps[big[0]]} days, more than "
                      f"{MAX_GAP_DAYS}); forward filling that would invent prices")


def _fill_calendar(out: pd.DataFrame, market: list[str], fx: list[str]) -> tuple[pd.DataFrame, int]:
    """Every calendar day per (commodity, region), vectorized with searchsorted on (group, day) keys."""
    day = out["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    base = day.min()
    span = int(day.max() - base) + 1
    # Per (commodity, region) group: first and last day -> the calendar rows.
    grp = out.groupby(["commodity", "region"], sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])  # out is sorted, groups are contiguous
    ends = np.r_[starts[1:], len(out)] - 1
    lengths = day[ends] - day[starts] + 1
    cal_grp = np.repeat(np.arange(len(starts)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # 0.. within a group
    cal_day = day[starts][cal_grp] + offset
    # Weather (per region): the last row of the same group on or before the day.
    key_rows = grp.astype(np.int64) * span + (day - base)
    key_cal = cal_grp.astype(np.int64) * span + (cal_day - base)
    src = np.searchsorted(key_rows, key_cal, side="right") - 1

    # Market (per commodity): one row per (commodity, date) that any region had.
    com_code = pd.factorize(out["commodity"], sort=True)[0]
    mkt_key = com_code.astype(np.int64) * span + (day - base)
    mkt_order = np.argsort(mkt_key, kind="stable")
    uniq_key, first_idx = np.unique(mkt_key[mkt_order], return_index=True)
    mkt_rows = mkt_order[first_idx]
    cal_com = com_code[starts][cal_grp].astype(np.int64)
    cal_mkey = cal_com * span + (cal_day - base)
    mpos = np.searchsorted(uniq_key, cal_mkey, side="right") - 1
    exact = uniq_key[mpos] == cal_mkey
    msrc = mkt_rows[mpos]

    res = {
        "date": (cal_day.astype("datetime64[D]")).astype("datetime64[ns]"),
        "is_trading_day": np.where(exact, out["is_trading_day"].to_numpy()[msrc], 0).astype(np.int32),
        "commodity": out["commodity"].to_numpy()[src],
    }
    for c in market:
        res[c] = out[c].to_numpy()[msrc]
    res["region"] = out["region"].to_numpy()[src]
    for c in WEATHER_COLUMNS:
        res[c] = out[c].to_numpy()[src]
    frame = pd.DataFrame(res, columns=UNIFIED_COLUMNS + fx)
    return frame, len(frame) - len(out)


# -- validate --------------------------------------------------------------------------------

def validate_unified(df: pd.DataFrame) -> None:
    """Check a unified_data frame against contracts.md; raise ImportValidationError naming the problem.

    Checks: contract columns present; numeric columns numeric; date a date type;
    keys present, valid names and unique; is_trading_day in {0, 1}; close finite
    and > 0 (open/high/low > 0 where given); market columns (open..vix and FX)
    equal on every region row of a (commodity, date), tolerance 1e-9. Row
    numbers are 1-based positions in the frame.
    """
    src = "unified_data"
    missing = [c for c in UNIFIED_COLUMNS if c not in df.columns]
    if missing:
        _fail(src, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if len(df) == 0:
        return
    fx = [c for c in df.columns if FX_RE.match(str(c))]
    for c in NUMERIC_COLUMNS + fx + ["is_trading_day"]:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            _fail(src, f"column '{c}' has type {df[c].dtype}, not a number type")
    d = df["date"]
    if not pd.api.types.is_datetime64_any_dtype(d):
        if not _is_date_objects(d):
            _fail(src, f"column 'date' has type {d.dtype}, not a date type")
        d = pd.to_datetime(d, errors="coerce")
    for c in KEY_COLUMNS:
        col = d if c == "date" else df[c]
        _first_bad(src, col.isna().to_numpy(), lambda i, c=c: f"'{c}' is missing")
    for c in ("commodity", "region"):
        for value in pd.unique(df[c]):
            try:
                check_name(value, c)
            except ConfigError as exc:
                i = int(np.flatnonzero((df[c] == value).to_numpy())[0])
                _fail(src, f"row {i + 1}: {exc}")
    flag = df["is_trading_day"].to_numpy()
    _first_bad(src, ~np.isin(flag, [0, 1]), lambda i: f"is_trading_day is {_num(flag[i])}, not 0 or 1")
    close = df["close"].to_numpy(dtype="float64")
    _first_bad(src, ~np.isfinite(close) | ~(close > 0),
               lambda i: f"close is {_num(close[i])}; it must be a finite number > 0")
    for c in ("open", "high", "low"):
        v = df[c].to_numpy(dtype="float64")
        _first_bad(src, np.isinf(v) | (v <= 0), lambda i, c=c, v=v: f"{c} is {_num(v[i])}; it must be > 0")
    keyed = pd.DataFrame({"date": d.to_numpy(), "commodity": df["commodity"].to_numpy(),
                          "region": df["region"].to_numpy()})
    dup = keyed.duplicated(KEY_COLUMNS, keep="first").to_numpy()
    if dup.any():
        j = int(np.flatnonzero(dup)[0])
        same = (keyed == keyed.iloc[j]).all(axis=1).to_numpy()
        i = int(np.flatnonzero(same)[0])
        k = keyed.iloc[j]
        _fail(src, f"rows {i + 1} and {j + 1} have the same key ({pd.Timestamp(k['date']).date()}, "
                   f"{k['commodity']}, {k['region']})")
    cols = [*MARKET_COLUMNS, *fx]
    frame = keyed.join(df[cols].reset_index(drop=True).astype("float64"))
    _consistent_by(frame, cols, ["commodity", "date"], src, "market")
