"""The horizon is one setting: what derives from it, the refusal of a database made with another, the migration."""

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest

from forecast_assets import cli
from forecast_assets.config import ConfigError, Settings
from forecast_assets.core.calendar import MAX_GAP, span_days, step_dates
from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.core.forecast import forecast, train
from forecast_assets.core.models import ModelError
from forecast_assets.core.paths import day_seeds
from forecast_assets.defs.forecasting import actuals_window
from forecast_assets.runs import forecasting, training
from forecast_assets.runs.plan import after_days
from forecast_assets.storage.base import StorageError
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.horizon import HorizonMismatchError, stored_horizon
from forecast_assets.storage.rows import distribution_rows, point_rows
from forecast_assets.storage.schema import columns, day_columns, metadata_horizons, qualified
from forecast_assets_tests.read_sql import read_sql

DIST, POINTS = qualified("distributions"), qualified("point_forecasts")
WINDOW = date(2024, 1, 1)
DAYS = [date(2024, 1, 2) + timedelta(days=i) for i in range(3)]


def _n(store, table):
    return int(read_sql(store, f"SELECT COUNT(*) AS n FROM {qualified(table)}")["n"].iloc[0])


# -- the setting -------------------------------------------------------------------


def test_forecast_horizon_is_read_and_checked():
    assert Settings.from_env({}).horizon == 14
    assert Settings.from_env({"FORECAST_HORIZON": "21"}).horizon == 21
    for bad in ("0", "61", "seven"):
        with pytest.raises(ConfigError, match="FORECAST_HORIZON"):
            Settings.from_env({"FORECAST_HORIZON": bad})


# -- what derives from it ------------------------------------------------------------


def test_at_14_the_tables_keep_the_contract_columns_in_order():
    assert columns("distributions", 14) == [
        "path_id", "forecast_start_date", "data_cutoff_date", "generation_timestamp", "commodity", "model_name",
        "model_version", *(f"day_{k}" for k in range(1, 15)), "is_actuals", "has_data_leakage",
        "training_cutoff_date", "model_fingerprint", "vintage"]  # vintage: added (schema.ADDED)
    metrics = ["mae", "rmse", "mape", "crps", "coverage_80", "coverage_95", "sharpness_80", "sharpness_95",
               "directional_accuracy"]
    assert columns("forecast_metadata", 14) == [
        "commodity", "model_name", "model_version", "forecast_start_date", "data_cutoff_date",
        *(f"{m}_{h}d" for m in metrics for h in (1, 7, 14)), "actuals_available", "model_success", "evaluated_at",
        "energy_score", "variogram_score", "vintage"]  # added columns come last (schema.ADDED)


def test_the_added_columns_are_not_mistaken_for_steps_of_a_horizon():
    from forecast_assets.storage.horizon import mismatch, stored_horizon
    from forecast_assets.storage.schema import ADDED

    for h in (5, 14, 21):
        live = {t: columns(t, h) for t in ("distributions", "forecast_metadata")}
        assert stored_horizon(live) == h and mismatch(live, h) is None
        # A table made before the added columns (not yet migrated) is the same horizon.
        old = {t: [c for c in cols if c not in {a for a, _ in ADDED.get(t, [])}] for t, cols in live.items()}
        assert stored_horizon(old) == h and mismatch(old, h) is None
    assert "energy_score" in columns("forecast_metadata", 14)


def test_the_steps_scored_are_the_first_the_middle_and_the_last():
    assert metadata_horizons(14) == (1, 7, 14)
    assert metadata_horizons(5) == (1, 2, 5)
    assert metadata_horizons(21) == (1, 10, 21)
    assert metadata_horizons(1) == (1,) and metadata_horizons(2) == (1, 2) and metadata_horizons(3) == (1, 3)
    assert day_columns(3) == ["day_1", "day_2", "day_3"]


def test_a_table_shaped_by_the_horizon_needs_it():
    with pytest.raises(TypeError, match="horizon"):
        columns("distributions")
    assert columns("point_forecasts") == columns("point_forecasts", 21)  # one row per step: no day columns


def test_span_days_is_the_longest_calendar_span_of_the_steps():
    starts = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-15"))  # every weekday twice
    for h in range(1, 61):
        longest = int((step_dates(starts, h)[:, -1] - starts).astype(int).max())
        assert span_days(h) == longest, h
    # The windows that wait for actuals keep their values at 14.
    assert (span_days(14), after_days(14), actuals_window(14), actuals_window(14) + 6) == (19, 40, 24, 30)


def test_xgboost_trains_horizon_plus_the_stale_margin_and_refuses_more(coffee_daily):
    rows = coffee_daily[coffee_daily.index >= "2019-06-03"]
    t = train("xgboost", "Coffee", rows, WINDOW, 5)
    assert {len(r) for r in t.doc["params"]["std_residuals"]} == {5 + MAX_GAP}
    days = np.array(["2024-01-03", "2024-01-08"], dtype="datetime64[D]")
    seeds = day_seeds(1, "Coffee", "xgboost", "v1.0", days)
    b = forecast(t, rows, days, n_paths=30, seeds=seeds, horizon=5, calendar=Calendar(ICE_SOFTS))
    assert b.ok.all() and b.prices.shape == (2, 30, 5) and b.step_dates.shape == (2, 5)
    assert forecast(t, rows, days, n_paths=30, seeds=seeds, horizon=3, calendar=Calendar(ICE_SOFTS)).prices.shape == (2, 30, 3)
    with pytest.raises(ModelError, match=r"trained for a horizon of 5 steps and cannot forecast 6: train it "
                                         r"again with FORECAST_HORIZON=6"):
        forecast(t, rows, days, n_paths=30, seeds=seeds, horizon=6, calendar=Calendar(ICE_SOFTS))


