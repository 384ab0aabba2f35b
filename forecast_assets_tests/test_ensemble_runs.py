"""runs.ensemble over a real DuckDB file: members forecast and scored, weights learned walk-forward, the ensemble
forecast, scored and compared like any model, its skips and vintages, and a missing member's failed day."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import pytest

from forecast_assets.config import Settings
from forecast_assets.core import comparison
from forecast_assets.core import ensemble as ens
from forecast_assets.explorer import queries
from forecast_assets.runs import actuals, ensemble, forecasting, scoring, training
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

POINTS = qualified("point_forecasts")
W0, W1 = date(2023, 7, 1), date(2024, 1, 1)
MEMBER_DAYS = [W0 + timedelta(days=i) for i in range(215)]  # 2023-07-01 .. 2024-01-31
JAN = [d for d in MEMBER_DAYS if d >= W1]


@pytest.fixture(scope="module")
def world(tmp_path_factory, sample_unified):
    """Every member trained, forecast (200 paths), given actuals and scored over MEMBER_DAYS (~10 s)."""
    tmp = tmp_path_factory.mktemp("ens")
    s = dataclasses.replace(Settings.from_env({}), duckdb_path=tmp / "f.duckdb", artifact_dir=tmp / "a",
                            plot_dir=tmp / "p", n_paths=200)
    store = DuckDBStore(s.duckdb_path)
    store.ensure_schema()
    store.replace_unified(sample_unified)
    for m in ens.MEMBERS:
        training.train_windows(store, s, m, "Coffee", [W0, W1], "test")
        forecasting.forecast_days(store, s, m, "Coffee", MEMBER_DAYS)
    actuals.attach_actuals(store, "Coffee", MEMBER_DAYS, s.calendar("Coffee"))
    scoring.score_days(store, "Coffee", MEMBER_DAYS)
    return store, s


def test_weights_are_learned_from_days_before_the_window_only(world):
    store, s = world
    res = ensemble.train_weights(store, s, "Coffee", [W0, W1], "test")
    assert res[0].equal_weights and res[0].n_train_days == 0  # no member forecast before 2023-07-01
    assert not res[1].equal_weights and res[1].n_train_days >= ens.MIN_TRAINING_DAYS
    row = store.read_trained_model("Coffee", "ensemble", s.model_version, W1)
    doc = json.loads(row["fitted_model_json"])
    assert doc["reason"] is None and abs(sum(doc["weights"].values()) - 1) < 1e-9
    last_steps = s.calendar("Coffee").step_dates([date.fromisoformat(d) for d in doc["training_days"]], 14)[:, -1]
    assert (last_steps < W1).all()  # every training day's last actual is a session before the window
    assert date.fromisoformat(doc["training_days"][-1]) > W1 - timedelta(days=30)
    assert doc["train_crps"]["ensemble"] <= min(doc["train_crps"][m] for m in ens.MEMBERS) + 1e-9
    assert row["model_fingerprint"] == ens.Weights.from_json(row["fitted_model_json"]).fingerprint
    w0 = json.loads(store.read_trained_model("Coffee", "ensemble", s.model_version, W0)["fitted_model_json"])
    assert w0["equal_weights"] and w0["reason"].startswith("not enough history (0 days")


def test_ensemble_is_forecast_scored_and_compared_like_a_model(world):
    store, s = world
    ensemble.train_weights(store, s, "Coffee", [W1], "test")
    r = ensemble.forecast_days(store, s, "Coffee", JAN)
    assert (r.days_written, r.days_failed) == (len(JAN), 0)
    again = ensemble.forecast_days(store, s, "Coffee", JAN)
    assert (again.days_written, again.days_skipped) == (0, len(JAN))  # same members, same weights: complete
    actuals.attach_actuals(store, "Coffee", JAN, s.calendar("Coffee"))
    scoring.score_days(store, "Coffee", JAN)
    sc = store.read_scores(JAN[0], JAN[-1])
    assert set(sc["model_name"]) == {*ens.MEMBERS, "ensemble"}
    perf = scoring.model_performance(store, JAN[0], JAN[-1])
    assert "ensemble" in set(perf["model_name"])
    # The report's table and the explorer list and show it as a model.
    assert "ensemble" in comparison.comparison_table(perf, (1, 7, 14))
    assert "ensemble" in set(store.explorer_catalogue()["model_name"])
    day = queries.load_day(store, "Coffee", [*ens.MEMBERS, "ensemble"], s.model_version, JAN[3], n_paths=5)
    assert "ensemble" in day.models
    pts = read_sql(store, f"SELECT * FROM {POINTS} WHERE model_name = 'ensemble'")
    assert pts["model_success"].all() and not pts["has_data_leakage"].any()
    assert (pts["lower_95"] < pts["forecast_median"]).all() and (pts["forecast_median"] < pts["upper_95"]).all()
    # New weights (here: the other combination) make every day a new vintage; the first stays.
    ensemble.train_weights(store, s, "Coffee", [W1], "test", method="quantile_average")
    r = ensemble.forecast_days(store, s, "Coffee", JAN)
    assert r.days_written == len(JAN)
    reasons = read_sql(store, f"SELECT DISTINCT vintage, vintage_reason FROM {POINTS} WHERE model_name = 'ensemble'")
    assert sorted(map(tuple, reasons.to_numpy().tolist())) == [(1, "first"), (2, "model_changed")]


def test_a_missing_member_fails_its_day_only(world):
    store, s = world
    ensemble.train_weights(store, s, "Coffee", [W1], "test")
    feb = [date(2024, 2, 1) + timedelta(days=i) for i in range(3)]
    for m in ("naive", "sarimax_auto_weather"):  # xgboost not forecast for these days
        forecasting.forecast_days(store, s, m, "Coffee", feb)
    r = ensemble.forecast_days(store, s, "Coffee", [JAN[-1], *feb])
    assert (r.days_failed, r.days_skipped + r.days_written) == (3, 1)
    rows = read_sql(store, f"SELECT forecast_start_date, model_success, failure_reason FROM {POINTS} "
                           f"WHERE model_name = 'ensemble' AND forecast_start_date >= '2024-02-01'")
    assert len(rows) == 3 * 14 and not rows["model_success"].any()
    assert rows["failure_reason"].str.contains("member forecast missing: xgboost").all()
    forecasting.forecast_days(store, s, "xgboost", "Coffee", feb)
    r = ensemble.forecast_days(store, s, "Coffee", feb)
    assert (r.days_written, r.days_failed) == (3, 0)
    latest = read_sql(store, f"SELECT DISTINCT vintage, vintage_reason FROM {POINTS}_latest "
                             f"WHERE model_name = 'ensemble' AND forecast_start_date >= '2024-02-01'")
    assert latest.to_numpy().tolist() == [[2, "retry"]]


def test_forecast_without_weights_names_the_partition(world):
    store, s = world
    with pytest.raises(ensemble.PipelineError, match=r"trained_models/ensemble partition 'Coffee\|2024-07-01'"):
        ensemble.forecast_days(store, s, "Coffee", [date(2024, 7, 2)])
