"""The one calendar used everywhere: forecast steps, semiannual windows, cutoffs.

Step k of a forecast that starts on day d is the k-th session of the commodity's
calendar at or after d (docs/contract.md); a cutoff's gap is counted in sessions,
so an exchange holiday is not a missing day. Point forecasts, actuals, the
stale-input rule and evaluation all use one `Calendar`, passed down like the
horizon (Settings.calendar(commodity)); nothing here is global state.

Sessions come from exchange-calendars (the kept library), except two names:
- "weekdays": Monday to Friday, numpy's business days (the rule before issue 12);
- "ICEUS_SOFTS": ICE Futures U.S. softs (Coffee "KC", Sugar No. 11 "SB").
  exchange-calendars has no softs calendar: its ICE US calendar (IEPA, aliases
  ICE/ICEUS/NYFE; pandas-market-calendars' ICE is the same) is the energy
  division's, closed only on New Year's Day, Good Friday and Christmas, with
  early closes on MLK, Presidents, Memorial, Independence, Labor and Thanksgiving
  Days, on all of which the softs do not trade. The softs close on the NYSE's
  full-day holidays (those ten, Juneteenth from 2022), so their sessions are
  exchange-calendars' XNYS sessions. Known differences: NYSE-only closures
  (national days of mourning such as 2025-01-09, 2001-09-11..14, 2012-10-29/30)
  may not match ICE's exactly; a missing day there costs one step of gap, as before.
The same caution for other daily settlement series: exchange-calendars' CMES
(aliases CME/NYMEX/CBOT/COMEX) is CME Globex's, on which US holidays such as
Independence Day are sessions (an early close, no settlement); a daily WTI
settlement series has no row then, so XNYS matches it better.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

# A cutoff more than this many sessions before the forecast start means the
# input feed is stale: the day is marked failed rather than quietly forecast.
# Models simulate up to horizon + MAX_GAP steps from a cutoff.
MAX_GAP = 6

WEEKDAYS = "weekdays"
ICE_SOFTS = "ICEUS_SOFTS"
_OWN = {ICE_SOFTS: "XNYS"}  # our names -> the exchange-calendars calendar whose sessions they are
# Coffee and Sugar trade on ICE Futures U.S.; any other commodity is on weekdays unless FORECAST_CALENDARS
# says otherwise: an imported series' own dates cannot give the sessions of the future steps.
DEFAULT_CALENDARS = {"Coffee": ICE_SOFTS, "Sugar": ICE_SOFTS}


class CalendarError(ValueError):
    """An unknown calendar name, or dates outside what a calendar covers."""


def calendar_names() -> list[str]:
    import exchange_calendars as xc

    return [WEEKDAYS, *_OWN, *sorted(xc.get_calendar_names(include_aliases=True))]


def check_calendar(name: str) -> str:
    """`name` if it is a calendar: 'weekdays', 'ICEUS_SOFTS' or an exchange-calendars name (XNYS, CMES, ...)."""
    if name in (WEEKDAYS, *_OWN):
        return name
    import exchange_calendars as xc

    if name not in xc.get_calendar_names(include_aliases=True):
        raise CalendarError(f"unknown calendar {name!r}: use {WEEKDAYS!r}, {ICE_SOFTS!r} (ICE Futures U.S. softs) "
                            f"or an exchange-calendars name such as XNYS, CMES (CME/NYMEX), IEPA (ICE US energy)")
    return name


@lru_cache(maxsize=16)
def _sessions(name: str, first_year: int, last_year: int, cache_dir: str | None = None) -> np.ndarray:
    """Sorted datetime64[D] sessions of whole years first_year..last_year (read-only, cached per process,
    and in `cache_dir` between processes when given)."""
    lo, hi = np.datetime64(f"{first_year}-01-01", "D"), np.datetime64(f"{last_year + 1}-01-01", "D")
    if name == WEEKDAYS:
        days = np.arange(lo, hi)
        out = days[np.is_busday(days)]
    elif (out := _cached(cache_dir, name, first_year, last_year)) is None:
        import exchange_calendars as xc

        try:
            cal = xc.get_calendar(_OWN.get(name, name), start=str(lo), end=str(hi - np.timedelta64(1, "D")))
        except Exception as exc:  # the library's own bound errors: say which calendar and range
            raise CalendarError(f"calendar {name!r} cannot give sessions for {first_year}..{last_year}: {exc}") from exc
        out = cal.sessions.values.astype("datetime64[D]")
        _keep(cache_dir, name, first_year, last_year, out)
    out.flags.writeable = False
    return out


# Between processes: importing exchange-calendars and building a decade of sessions is ~0.5 s of every run
# (a daily run's forecasting is ~1.5 s). The file is named after the library's version, so an upgrade that
# changes a holiday rule is never served from an old file; any problem with the file means building anew.
def _cache_file(cache_dir: str, name: str, first_year: int, last_year: int) -> Path:
    from importlib.metadata import version

    return Path(cache_dir) / f"sessions-{name}-{first_year}-{last_year}-exchange_calendars-{version('exchange_calendars')}.npy"


def _cached(cache_dir: str | None, name: str, first_year: int, last_year: int) -> np.ndarray | None:
    if not cache_dir:
        return None
    try:
        out = np.load(_cache_file(cache_dir, name, first_year, last_year), allow_pickle=False)
    except (OSError, ValueError):
        return None
    ok = (out.dtype == np.dtype("datetime64[D]") and out.ndim == 1 and len(out) > 0 and bool((np.diff(out) > 0).all())
          and out[0] >= np.datetime64(f"{first_year}-01-01") and out[-1] < np.datetime64(f"{last_year + 1}-01-01"))
    return out if ok else None


def _keep(cache_dir: str | None, name: str, first_year: int, last_year: int, sessions: np.ndarray) -> None:
    if not cache_dir:
        return
    try:
        path = _cache_file(cache_dir, name, first_year, last_year)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, sessions, allow_pickle=False)
        os.replace(tmp, path)  # whole or absent: a reader never sees half a file
    except OSError:
        pass  # a cache only: a read-only or full disk costs the next process the build, nothing else


def _year(d: np.datetime64) -> int:
    return int(d.astype("datetime64[Y]").astype(np.int64)) + 1970


@dataclass(frozen=True)
class Calendar:
    """A commodity's sessions, by name (so it pickles to Spark executors as a name).

    The session array is built once per process for whole decades around the
    dates asked (exchange-calendars takes ~0.3 s for twenty years), then every
    question is an np.searchsorted over it: no per-day calls.
    """

    name: str = WEEKDAYS
    # Where the sessions are kept between processes (Settings.calendar: a "cache" folder beside the DuckDB
    # file); None builds them in every process. Not part of the calendar's identity.
    cache_dir: str | None = field(default=None, compare=False)

    def __post_init__(self):
        check_calendar(self.name)

    def sessions(self, first, last) -> np.ndarray:
        """Sorted datetime64[D] sessions covering at least [first, last]."""
        y0, y1 = _year(np.datetime64(first, "D")), _year(np.datetime64(last, "D"))
        return _sessions(self.name, (y0 - 1) // 10 * 10, (y1 + 1) // 10 * 10 + 9, self.cache_dir)

    def is_session(self, days) -> np.ndarray:
        days = np.asarray(days, dtype="datetime64[D]")
        if days.size == 0:
            return np.zeros(days.shape, dtype=bool)
        return np.isin(days, self.sessions(days.min(), days.max()))

    def step_dates(self, starts, horizon: int) -> np.ndarray:
        """(n_days, horizon) datetime64[D]: the sessions at or after each start."""
        starts = np.asarray(starts, dtype="datetime64[D]").reshape(-1)
        if starts.size == 0:
            return np.empty((0, horizon), dtype="datetime64[D]")
        # horizon sessions fit in 2 * horizon + 30 calendar days on any exchange calendar
        s = self.sessions(starts.min(), starts.max() + np.timedelta64(2 * horizon + 30, "D"))
        idx = np.searchsorted(s, starts, side="left")[:, None] + np.arange(horizon)[None, :]
        if idx.max() >= len(s):
            raise CalendarError(f"calendar {self.name!r} has no {horizon} sessions after {starts.max()}")
        return s[idx]

    def gap(self, cutoffs, starts) -> np.ndarray:
        """Sessions strictly between each cutoff and its forecast start.

        0 when the cutoff is the last session before the start (the normal case,
        also across an exchange holiday); larger when data for some sessions
        before the start is missing (a feed that is late). The model then
        simulates gap + k steps ahead for step k, so a stale cutoff widens the
        forecast instead of pretending.
        """
        cutoffs = np.asarray(cutoffs, dtype="datetime64[D]")
        starts = np.asarray(starts, dtype="datetime64[D]")
        if starts.size == 0:
            return np.zeros(starts.shape, dtype=np.int64)
        if np.isnat(cutoffs).any():
            raise CalendarError("gap: a cutoff is NaT (a day without a cutoff has no gap)")
        s = self.sessions(min(cutoffs.min(), starts.min()), starts.max())
        return (np.searchsorted(s, starts, side="left") - np.searchsorted(s, cutoffs, side="right")).astype(np.int64)


def step_dates(starts, horizon: int) -> np.ndarray:
    """Weekday steps, (n_days, horizon): Calendar("weekdays").step_dates without building sessions.

    Kept for callers that want dates near the steps rather than the steps themselves (SARIMAX's
    day-of-year climatology); forecasts take their steps from the commodity's Calendar.
    """
    starts = np.asarray(starts, dtype="datetime64[D]")
    first = np.busday_offset(starts, 0, roll="forward")
    return np.busday_offset(first[:, None], np.arange(horizon)[None, :], roll="forward")


def span_days(horizon: int) -> int:
    """Calendar days from a forecast's start to its last step on weekdays, at most (19 for 14 steps).

    A Saturday start is the longest: its first step is the Monday after, two days on.
    Exchange holidays add at most two or three days (Christmas and New Year's); the windows that wait
    for a forecast's actuals are this plus a margin for holidays and late feeds.
    """
    return 2 + (horizon - 1) + 2 * ((horizon - 1) // 5)

def window_start(d) -> date:
    """Start (1 Jan or 1 Jul) of the semiannual window containing day d."""
    d = pd.Timestamp(d).date()
    return date(d.year, 1 if d.month < 7 else 7, 1)


def window_end(start: date) -> date:
    """Last day of the semiannual window that starts on `start`."""
    start = pd.Timestamp(start).date()
    nxt = date(start.year, 7, 1) if start.month == 1 else date(start.year + 1, 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def windows_between(first: date, last: date) -> list[date]:
    """Starts of every semiannual window that overlaps [first, last]."""
    out, w = [], window_start(first)
    last = pd.Timestamp(last).date()
    while w <= last:
        out.append(w)
        w = date.fromordinal(window_end(w).toordinal() + 1)
    return out
