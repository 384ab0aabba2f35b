"""A window that cannot be trained fails alone: the others of the run are written, then the run names it."""

from datetime import date

import pytest

from forecast_assets.runs import training


def test_a_short_window_fails_alone_with_the_60_day_wording(store, settings):
    with pytest.raises(training.WindowsFailed) as err:
        training.train_windows(store, settings, "xgboost", "Coffee", [date(2017, 1, 1), date(2020, 1, 1)], "test")
    msg = str(err.value)
    assert "1 window could not be trained (1 other was written)" in msg
    assert ("Coffee|2017-01-01: unified_data: commodity 'Coffee' has 3" in msg
            and "trading days of data before 2017-01-01; at least 1050 are needed for xgboost" in msg)
    assert [r.window_start for r in err.value.trained] == [date(2020, 1, 1)]
    assert store.read_trained_model("Coffee", "xgboost", settings.model_version, date(2020, 1, 1)) is not None
    assert store.read_trained_model("Coffee", "xgboost", settings.model_version, date(2017, 1, 1)) is None
    # naive keeps the 60-day rule: both windows train.
    assert len(training.train_windows(store, settings, "naive", "Coffee", [date(2016, 1, 1)], "test")) == 1
