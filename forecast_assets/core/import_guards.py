"""Guards for what real files get wrong that no single row shows: one-day jumps, names equal but for case,
and time-zone-aware dates. Pure (no storage); the importer and the merge (core.merge) call them.

The jump limit, JUMP_LIMIT = ln 2 (a close doubling or halving from one trading day to the next), is
set from real daily closes (the ones `make quality` uses, shipped with the `arch` package): the largest
one-day |log move| of WTI crude 1986-2019 (FRED DCOILWTICO, 8,321 closes) is 0.406 (1991-01-17, the Gulf
War's first day, -33%), of the S&P 500 1999-2018 0.110 (2008-10-13). ln 2 = 0.693 is 1.7 times WTI's
largest move, while a slipped decimal or a European thousands separator ("1.000" read as 1.0 after
998) moves by x1000 (|log move| 6.9) and a misplaced digit by x10 (2.3). A real move beyond it (WTI
around its negative close of 2020-04-20, whose close <= 0 is refused anyway) is accepted with
--allow-jumps.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .input_rules import InputDataError

JUMP_LIMIT = math.log(2.0)
# "1.000", "12.345.678": dots between groups of three digits, as a European thousands separator writes them.
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


def check_jumps(days: pd.DataFrame, source: str, where, *, check=None, text=None) -> None:
    """Refuse a one-day |log move| of close above JUMP_LIMIT between consecutive trading days of a commodity.

    days: one row per (commodity, trading date), columns date, commodity, close, sorted by commodity, date.
    where(i) names row i in the message. check: optional bool mask, a move is checked only where either
    of its two days is marked (the merge checks moves touching the file's rows, not old stored ones).
    text: optional close as the file wrote it, for the thousands-separator hint.
    """
    if len(days) < 2:
        return
    com = days["commodity"].to_numpy()
    close = days["close"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        move = np.abs(np.diff(np.log(close)))
    same = com[1:] == com[:-1]
    bad = same & (move > JUMP_LIMIT)
    if check is not None:
        m = np.asarray(check, dtype=bool)
        bad &= m[1:] | m[:-1]
    hit = np.flatnonzero(bad)
    if not len(hit):
        return
    k = int(hit[0])
    i, j = k, k + 1  # the move from row i to row j
    prev_day = pd.Timestamp(days["date"].iloc[i]).date()
    more = f" ({len(hit) - 1} more such move{'s' if len(hit) > 2 else ''})" if len(hit) > 1 else ""
    hint = ""
    if text is not None and isinstance(text[j], str) and _THOUSANDS.match(text[j].strip()):
        hint = (f"; {text[j].strip()!r} looks like a number written with a thousands separator "
                f"({float(text[j].replace('.', '')):g}?): write it without one")
    elif text is not None and isinstance(text[i], str) and _THOUSANDS.match(text[i].strip()):
        hint = (f"; the close before it, {text[i].strip()!r}, looks like a number written with a thousands "
                f"separator: write it without one")
    raise InputDataError(
        f"{source}: {where(j)}: close {close[j]:g} after {close[i]:g} on {prev_day} is a one-day move of "
        f"x{close[j] / close[i]:.3g} (|log move| {move[k]:.2f}, more than ln 2 = {JUMP_LIMIT:.2f}: the close "
        f"doubling or halving in one day){more}{hint}; if the move is real, import with --allow-jumps")


def check_name_case(names, source: str, what: str = "commodity", where=None) -> None:
    """Refuse two spellings of one name that differ only in case ('Gold' and 'gold'): two commodities
    each missing the other's days. where(name) may say where a spelling first appears."""
    seen: dict[str, str] = {}
    for n in names:
        if not isinstance(n, str):
            continue
        k = n.casefold()
        if k in seen and seen[k] != n:
            a, b = seen[k], n
            wa = f" ({where(a)})" if where else ""
            wb = f" ({where(b)})" if where else ""
            raise InputDataError(f"{source}: {what} {a!r}{wa} and {what} {b!r}{wb} differ only in case: "
                                 f"use one spelling")
        seen.setdefault(k, n)


def check_names_against(file_names, stored_names, source: str, table: str) -> None:
    """A name in the file spelled like a stored one but for case ('gold' in the file, 'Gold' in the table)."""
    stored = {n.casefold(): n for n in stored_names if isinstance(n, str)}
    for n in sorted(set(file_names)):
        s = stored.get(n.casefold())
        if s is not None and s != n:
            raise InputDataError(f"{source}: commodity {n!r} in the file and commodity {s!r} in {table} differ "
                                 f"only in case: use the stored spelling {s!r} (or import with --replace after "
                                 f"renaming it in the file)")


def zone_dates(s: pd.Series, source: str) -> tuple[np.ndarray, str | None]:
    """datetime64[D] dates of a datetime column; for a time-zone-aware one, each value's date in its own zone.

    Returns (dates, note or None). Midnight UTC shown in another zone (2019-12-31 19:00-05:00 for
    2020-01-01) is refused: its date in that zone is the day before the one the writer meant, and
    taking either silently would shift or guess.
    """
    tz = getattr(s.dt, "tz", None)
    if tz is None:
        return s.to_numpy().astype("datetime64[D]"), None
    local = s.dt.tz_localize(None)  # wall time in its own zone: no shift
    present = s.dropna()
    if len(present) and str(tz) not in ("UTC", "utc"):
        utc = present.dt.tz_convert("UTC")
        at_utc_midnight = (utc.dt.normalize() == utc).all()
        lt = present.dt.tz_localize(None)
        # West of UTC such a value falls on the day before; east of it (01:00 in London) the same day.
        other_day = (lt.dt.normalize() != utc.dt.tz_localize(None).dt.normalize()).any()
        if at_utc_midnight and other_day:
            first = present.iloc[0]
            raise InputDataError(
                f"{source}: column 'date' holds midnight UTC shown in time zone {tz} (row 1: {first}); its date "
                f"in {tz} is {first.date()}, the day before {utc.iloc[0].date()}: write plain dates, or the "
                f"timestamps in UTC (or at midnight in {tz})")
    note = (f"column 'date' is time-zone aware ({tz}): each row's date is its date in {tz}, "
            f"not converted to UTC or any other zone")
    return local.to_numpy().astype("datetime64[D]"), note
