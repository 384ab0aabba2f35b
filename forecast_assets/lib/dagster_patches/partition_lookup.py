"""Fast window lookups for Dagster's day -> semiannual-window partition mapping.

Before each step of a forecast asset, Dagster maps every day of the run to its
window to record the input data versions of the trained models, one day at a
time. For a cron with no fast path in Dagster ("0 0 1 1,7 *") every lookup
walks croniter in the partition time zone, ~0.9 ms: 8-17 s per step for
2018..2025, three steps a run, measured with bench/perf.py (a monthly cron
takes 0.13 ms). The windows are few and fixed, so for this cron the two
lookups below answer from the windows Dagster itself generated once, and hand
every other case (other crons, exclusions, times outside the list) back to
Dagster's own methods. Installed by dagster_patches.install(), only on the Dagster
versions the tests comparing both answers passed on (forecast_assets_tests/lib/).
"""

from bisect import bisect_left, bisect_right
from datetime import datetime, timezone

from dagster import TimeWindowPartitionsDefinition
from dagster._time import dst_safe_strftime

_original = TimeWindowPartitionsDefinition.get_partition_key_for_timestamp
_original_iterate = TimeWindowPartitionsDefinition._iterate_time_windows
_crons: set[str] = set()
_windows: dict[tuple, tuple[list[float], list, list[str]]] = {}
_UNTIL = datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp()


def _key(pdef: TimeWindowPartitionsDefinition) -> tuple:
    return (pdef.cron_schedule, pdef.timezone, pdef.fmt, pdef.start.timestamp(), pdef.end_offset)


def _known(pdef: TimeWindowPartitionsDefinition) -> tuple[list[float], list, list[str]]:
    """Window starts, windows and keys up to 2100, as Dagster's own iterator makes them, once per definition."""
    if _key(pdef) not in _windows:
        wins = []
        for tw in _original_iterate(pdef, pdef.start.timestamp()):
            if tw.start.timestamp() >= _UNTIL:
                break
            wins.append(tw)
        keys = [dst_safe_strftime(tw.start, pdef.timezone, pdef.fmt, pdef.cron_schedule) for tw in wins]
        _windows[_key(pdef)] = ([tw.start.timestamp() for tw in wins], wins, keys)
    return _windows[_key(pdef)]


def _iterate(self: TimeWindowPartitionsDefinition, start_timestamp: float, ignore_exclusions: bool = False):
    """Dagster's: every window that starts at or after start_timestamp, in order, without end."""
    if self.cron_schedule in _crons and not self.exclusions:
        starts, wins, _ = _known(self)
        if starts and starts[0] <= start_timestamp <= starts[-1]:
            yield from wins[bisect_left(starts, start_timestamp):]
            yield from _original_iterate(self, wins[-1].end.timestamp(), ignore_exclusions)
            return
    yield from _original_iterate(self, start_timestamp, ignore_exclusions)


def _lookup(self: TimeWindowPartitionsDefinition, timestamp: float, end_closed: bool = False) -> str:
    if self.cron_schedule in _crons and not self.exclusions:
        starts, _, keys = _known(self)
        i = bisect_right(starts, timestamp) - 1
        if end_closed and 0 <= i < len(starts) and starts[i] == timestamp:
            i -= 1
        if 0 <= i < len(starts) - 1:  # inside a window that has a known end
            return keys[i]
    return _original(self, timestamp, end_closed)


def install(cron_schedule: str) -> None:
    """Answer lookups for partitions of this cron from the window list (idempotent)."""
    _crons.add(cron_schedule)
    TimeWindowPartitionsDefinition.get_partition_key_for_timestamp = _lookup
    TimeWindowPartitionsDefinition._iterate_time_windows = _iterate
