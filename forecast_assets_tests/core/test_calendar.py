from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_assets.config import ConfigError, Settings
from forecast_assets.core.calendar import (ICE_SOFTS, WEEKDAYS, Calendar, CalendarError, step_dates, window_end,
                                           window_start, windows_between)

ICE = Calendar(ICE_SOFTS)


def _d(*days):
    return np.array(days, dtype="datetime64[D]")


def test_steps_are_the_weekdays_at_or_after_the_start():
    # 2024-03-02 is a Saturday: step 1 is Monday 4 March, step 14 is Thursday 21 March.
    for s in (step_dates(_d("2024-03-02", "2024-03-04"), 14), Calendar(WEEKDAYS).step_dates(_d("2024-03-02", "2024-03-04"), 14)):
        assert s.shape == (2, 14)
        assert str(s[0, 0]) == "2024-03-04" and str(s[0, 13]) == "2024-03-21"
        assert str(s[1, 0]) == "2024-03-04"  # a weekday start is its own step 1
        assert (np.is_busday(s)).all() and (np.diff(s, axis=1) > np.timedelta64(0, "D")).all()


def test_weekday_gap_counts_missing_weekdays_only():
    cut = _d("2024-03-01", "2024-03-01", "2024-02-28")
    start = _d("2024-03-04", "2024-03-02", "2024-03-04")
    assert Calendar(WEEKDAYS).gap(cut, start).tolist() == [0, 0, 2]  # Fri->Mon: 0; Wed->Mon: Thu, Fri missing


def test_ice_softs_steps_skip_christmas_and_new_year():
    s = ICE.step_dates(_d("2024-12-24"), 14)[0].astype(str).tolist()
    assert s[:7] == ["2024-12-24", "2024-12-26", "2024-12-27", "2024-12-30", "2024-12-31", "2025-01-02",
                     "2025-01-03"]
    assert "2024-12-25" not in s and "2025-01-01" not in s
    # a start on the holiday itself: step 1 is the next session
    assert str(ICE.step_dates(_d("2024-12-25"), 1)[0, 0]) == "2024-12-26"


@pytest.mark.parametrize("start, holiday, after", [
    ("2024-03-28", "2024-03-29", "2024-04-01"),  # Good Friday
    ("2024-11-27", "2024-11-28", "2024-11-29"),  # Thanksgiving
    ("2024-01-12", "2024-01-15", "2024-01-16"),  # Martin Luther King Jr. Day
    ("2023-06-16", "2023-06-19", "2023-06-20"),  # Juneteenth
])
def test_ice_softs_holidays_are_not_steps_and_not_gaps(start, holiday, after):
    s = ICE.step_dates(_d(start), 14)[0]
    assert np.datetime64(holiday) not in s and s[0] == np.datetime64(start) and s[1] == np.datetime64(after)
    assert len(np.unique(s)) == 14 and ICE.is_session(s).all()
    # the day after the holiday, forecast from the close before it: no session is missing
    assert ICE.gap(_d(start), _d(after)).tolist() == [0]
    assert Calendar(WEEKDAYS).gap(_d(start), _d(after)).tolist() == [1]  # the old rule: one "missing" day


def test_gap_counts_missing_sessions():
    # Wed 20 Nov -> Fri 29 Nov 2024: Thu 21, Fri 22, Mon 25, Tue 26, Wed 27 missing; Thanksgiving is not
    assert ICE.gap(_d("2024-11-20"), _d("2024-11-29")).tolist() == [5]
    assert Calendar(WEEKDAYS).gap(_d("2024-11-20"), _d("2024-11-29")).tolist() == [6]


_dates = st.integers(0, 365 * 50).map(lambda k: np.datetime64("1990-01-01") + np.timedelta64(k, "D"))


@settings(max_examples=200, deadline=None)
@given(starts=st.lists(_dates, min_size=1, max_size=20), horizon=st.integers(1, 60),
       back=st.lists(st.integers(1, 40), min_size=20, max_size=20))
def test_weekdays_is_exactly_the_old_rule(starts, horizon, back):
    """'weekdays' keeps the rule before exchange calendars: np.busday_offset steps, np.busday_count gaps."""
    starts = np.array(starts, dtype="datetime64[D]")
    cutoffs = starts - np.array(back[: len(starts)]).astype("timedelta64[D]")
    old_steps = np.busday_offset(np.busday_offset(starts, 0, roll="forward")[:, None],
                                 np.arange(horizon)[None, :], roll="forward")
    old_gap = np.busday_count(cutoffs + np.timedelta64(1, "D"), starts)
    cal = Calendar(WEEKDAYS)
    assert (cal.step_dates(starts, horizon) == old_steps).all()
    assert (cal.gap(cutoffs, starts) == old_gap).all()


