"""Train once, infer many, over a real DuckDB file: skips, replaces, refusals."""

import dataclasses
from datetime import date, timedelta

import pytest

from forecast_assets.runs import forecasting, loading, training
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

DIST, POINTS, MODELS = qualified("distributions"), qualified("point_forecasts"), qualified("trained_models")
DAYS = [date(2024, 6, 20) + timedelta(days=i) for i in range(20)]  # crosses into the 2024-07-01 window


def _n(store, table, where="TRUE"):
    return int(read_sql(store, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")["n"].iloc[0])


@pytest.fixture
def small(settings):
    return dataclasses.replace(settings, n_paths=100)


def test_train_then_forecast_then_rerun_skips(store, small):
    res = training.train_windows(store, small, "naive", "Coffee", [date(2024, 1, 1), date(2024, 7, 1)], "test")
    assert [r.training_cutoff_date for r in res] == [date(2023, 12, 29), date(2024, 6, 28)]
    logs = []
    r = forecasting.forecast_days(store, small, "naive", "Coffee", DAYS, log=logs.append)
    assert (r.days_written, r.days_skipped, r.days_failed) == (20, 0, 0)
    assert "20/20 days" in logs[-1] and "days/s" in logs[-1]
    n = _n(store, DIST), _n(store, POINTS)
    assert n == (20 * 101, 20 * 14)  # 100 paths + the actuals row per day
    # Days map to the window containing them.
    cut = read_sql(store, f"SELECT forecast_start_date, MIN(training_cutoff_date) AS t FROM {POINTS} GROUP BY 1")
    for d, t in cut.itertuples(index=False):
        assert t.date() == (date(2023, 12, 29) if d.date() < date(2024, 7, 1) else date(2024, 6, 28))
    r = forecasting.forecast_days(store, small, "naive", "Coffee", DAYS)
    assert (r.days_written, r.days_skipped) == (0, 20)
    assert (_n(store, DIST), _n(store, POINTS)) == n
    r = forecasting.forecast_days(store, small, "naive", "Coffee", DAYS, force=True)
    # Forced: every day again, as vintage 2 beside vintage 1 (a published forecast is never overwritten).
    assert r.days_written == 20 and (_n(store, DIST), _n(store, POINTS)) == (2 * n[0], 2 * n[1])
    assert (_n(store, f"{DIST}_latest"), _n(store, f"{POINTS}_latest")) == n
    assert _n(store, f"{POINTS}_latest", "vintage = 2 AND vintage_reason = 'force'") == n[1]


def test_retraining_a_window_makes_its_days_stale(store, small):
    training.train_windows(store, small, "naive", "Coffee", [date(2024, 1, 1), date(2024, 7, 1)], "test")
    forecasting.forecast_days(store, small, "naive", "Coffee", DAYS)
    # A changed model (here: trained on less history) for the second window only.
    unified = store.read_unified("Coffee")
    store.replace_unified(unified[unified["date"] >= "2019-01-01"])
    training.train_windows(store, small, "naive", "Coffee", [date(2024, 7, 1)], "test")
    r = forecasting.forecast_days(store, small, "naive", "Coffee", DAYS)
    assert r.days_written == 9 and r.days_skipped == 11  # only 2024-07-01..07-09 recomputed
    assert _n(store, POINTS) == 20 * 14 + 9 * 14  # as vintage 2 of those days
    assert _n(store, f"{POINTS}_latest") == 20 * 14
    assert _n(store, POINTS, "vintage = 2 AND vintage_reason = 'model_changed'") == 9 * 14


def test_a_forecast_made_before_its_input_arrived_is_redone(store, small, sample_unified):
    training.train_windows(store, small, "naive", "Coffee", [date(2024, 7, 1)], "test")
    days = [date(2024, 7, 10)]
    full = store.read_unified("Coffee")
    store.replace_unified(full[full["date"] < "2024-07-09"])  # the feed is a day late
    forecasting.forecast_days(store, small, "naive", "Coffee", days)
    assert str(read_sql(store, f"SELECT MAX(data_cutoff_date) AS c FROM {POINTS}")["c"].iloc[0].date()) == "2024-07-08"
    store.replace_unified(full)
    r = forecasting.forecast_days(store, small, "naive", "Coffee", days)
    assert r.days_written == 1
    assert str(read_sql(store, f"SELECT MAX(data_cutoff_date) AS c FROM {POINTS}")["c"].iloc[0].date()) == "2024-07-09"


def test_forecasting_without_a_trained_model_says_what_to_do(store, small):
    with pytest.raises(loading.PipelineError, match=r"trained_models/naive partition 'Coffee\|2024-07-01'"):
        forecasting.forecast_days(store, small, "naive", "Coffee", [date(2024, 7, 2)])
    assert _n(store, DIST) == 0


def test_large_models_go_to_an_artifact_file(store, small):
    (r,) = training.train_windows(store, small, "xgboost", "Coffee", [date(2024, 1, 1)], "test")
    row = store.read_trained_model("Coffee", "xgboost", "v1.0", date(2024, 1, 1))
    if r.size_bytes >= 1_000_000:
        assert row["fitted_model_json"] is None
        assert row["fitted_model_s3_path"].endswith(f"2024-01-01-{row['model_fingerprint']}.json")
    else:
        assert row["fitted_model_s3_path"] is None
    t = loading.load_trained(store, small, "xgboost", "Coffee", date(2024, 1, 1))
    assert t.training_cutoff_date == date(2023, 12, 29)
