"""A user's own daily history (CSV or Parquet) -> validated unified_data.

    df = read_table("prices.csv")                # strings, so errors can name row and column
    unified, notes = prepare_unified(df, source="prices.csv")

Row numbers in messages are 1-based data rows: row 1 is the first row after a
CSV header (file line 2), or the first row of the Parquet file / DataFrame.
Parsing (text to dates and numbers) is the importer's own; every rule on the
parsed values is core.input_rules, the same code the table reader uses, so a
file and the table are refused for the same things in the same words.

What prepare_unified accepts (column names are matched case-insensitively,
surrounding spaces ignored):

- required: date, commodity, close. Optional: region (default 'global'),
  open/high/low (default close), volume, vix, the eight weather columns,
  <ccy>_usd FX columns (default NULL), and is_trading_day (0/1 or true/false;
  without it every row of the file is a trading day). Other columns are
  ignored, with a note.
- dates: ISO YYYY-MM-DD (or YYYY-MM-DD HH:MM[:SS], time dropped) or a
  datetime/date type from Parquet; the first row fixes the format for the
  whole column.
- the input may be in any order: it is sorted by commodity, region, date.
- at most max_rows (MAX_IMPORT_ROWS) data rows in the file and in what is
  written: a CSV is read in chunks and refused as soon as it passes the limit,
  a Parquet file by its footer's row count, before its data is read.

The result is calendar days, forward filled: per (commodity, region), every
day from its first to its last date. Market columns (open..vix, FX) are per
(commodity, date), taken from the file where any region row of that date has
them, so they are equal on every region row of a date even when regions cover
different dates; weather is per region. Added days get is_trading_day = 0 and
the values of the last row before them. Gaps longer than MAX_GAP_DAYS are
refused: forward filling months would invent prices.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .data import FX_RE, MARKET_COLUMNS, WEATHER_COLUMNS
from .import_guards import check_jumps, check_name_case, zone_dates
from .input_rules import (
    DATE_MAX,
    DATE_MIN,
    MAX_GAP_DAYS,
    MIN_TRADING_DAYS,
    NON_NEGATIVE,
    NUMERIC_COLUMNS,
    PRICE_COLUMNS,
    UNIFIED_COLUMNS,
    InputDataError,
    check_gaps,
    is_date_objects,
    check_history,
    check_rows,
    out_of_range,
    validate_unified,
)

__all__ = ["MAX_GAP_DAYS", "MAX_IMPORT_ROWS", "MIN_TRADING_DAYS", "NON_NEGATIVE", "NUMERIC_COLUMNS",
           "PRICE_COLUMNS", "UNIFIED_COLUMNS", "ImportValidationError", "prepare_unified", "read_table",
           "validate_unified"]

# One import holds the file as text and the result in memory: measured 0.96 GB peak for
# 700,000 rows (20 commodities x 5 regions x 7,000 weekdays, 8 columns). A million rows
# keeps a laptop comfortable; import a larger history in parts, one set of commodities
# per file (an import changes only the commodities it holds), or pass max_rows.
MAX_IMPORT_ROWS = 1_000_000
_CHUNK_ROWS = 100_000
DEFAULT_REGION = "global"
_SHOW = 5  # rows listed per parse problem; the rest are counted
_NA_TEXT = {"", "nan", "na", "n/a", "null", "none", "<na>", "-nan", "#n/a"}

# Accepted date spellings; the first non-empty row picks one for the whole column.
_DATE_FORMATS = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d", "YYYY-MM-DD"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$"), None, "YYYY-MM-DD HH:MM"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$"), None, "YYYY-MM-DD HH:MM:SS"),
]

# The import's errors are the rules' errors: one class, whichever way the data came.
ImportValidationError = InputDataError


# -- reading ---------------------------------------------------------------------------------

def read_table(path, max_rows: int = MAX_IMPORT_ROWS) -> pd.DataFrame:
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
    if path.is_dir():
        raise ImportValidationError(f"{path} is a directory, not a file")
    if not path.is_file():
        raise ImportValidationError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportValidationError(f"{path} is empty")
    try:
        df = _read_csv(path, max_rows) if kind == "csv" else _read_parquet(path, max_rows)
    except pd.errors.EmptyDataError:
        raise ImportValidationError(f"{path} is empty") from None
    except pd.errors.ParserError as exc:
        raise ImportValidationError(f"{path}: not a well-formed CSV file: {str(exc).strip()}") from None
    except UnicodeDecodeError as exc:
        raise ImportValidationError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, ValueError, EOFError) as exc:  # corrupt gzip, not a Parquet file, ...
        if isinstance(exc, InputDataError):
            raise
        raise ImportValidationError(f"{path}: cannot be read as {kind}: {exc}") from None
    if df.empty:
        raise ImportValidationError(f"{path} is empty (no data rows)")
    return df


def _too_many(path: Path, n: int | None, max_rows: int) -> InputDataError:
    has = f"has {n:,} data rows, more than" if n is not None else "has more data rows than"
    return ImportValidationError(
        f"{path} {has} the import limit of {max_rows:,}: import it in parts, "
        "one set of commodities per file (an import changes only the commodities it holds), "
        "or raise the limit with --max-rows if the machine has the memory (about 1.4 kB per row)")


def _read_csv(path: Path, max_rows: int) -> pd.DataFrame:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        header = next(csv.reader(io.StringIO(f.readline())), [])
    # pandas would rename a repeated name to 'date.1' and the copy would be ignored quietly.
    seen: dict[str, str] = {}
    for col in header:
        norm = col.strip().lower()
        if norm in seen:
            raise ImportValidationError(f"{path}: column {col!r} and column {seen[norm]!r} are the same "
                                        f"column '{norm}'")
        seen[norm] = col
    # Text first: a number that does not parse is reported with its row, not as a dtype surprise.
    # In chunks, so a file far over the limit is refused after reading max_rows, not all of it.
    chunks, n = [], 0
    for chunk in pd.read_csv(path, dtype=str, keep_default_na=True, chunksize=_CHUNK_ROWS, encoding="utf-8"):
        n += len(chunk)
        if n > max_rows:
            raise _too_many(path, None, max_rows)  # counted so far; the rest is not read
        chunks.append(chunk)
    if not chunks:
        return pd.DataFrame(columns=header)
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _read_parquet(path: Path, max_rows: int) -> pd.DataFrame:
    n = pq.ParquetFile(path).metadata.num_rows  # the footer only
    if n > max_rows:
        raise _too_many(path, n, max_rows)
    return pd.read_parquet(path)


# -- parsing ---------------------------------------------------------------------------------

def _rows(positions) -> str:
    """'row 3', 'rows 3, 8 (and 12 more)' from 0-based positions."""
    pos = list(positions)
    shown = ", ".join(str(p + 1) for p in pos[:_SHOW])
    more = f" (and {len(pos) - _SHOW} more)" if len(pos) > _SHOW else ""
    return f"row{'s' if len(pos) > 1 else ''} {shown}{more}"


def _fail(source: str, msg: str) -> None:
    raise ImportValidationError(f"{source}: {msg}")


def _first_bad(source: str, mask: np.ndarray, what) -> None:
    """Raise naming the first rows where mask is True; what(pos) describes the first one."""
    bad = np.flatnonzero(mask)
    if len(bad):
        _fail(source, f"{_rows(bad)}: {what(bad[0])}")


def _parse_dates(s: pd.Series, source: str, notes: list[str] | None = None) -> pd.Series:
    """datetime64[ns] at midnight, or an error naming the row."""
    if pd.api.types.is_datetime64_any_dtype(s) or is_date_objects(s):
        # Parquet timestamps (any unit, maybe with a time zone), or DATE columns as datetime.date objects.
        if pd.api.types.is_datetime64_any_dtype(s):
            days, note = zone_dates(s, source)  # a zone-aware value: its date in its own zone
            if note and notes is not None:
                notes.append(note)
        else:
            days = np.array([np.datetime64("NaT", "D") if v is None or pd.isna(v) else np.datetime64(v, "D")
                             for v in s], dtype="datetime64[D]")
        _first_bad(source, np.isnat(days), lambda i: "date is missing")
        _first_bad(source, (days < DATE_MIN) | (days > DATE_MAX), lambda i: out_of_range(days[i]))
        return pd.Series(days.astype("datetime64[ns]"), index=s.index)
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
    _first_bad(source, out.isna().to_numpy(), lambda i: _bad_date(text.iloc[i]))
    return out.dt.normalize().astype("datetime64[ns]")


def _bad_date(text: str) -> str:
    """Why a well-formed date did not parse: no such day, or outside what the pipeline can hold."""
    try:
        day = np.datetime64(text.replace("T", " ").split(" ")[0], "D")
    except ValueError:
        return f"date {text!r} is not a valid date"
    return out_of_range(day)


def _parse_numeric(s: pd.Series, col: str, source: str) -> pd.Series:
    """float64, or an error naming the first row that is not a number."""
    if pd.api.types.is_bool_dtype(s):
        _fail(source, f"column '{col}' holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(s):
        return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
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


def _parse_flag(s: pd.Series, source: str) -> pd.Series:
    """is_trading_day: numbers, or true/false; whether each is 0 or 1 is a rule (input_rules)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s):
        return _parse_numeric(s, "is_trading_day", source)
    text = s.astype("string").str.strip().str.lower()
    return _parse_numeric(text.replace({"true": "1", "false": "0"}).astype(object), "is_trading_day", source)


