from datetime import date

import numpy as np

from forecast_assets.core.calendar import step_dates, weekday_gap, window_end, window_start, windows_between


def test_steps_are_the_weekdays_at_or_after_the_start():
    # 2024-03-02 is a Saturday: step 1 is Monday 4 March, step 14 is Thursday 21 March.
    s = step_dates(np.array(["2024-03-02", "2024-03-04"], dtype="datetime64[D]"), 14)
    assert s.shape == (2, 14)
    assert str(s[0, 0]) == "2024-03-04" and str(s[0, 13]) == "2024-03-21"
    assert str(s[1, 0]) == "2024-03-04"  # a weekday start is its own step 1
    assert (np.is_busday(s)).all() and (np.diff(s, axis=1) > np.timedelta64(0, "D")).all()


def test_weekday_gap_counts_missing_weekdays_only():
    cut = np.array(["2024-03-01", "2024-03-01", "2024-02-28"], dtype="datetime64[D]")
    start = np.array(["2024-03-04", "2024-03-02", "2024-03-04"], dtype="datetime64[D]")
    assert weekday_gap(cut, start).tolist() == [0, 0, 2]  # Fri->Mon: 0; Wed->Mon: Thu, Fri missing


def test_semiannual_windows():
    assert window_start(date(2024, 6, 30)) == date(2024, 1, 1)
    assert window_start(date(2024, 7, 1)) == date(2024, 7, 1)
    assert window_end(date(2024, 1, 1)) == date(2024, 6, 30)
    assert window_end(date(2024, 7, 1)) == date(2024, 12, 31)
    assert windows_between(date(2018, 1, 1), date(2025, 11, 17))[-1] == date(2025, 7, 1)
    assert len(windows_between(date(2018, 1, 1), date(2025, 11, 17))) == 16