@settings(max_examples=100, deadline=None)
@given(starts=st.lists(_dates, min_size=1, max_size=20), horizon=st.integers(1, 30))
def test_exchange_steps_are_consecutive_sessions(starts, horizon):
    starts = np.array(starts, dtype="datetime64[D]")
    s = ICE.step_dates(starts, horizon)
    sessions = ICE.sessions(starts.min(), s.max())
    i = np.searchsorted(sessions, s[:, 0])
    assert (sessions[i[:, None] + np.arange(horizon)] == s).all()  # consecutive sessions
    assert (s[:, 0] >= starts).all()
    before = sessions[np.searchsorted(sessions, starts) - 1]  # the session before step 1 is before the start
    assert (before < starts).all()
    assert (ICE.gap(before, s[:, 0]) == 0).all()


def test_unknown_calendar_is_refused():
    with pytest.raises(CalendarError, match="unknown calendar 'NOPE'"):
        Calendar("NOPE")
    assert Calendar("XNYS").step_dates(_d("2024-07-03"), 2)[0, 1] == np.datetime64("2024-07-05")
    # exchange-calendars' CME and ICE US calendars are Globex/energy ones: Independence Day is a session
    # there (an early close, no settlement), which is why Coffee and Sugar do not use IEPA (core/calendar.py)
    for name in ("CMES", "IEPA", "ICEUS"):
        assert Calendar(name).step_dates(_d("2024-07-03"), 2)[0, 1] == np.datetime64("2024-07-04")


def test_forecast_calendars_setting():
    s = Settings.from_env({})
    assert s.calendar("Coffee") == Calendar(ICE_SOFTS) and s.calendar("Sugar") == Calendar(ICE_SOFTS)
    assert s.calendar("WTI") == Calendar(WEEKDAYS)  # imported commodities: weekdays unless configured
    s = Settings.from_env({"FORECAST_CALENDARS": " WTI=CMES , SP500=XNYS,Coffee=weekdays"})
    assert (s.calendar("WTI").name, s.calendar("SP500").name, s.calendar("Coffee").name,
            s.calendar("Sugar").name) == ("CMES", "XNYS", WEEKDAYS, ICE_SOFTS)
    with pytest.raises(ConfigError, match=r"FORECAST_CALENDARS: WTI=NYMEXX: unknown calendar 'NYMEXX'"):
        Settings.from_env({"FORECAST_CALENDARS": "WTI=NYMEXX"})
    for bad in ("WTI", "WTI=", "=CMES", "WTI:CMES"):
        with pytest.raises(ConfigError, match="is not commodity=calendar"):
            Settings.from_env({"FORECAST_CALENDARS": bad})
    with pytest.raises(ConfigError, match="not allowed"):
        Settings.from_env({"FORECAST_CALENDARS": "a|b=XNYS"})


def test_semiannual_windows():
    assert window_start(date(2024, 6, 30)) == date(2024, 1, 1)
    assert window_start(date(2024, 7, 1)) == date(2024, 7, 1)
    assert window_end(date(2024, 1, 1)) == date(2024, 6, 30)
    assert window_end(date(2024, 7, 1)) == date(2024, 12, 31)
    assert windows_between(date(2018, 1, 1), date(2025, 11, 17))[-1] == date(2025, 7, 1)
    assert len(windows_between(date(2018, 1, 1), date(2025, 11, 17))) == 16


def test_sessions_kept_between_processes_are_the_same_and_skip_the_library(tmp_path):
    """A cache folder: the first process writes the decade's sessions, a later one reads them without
    importing exchange-calendars; a damaged file is rebuilt; an unwritable folder only costs the build."""
    import subprocess
    import sys

    from forecast_assets.core import calendar as cal_mod

    cache = tmp_path / "cache"
    plain = Calendar(ICE_SOFTS).sessions("2024-01-01", "2025-12-31")
    kept = Calendar(ICE_SOFTS, cache_dir=str(cache))
    cal_mod._sessions.cache_clear()
    np.testing.assert_array_equal(kept.sessions("2024-01-01", "2025-12-31"), plain)
    files = list(cache.glob("sessions-ICEUS_SOFTS-2020-2029-exchange_calendars-*.npy"))
    assert len(files) == 1
    assert Calendar(ICE_SOFTS, cache_dir=str(cache)) == Calendar(ICE_SOFTS)  # not part of its identity

    code = ("import sys, numpy as np\n"
            "from forecast_assets.core.calendar import Calendar, ICE_SOFTS\n"
            f"s = Calendar(ICE_SOFTS, cache_dir={str(cache)!r}).sessions('2024-01-01', '2025-12-31')\n"
            "print('exchange_calendars' in sys.modules, len(s), s[0], s[-1])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", str(len(plain)), str(plain[0]), str(plain[-1])]

    files[0].write_bytes(b"not an array")
    cal_mod._sessions.cache_clear()
    np.testing.assert_array_equal(kept.sessions("2024-01-01", "2025-12-31"), plain)
    np.testing.assert_array_equal(np.load(files[0]), plain)  # rebuilt and kept again

    blocked = tmp_path / "a-file"
    blocked.write_text("")  # its "cache folder" cannot be made
    cal_mod._sessions.cache_clear()
    np.testing.assert_array_equal(Calendar(ICE_SOFTS, cache_dir=str(blocked / "cache")).sessions("2024-01-01", "2025-12-31"), plain)