def _parse_names(s: pd.Series) -> pd.Series:
    """Stripped names; whether each is allowed is a rule (input_rules)."""
    return s.astype("string").str.strip().astype(object).where(s.notna(), None)


# -- prepare ---------------------------------------------------------------------------------

def prepare_unified(df: pd.DataFrame, *, min_trading_days: int = MIN_TRADING_DAYS, source: str = "input",
                    max_rows: int = MAX_IMPORT_ROWS, allow_jumps: bool = False,
                    provenance: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Validate a user's daily history and turn it into unified_data rows.

    Returns (frame with UNIFIED_COLUMNS + the FX columns present, notes). Raises
    ImportValidationError naming the row(s), column or commodity at fault. A `provenance`
    dict gets "given" (bool per result row: the file gave it; the others are calendar days
    filled in) and "file_row" (its 1-based file row, 0 for filled days): core.merge needs both.
    """
    notes: list[str] = []
    if df is None or len(df) == 0:
        _fail(source, "is empty (no data rows)")
    if len(df) > max_rows:
        _fail(source, f"has {len(df):,} rows, more than the import limit of {max_rows:,}")

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

    # Parse: text -> dates, names, numbers (errors name the file row).
    n = len(df)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["date"] = _parse_dates(df["date"], source, notes)
    out["commodity"] = _parse_names(df["commodity"])
    if "region" in df.columns:
        out["region"] = _parse_names(df["region"])
    else:
        out["region"] = DEFAULT_REGION
        notes.append(f"no region column: every row is region '{DEFAULT_REGION}'")
    out["is_trading_day"] = _parse_flag(df["is_trading_day"], source) if "is_trading_day" in df.columns else 1.0
    for col in NUMERIC_COLUMNS + fx:
        if col in df.columns:
            out[col] = _parse_numeric(df[col], col, source)

    # The rules, on the columns as given (before defaults are filled in, so the
    # message names what the user wrote): the same code the table reader runs.
    check_rows(out, source, row_numbers=np.arange(n))
    out["is_trading_day"] = out["is_trading_day"].astype("int32")

    order = np.lexsort((out["date"].to_numpy(), out["region"].to_numpy(), out["commodity"].to_numpy()))
    if not np.array_equal(order, np.arange(n)):
        notes.append("rows were not sorted: sorted by commodity, region, date")
    out = out.iloc[order].reset_index(drop=True)
    # 'Gold' and 'gold' would be two commodities, each missing the other's days.
    first_row = {}
    for pos, name in zip(order, out["commodity"]):
        first_row.setdefault(name, int(pos) + 1)
    check_name_case(out["commodity"].unique(), source, where=lambda n: f"row {first_row[n]}")
    for com, regions in out.groupby("commodity", sort=False)["region"]:
        check_name_case(regions.unique(), source, what=f"commodity {com!r}: region")
    if not allow_jumps:
        # One row per commodity and trading date (market columns are equal on every region row).
        first = (out["is_trading_day"] == 1) & ~out.duplicated(["commodity", "date"])
        idx = np.flatnonzero(first.to_numpy())
        # out is sorted by commodity, region, date: put the days in date order per commodity.
        idx = idx[np.lexsort((out["date"].to_numpy()[idx], out["commodity"].to_numpy()[idx]))]
        days = out.iloc[idx].reset_index(drop=True)
        raw = df["close"].to_numpy(dtype=object)[order[idx]] if df["close"].dtype == object else None
        check_jumps(days, source, lambda j: f"row {order[idx[j]] + 1} ({days['date'].iloc[j].date()}, "
                                            f"{days['commodity'].iloc[j]})", text=raw)

    # History per commodity: enough trading days, no long holes (per commodity and per region).
    trading = out[out["is_trading_day"] == 1]
    for com in out["commodity"].unique():
        check_history(trading.loc[trading["commodity"] == com, "date"].nunique(), com, source,
                      needed=min_trading_days)
    check_gaps(out, source)

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

    market = [*MARKET_COLUMNS, *fx]
    result, added, given_src = _fill_calendar(out, market, fx, source, max_rows)
    if added:
        notes.append(f"added {added} calendar days (weekends, holidays) with is_trading_day = 0, forward filled")
    for com, g in result[result["is_trading_day"] == 1].groupby("commodity"):
        notes.append(f"{com}: {g['date'].nunique()} trading days, {g['date'].min().date()} .. "
                     f"{g['date'].max().date()}, {g['region'].nunique()} region(s)")
    validate_unified(result, source)  # the contract, checked once more on what we produced
    if provenance is not None:
        provenance["given"] = given_src >= 0
        provenance["file_row"] = np.where(given_src >= 0, order[np.maximum(given_src, 0)] + 1, 0)
    return result, notes


def _fill_calendar(out: pd.DataFrame, market: list[str], fx: list[str], source: str,
                   max_rows: int) -> tuple[pd.DataFrame, int, np.ndarray]:
    """Every calendar day per (commodity, region), vectorized with searchsorted on (group, day) keys."""
    day = out["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    base = day.min()
    span = int(day.max() - base) + 1
    # Per (commodity, region) group: first and last day -> the calendar rows.
    grp = out.groupby(["commodity", "region"], sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])  # out is sorted, groups are contiguous
    ends = np.r_[starts[1:], len(out)] - 1
    lengths = day[ends] - day[starts] + 1
    if lengths.sum() > max_rows:  # before allocating: dates far apart (up to MAX_GAP_DAYS) multiply rows
        _fail(source, f"would be {int(lengths.sum()):,} rows once every calendar day is filled in, more than "
                      f"the import limit of {max_rows:,}: import it in parts, one set of commodities per file")
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
    given = np.where(key_rows[src] == key_cal, src, -1)  # the row of `out` given for that day, or -1 (filled)
    return frame, len(frame) - len(out), given
