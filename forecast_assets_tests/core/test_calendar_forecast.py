"""Forecasts on the exchange calendar: a holiday is neither a step, nor a missing day, nor an actual."""

import numpy as np

from forecast_assets.core.calendar import ICE_SOFTS, WEEKDAYS, Calendar
from forecast_assets.core.forecast import forecast
from forecast_assets.core.paths import day_seeds

ICE, WD = Calendar(ICE_SOFTS), Calendar(WEEKDAYS)
# Thanksgiving 2024 is Thu 28 Nov: no ICE softs session, so no row in the sample (core/sample.py)
BEFORE, HOLIDAY, AFTER = (np.datetime64(d) for d in ("2024-11-27", "2024-11-28", "2024-11-29"))


def _run(trained, daily, days, cal, n_paths=2000):
    days = np.array(days, dtype="datetime64[D]")
    return forecast(trained, daily, days, n_paths=n_paths, seeds=day_seeds(7, "Coffee", trained.model_name, "v1.0", days),
                    horizon=14, calendar=cal)


def test_the_sample_has_no_row_on_the_holiday(coffee_daily):
    idx = coffee_daily.index.values.astype("datetime64[D]")
    assert HOLIDAY not in idx and BEFORE in idx and AFTER in idx


def test_step_one_after_a_holiday_has_no_extra_variance(small_trained, coffee_daily):
    t = small_trained("naive")
    # 20,000 paths: the bootstrap pool holds the sample's frost shock (a many-sigma standardized
    # residual), so a standard deviation from 2,000 draws is too noisy to tell 1 from sqrt(2).
    ice, wd = _run(t, coffee_daily, [AFTER], ICE, 20_000), _run(t, coffee_daily, [AFTER], WD, 20_000)
    assert ice.ok.all() and wd.ok.all() and ice.cutoffs[0] == BEFORE == wd.cutoffs[0]
    close0 = coffee_daily.loc[str(BEFORE), "close"]
    sd_ice = np.log(ice.prices[0, :, 0] / close0).std()
    sd_wd = np.log(wd.prices[0, :, 0] / close0).std()
    # weekdays count Thanksgiving as a missing day (gap 1): step 1 is two steps of noise, sqrt(2) wider
    assert 0.6 < sd_ice / sd_wd < 0.8
    # on ICE the gap is 0: step 1 after the holiday is as wide as step 1 of the day before it
    prev = _run(t, coffee_daily, [BEFORE], ICE, 20_000)
    sd_prev = np.log(prev.prices[0, :, 0] / coffee_daily.loc["2024-11-26", "close"]).std()
    assert 0.85 < sd_ice / sd_prev < 1.15


def test_a_holiday_is_not_a_step_and_its_actual_is_not_a_carried_close(small_trained, coffee_daily):
    t = small_trained("naive")
    ice, wd = _run(t, coffee_daily, [BEFORE], ICE, 20), _run(t, coffee_daily, [BEFORE], WD, 20)
    assert HOLIDAY not in ice.step_dates[0] and ice.step_dates[0, 1] == AFTER
    assert ice.actuals[0, 1] == coffee_daily.loc[str(AFTER), "close"]
    # the weekday rule made the holiday step 2, its "actual" the close of the day before carried forward
    assert wd.step_dates[0, 1] == HOLIDAY and wd.actuals[0, 1] == coffee_daily.loc[str(BEFORE), "close"]
    assert (ice.step_dates[0, 2:] > wd.step_dates[0, 1:-1]).all()  # every later step one session on


def test_stale_rule_counts_sessions(small_trained, coffee_daily):
    """A feed that stops before a holiday week: the stale limit (MAX_GAP sessions) is reached a day later."""
    t = small_trained("naive")
    cut = coffee_daily[coffee_daily.index <= "2024-11-20"]  # last row Wed 20 Nov
    # Thu 21 .. Wed 27 Nov and Fri 29 Nov are 6 ICE sessions (Thanksgiving is none): 6 missing, not stale;
    # the weekday rule counted 7 (Thanksgiving as one) and refused the day
    ice, wd = _run(t, cut, ["2024-12-02"], ICE, 20), _run(t, cut, ["2024-12-02"], WD, 20)
    assert ice.ok.all() and not wd.ok.any()
    assert "7 sessions (weekdays)" in wd.reasons[0]
