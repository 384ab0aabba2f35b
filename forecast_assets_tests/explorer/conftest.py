"""A small real store for the explorer's tests: the synthetic sample, two models trained on one window,
six weeks of days forecast, their actuals attached and scored, the comparison written, all through the
run layer (the same code as a Dagster run)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from forecast_assets.config import Settings
from forecast_assets.core.sample import make_sample
from forecast_assets.runs import actuals, forecasting, scoring, training
from forecast_assets.storage.duckdb_store import DuckDBStore

MODELS = ("naive", "xgboost")
WINDOW = date(2024, 7, 1)
DAYS = [date(2024, 9, 2) + timedelta(days=i) for i in range(42)]
# A weekday whose 14 steps are all known by the sample's end, so the table has realized closes and hits.
PICKED = date(2024, 9, 18)


@pytest.fixture(scope="package")
def explorer_settings(tmp_path_factory) -> Settings:
    d = tmp_path_factory.mktemp("explorer")
    return dataclasses.replace(Settings.from_env({}), duckdb_path=d / "forecast.duckdb", artifact_dir=d / "artifacts",
                               plot_dir=d / "plots", n_paths=300)


@pytest.fixture(scope="package")
def explorer_store(explorer_settings) -> DuckDBStore:
    """The filled file, written once for the package's tests; they open it read-only."""
    s = explorer_settings
    store = DuckDBStore(s.duckdb_path, horizon=s.horizon)
    store.ensure_schema()
    store.replace_unified(make_sample(end=date(2024, 12, 31)))
    for model in MODELS:
        training.train_windows(store, s, model, "Coffee", [WINDOW], "test")
        forecasting.forecast_days(store, s, model, "Coffee", DAYS)
    actuals.attach_actuals(store, "Coffee", DAYS, s.calendar("Coffee"))
    scoring.score_days(store, "Coffee", DAYS)
    scoring.model_performance(store)
    return DuckDBStore(s.duckdb_path, horizon=s.horizon, read_only=True)
