"""Shared fixtures: the synthetic sample (made once) and a fresh DuckDB file per test."""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import cache

import pytest

from forecast_assets.config import Settings
from forecast_assets.core.data import daily_series
from forecast_assets.core.forecast import train
from forecast_assets.core.sample import make_sample
from forecast_assets.storage.duckdb_store import DuckDBStore

SAMPLE_END = date(2025, 2, 28)
SMALL_FROM, SMALL_WINDOW = "2019-06-03", date(2024, 1, 1)


@pytest.fixture(scope="session")
def sample_unified():
    return make_sample(end=SAMPLE_END)


@pytest.fixture(scope="session")
def coffee_daily(sample_unified):
    return daily_series(sample_unified, "Coffee")


@pytest.fixture(scope="session")
def small_trained(coffee_daily):
    """small_trained(model_name): the model fitted once per session for window 2024-01-01 on the
    ~4.5 years of Coffee from SMALL_FROM (xgboost needs 1,050 trading days before a window)."""
    rows = coffee_daily[coffee_daily.index >= SMALL_FROM]
    return cache(lambda model_name: train(model_name, "Coffee", rows, SMALL_WINDOW, 14))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return dataclasses.replace(Settings.from_env({}), duckdb_path=tmp_path / "forecast.duckdb",
                               artifact_dir=tmp_path / "artifacts", plot_dir=tmp_path / "plots")


@pytest.fixture
def store(settings, sample_unified) -> DuckDBStore:
    s = DuckDBStore(settings.duckdb_path)
    s.ensure_schema()
    s.replace_unified(sample_unified)
    return s
