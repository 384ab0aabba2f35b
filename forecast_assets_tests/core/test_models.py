"""Properties every registered model must have, run on the synthetic sample."""

import json
from datetime import date

import jsonschema
import numpy as np
import pandas as pd
import pytest

from forecast_assets.core import fitted
from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.core.data import cutoff_positions
from forecast_assets.core.forecast import TrainedModel, forecast, train
from forecast_assets.core.models import REGISTRY, get_model, model_class
from forecast_assets.core.paths import day_seeds

WINDOW = date(2023, 1, 1)
DAYS = np.array(["2023-01-02", "2023-01-03", "2023-01-07", "2023-02-15", "2023-06-30"], dtype="datetime64[D]")


@pytest.fixture(scope="module", params=sorted(REGISTRY))
def trained(request, coffee_daily) -> TrainedModel:
    return train(request.param, "Coffee", coffee_daily, WINDOW, 14)


def _history(daily):
    # Anchored like the pipeline: a fixed start before the window, whatever days are asked.
    return daily[daily.index >= pd.Timestamp("2022-08-01")]


def _paths(trained, daily, days, n_paths=500):
    seeds = day_seeds(1, "Coffee", trained.model_name, "v1.0", days)
    return forecast(trained, _history(daily), days, n_paths=n_paths, seeds=seeds, horizon=14,
                    calendar=Calendar(ICE_SOFTS))


def test_fitted_model_is_validated_json_that_saw_only_data_before_the_window(trained):
    doc = json.loads(trained.text)
    jsonschema.validate(doc["params"], model_class(doc["model_name"]).params_schema)
    assert trained.training_cutoff_date < WINDOW
    assert trained.training_cutoff_date == date(2022, 12, 30)  # last trading day of 2022
    assert fitted.loads(trained.text) == doc


def test_paths_are_positive_finite_and_widen_with_the_horizon(trained, coffee_daily):
    b = _paths(trained, coffee_daily, DAYS)
    assert b.ok.all() and b.prices.shape == (len(DAYS), 500, 14)
    assert np.isfinite(b.prices).all() and (b.prices > 0).all()
    spread = np.log(b.prices).std(axis=1).mean(axis=0)
    assert spread[13] > 2 * spread[0]
    assert not b.leakage.any()
    assert (b.cutoffs < b.days).all()


def test_paths_start_near_the_last_close(trained, coffee_daily):
    b = _paths(trained, coffee_daily, DAYS)
    last = coffee_daily["close"].to_numpy()[cutoff_positions(coffee_daily.index, DAYS)]
    med = np.median(b.prices[:, :, 0], axis=1)
    assert np.all(np.abs(np.log(med / last)) < 0.05)


def test_no_data_after_the_cutoff_changes_a_forecast(trained, coffee_daily):
    day = DAYS[3]
    before = _paths(trained, coffee_daily, DAYS[3:4]).prices
    changed = coffee_daily.copy()
    after_cut = changed.index >= pd.Timestamp(day)
    changed.loc[after_cut, "close"] *= 3.0
    for c in ("temp_min_c", "temp_max_c", "precipitation_mm"):
        if c in changed:
            changed.loc[after_cut, c] = -50.0
    assert np.array_equal(_paths(trained, changed, DAYS[3:4]).prices, before)


def test_same_paths_whichever_batch_computed_the_day(trained, coffee_daily):
    together = _paths(trained, coffee_daily, DAYS).prices
    for i, d in enumerate(DAYS):
        assert np.array_equal(_paths(trained, coffee_daily, DAYS[i:i + 1]).prices[0], together[i]), str(d)


def test_points_agree_with_the_paths(trained, coffee_daily):
    b = _paths(trained, coffee_daily, DAYS[:2])
    p = b.prices.astype(np.float64)
    assert np.allclose(b.points["forecast_mean"], p.mean(axis=1))
    assert np.all(b.points["lower_95"] < b.points["forecast_mean"])
    assert np.all(b.points["forecast_mean"] < b.points["upper_95"])
    inside = ((p >= b.points["lower_95"][:, None]) & (p <= b.points["upper_95"][:, None])).mean()
    assert 0.93 < inside < 0.97


def test_a_stale_cutoff_widens_or_fails_instead_of_pretending(trained, coffee_daily):
    day = np.array(["2023-02-15"], dtype="datetime64[D]")
    fresh = _paths(trained, coffee_daily, day)
    # The feed missed the four weekdays before the day: the cutoff moves back and the spread grows.
    stale = coffee_daily[(coffee_daily.index < pd.Timestamp("2023-02-09")) | (coffee_daily.index >= pd.Timestamp(day[0]))]
    b = _paths(trained, stale, day)
    assert str(b.cutoffs[0]) == "2023-02-08"
    assert b.ok[0] and np.log(b.prices[0]).std(axis=0)[0] > np.log(fresh.prices[0]).std(axis=0)[0]
    # Three weeks without data: refused, with the reason.
    gone = coffee_daily[(coffee_daily.index < pd.Timestamp("2023-01-20")) | (coffee_daily.index >= pd.Timestamp(day[0]))]
    b = _paths(trained, gone, day)
    assert not b.ok[0] and "stale" in b.reasons[0] and np.isnan(b.prices[0]).all()


def test_a_model_serving_a_window_never_trains_on_it(coffee_daily):
    t = train("naive", "Coffee", coffee_daily, date(2024, 7, 1), 14)
    assert t.training_cutoff_date == date(2024, 6, 28)
    tampered = t.doc | {"training_cutoff_date": "2024-07-01"}
    b = forecast(TrainedModel(doc=tampered, text=fitted.dumps(tampered)), coffee_daily,
                 np.array(["2024-07-01"], dtype="datetime64[D]"), n_paths=10, seeds=np.array([1], dtype=np.uint64),
                 horizon=14, calendar=Calendar(ICE_SOFTS))
    assert b.leakage.all()  # the flag is computed from the dates, so it fires


def test_registry_names_and_unknown_model():
    assert set(REGISTRY) == {"naive", "xgboost", "sarimax_auto_weather"}
    with pytest.raises(Exception, match="unknown model"):
        get_model("prophet")


def test_xgboost_booster_json_parses_to_the_same_values_with_orjson(coffee_daily):
    """fit() parses XGBoost's saved JSON with orjson (faster): the stored params are the stdlib's values."""
    import orjson
    import xgboost as xgb

    trained = train("xgboost", "Coffee", coffee_daily, WINDOW, 14)
    booster = xgb.Booster()
    booster.load_model(bytearray(orjson.dumps(trained.doc["params"]["booster"])))
    raw = booster.save_raw(raw_format="json")
    assert orjson.loads(raw) == json.loads(bytes(raw)) == trained.doc["params"]["booster"]