def test_rows_carry_every_step_of_the_batch(small_trained, coffee_daily):
    days = np.array(["2024-01-03"], dtype="datetime64[D]")
    b = forecast(small_trained("naive"), coffee_daily, days, n_paths=10,
                 seeds=day_seeds(1, "Coffee", "naive", "v1.0", days), horizon=21,
                 calendar=Calendar(ICE_SOFTS))
    dist, pts = distribution_rows(b, "v1.0"), point_rows(b, "v1.0")
    assert [c for c in dist.column_names if c.startswith("day_")] == day_columns(21)
    assert pts.num_rows == 21 and pts.column("day_ahead").to_pylist() == list(range(1, 22))
    assert dist.num_rows == 11  # path 0 (every step known) + 10 paths


# -- a store is made for one horizon --------------------------------------------------


def test_a_store_creates_its_horizons_columns_and_refuses_other_rows(tmp_path, small_trained, coffee_daily):
    store = DuckDBStore(tmp_path / "f.duckdb", horizon=5)
    store.ensure_schema()
    live = store.live_columns(("distributions", "forecast_metadata"))
    assert stored_horizon(live) == 5 and [c for c in live["distributions"] if c.startswith("day_")] == day_columns(5)
    days = np.array(["2024-01-03"], dtype="datetime64[D]")
    b = forecast(small_trained("naive"), coffee_daily, days, n_paths=10,
                 seeds=day_seeds(1, "Coffee", "naive", "v1.0", days), horizon=14,
                 calendar=Calendar(ICE_SOFTS))
    with pytest.raises(StorageError, match="14 day columns but the tables hold a horizon of 5"):
        store.replace_forecasts("Coffee", "naive", "v1.0", [date(2024, 1, 3)], distribution_rows(b, "v1.0"),
                                point_rows(b, "v1.0"))
    assert _n(store, "distributions") == 0 and _n(store, "point_forecasts") == 0


@pytest.fixture
def made_with_14(store, settings):
    """A database made with horizon 14 holding a trained naive and xgboost model and a few days of forecasts."""
    s = dataclasses.replace(settings, n_paths=20)
    u = store.read_unified("Coffee")
    store.replace_unified(u[u["date"] >= "2017-06-01"].reset_index(drop=True))  # quick fits
    for m in ("naive", "xgboost"):
        training.train_windows(store, s, m, "Coffee", [WINDOW], "test")
        forecasting.forecast_days(store, s, m, "Coffee", DAYS)
    return s


def _sizes(store):
    return {t: _n(store, t) for t in ("unified_data", "trained_models", "distributions", "point_forecasts")}


def test_a_database_made_with_14_is_refused_under_21_and_nothing_changes(made_with_14, store):
    before = _sizes(store)
    with pytest.raises(HorizonMismatchError) as err:
        DuckDBStore(store.path, horizon=21).ensure_schema()
    msg = str(err.value)
    assert "made for a horizon of 14 steps, but FORECAST_HORIZON is 21" in msg
    assert ("distributions has day_1..day_14 where horizon 21 needs day_1..day_21; forecast_metadata scores "
            "steps 1, 7, 14 where horizon 21 needs 1, 10, 21" in msg)
    assert "set FORECAST_HORIZON=14" in msg and "`forecast-assets migrate-horizon --yes`" in msg
    assert _sizes(store) == before
    DuckDBStore(store.path, horizon=14).ensure_schema()  # the horizon it was made with still works


def test_the_migration_says_what_it_removes_then_does_it_and_keeps_input_and_models(
        made_with_14, store, monkeypatch, capsys):
    before = _sizes(store)
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(store.path))
    monkeypatch.setenv("FORECAST_HORIZON", "21")
    assert cli.main(["summary"]) == 2
    assert "made for a horizon of 14 steps" in capsys.readouterr().err

    assert cli.main(["migrate-horizon"]) == 0
    out = capsys.readouterr().out
    assert "made for horizon 14; FORECAST_HORIZON is 21" in out and "run again with --yes" in out
    assert f"{before['distributions']:,} rows" in out and f"{before['point_forecasts']:,} rows" in out
    assert _sizes(store) == before

    assert cli.main(["migrate-horizon", "--yes"]) == 0
    assert "dropped and recreated for horizon 21" in capsys.readouterr().out
    s21 = dataclasses.replace(made_with_14, horizon=21)
    new = DuckDBStore(store.path, horizon=21)
    new.ensure_schema()
    assert _sizes(new) == {**before, "distributions": 0, "point_forecasts": 0}
    assert stored_horizon(new.live_columns(("distributions", "forecast_metadata"))) == 21
    assert cli.main(["migrate-horizon"]) == 0 and "nothing to do" in capsys.readouterr().out

    # naive serves any horizon; xgboost was trained for 14 and says to retrain.
    r = forecasting.forecast_days(new, s21, "naive", "Coffee", DAYS)
    assert r.days_written == len(DAYS) and _n(new, "point_forecasts") == 21 * len(DAYS)
    with pytest.raises(ModelError, match="trained for a horizon of 14 steps and cannot forecast 21"):
        forecasting.forecast_days(new, s21, "xgboost", "Coffee", DAYS)
    training.train_windows(new, s21, "xgboost", "Coffee", [WINDOW], "test")
    assert forecasting.forecast_days(new, s21, "xgboost", "Coffee", DAYS).days_written == len(DAYS)


def test_settings_and_store_of_different_horizons_are_refused_before_any_work(store, settings):
    with pytest.raises(ValueError, match="store holds forecasts of 14 steps but the settings ask for 5"):
        forecasting.forecast_days(store, dataclasses.replace(settings, horizon=5), "naive", "Coffee", DAYS)
