"""The one calendar used everywhere: forecast steps, semiannual windows, cutoffs.

Step k of a forecast that starts on day d is the k-th weekday at or after d
(docs/contract.md). Point forecasts, actuals and evaluation all use these dates.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

# A cutoff more than this many weekdays before the forecast start means the
# input feed is stale: the day is marked failed rather than quietly forecast.
# Models simulate up to horizon + MAX_GAP steps from a cutoff.
MAX_GAP = 6

def step_dates(starts, horizon: int) -> np.ndarray:
    """(n_days, horizon) datetime64[D]: the weekdays at or after each start."""
    starts = np.asarray(starts, dtype="datetime64[D]")
    first = np.busday_offset(starts, 0, roll="forward")
    return np.busday_offset(first[:, None], np.arange(horizon)[None, :], roll="forward")


def span_days(horizon: int) -> int:
    """Calendar days from a forecast's start to its last step, at most (19 for 14 steps).

    A Saturday start is the longest: its first step is the Monday after, two days on.
    Windows that wait for a forecast's actuals are this plus a margin for holidays and late feeds.
    """
    return 2 + (horizon - 1) + 2 * ((horizon - 1) // 5)


def weekday_gap(cutoffs, starts) -> np.ndarray:
    """Weekdays strictly between each cutoff and its forecast start.

    0 when the cutoff is the last weekday before the start (the normal case);
    larger when data for some weekdays before the start is missing (a holiday,
    or a feed that is late). The model then simulates gap + k steps ahead for
    step k, so a stale cutoff widens the forecast instead of pretending.
    """
    cutoffs = np.asarray(cutoffs, dtype="datetime64[D]")
    starts = np.asarray(starts, dtype="datetime64[D]")
    return np.busday_count(cutoffs + np.timedelta64(1, "D"), starts)


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
