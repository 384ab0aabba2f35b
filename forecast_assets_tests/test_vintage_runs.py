"""Issue 13 at the run layer: a failed recomputation never replaces a good forecast; reasons and numbers."""

from datetime import date, timedelta

import pandas as pd

from forecast_assets.runs import checks, forecasting, training
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

DAYS = [date(2025, 1, 6) + timedelta(days=i) for i in range(10)]


def _stored(store):
    return read_sql(store, f"SELECT forecast_start_date AS d, vintage, vintage_reason AS reason, "
                           f"BOOL_AND(model_success) AS ok, MAX(failure_reason) AS why "
                           f"FROM {qualified('point_forecasts')} GROUP BY ALL ORDER BY d, vintage")


def test_a_failed_recomputation_is_an_attempt_and_the_good_vintage_stays_current(store, settings, sample_unified):
    training.train_windows(store, settings, "naive", "Coffee", [date(2025, 1, 1)], "test")
    first = forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS)
    assert first.days_written == 10 and first.failed_recomputations == 0
    paths_before = store.read_paths("Coffee", "naive", settings.model_version, DAYS[0], DAYS[-1])[1]
    # Issue 13, case 1: a file of only the latest days replaced the history; the rerun cannot forecast.
    later = sample_unified[(sample_unified["commodity"] == "Coffee")
                           & (pd.to_datetime(sample_unified["date"]) >= "2025-01-20")]
    store.replace_unified(later)
    logged = []
    r = forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS, log=logged.append)
    assert r.days_failed == 10 and r.failed_recomputations == 10
    assert any("their earlier good vintage stays current" in line for line in logged)
    rows = _stored(store)
    assert rows[rows["vintage"] == 2]["ok"].tolist() == [False] * 10  # the attempt is recorded, with why
    assert set(rows[rows["vintage"] == 2]["why"]) == {"no trading data before the forecast day"}
    assert set(rows[rows["vintage"] == 2]["reason"]) == {"input_changed"}
    pts, paths = store.read_paths("Coffee", "naive", settings.model_version, DAYS[0], DAYS[-1])
    assert (paths == paths_before).all() and set(pts["vintage"]) == {1}  # readers still get vintage 1
    outcome = {o.name: o for o in checks.forecast_checks(store, settings, "naive", "Coffee", DAYS)}
    assert not outcome["no_failed_recomputation"].passed
    assert outcome["no_failed_recomputation"].metadata == {"failed_recomputations": 10}
    assert "no trading data before the forecast day" in outcome["no_failed_recomputation"].description
    assert outcome["no_missing_days"].passed and outcome["paths_valid"].passed  # the current vintage is whole

    # The history comes back: the input is vintage 1's again, so nothing is recomputed.
    store.replace_unified(sample_unified)
    r = forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS)
    assert r.days_written == 0 and r.days_skipped == 10  # same input as vintage 1: nothing to do
    outcome = {o.name: o for o in checks.forecast_checks(store, settings, "naive", "Coffee", DAYS)}
    assert not outcome["no_failed_recomputation"].passed  # the failed attempt stays on record


def test_force_and_a_new_model_number_the_next_vintage(store, settings):
    training.train_windows(store, settings, "naive", "Coffee", [date(2025, 1, 1)], "test")
    forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS[:3])
    forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS[:3], force=True)
    rows = _stored(store)
    assert rows["vintage"].tolist() == [1, 2] * 3 and rows["reason"].tolist() == ["first", "force"] * 3
    again = forecasting.forecast_days(store, settings, "naive", "Coffee", DAYS[:3])
    assert again.days_skipped == 3  # vintage 2 is current and from the same input

