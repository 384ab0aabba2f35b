"""Scoring over a real DuckDB file: metadata rows, late actuals, A/B versions, the comparison, pictures."""

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest

from forecast_assets import cli

from forecast_assets.core import comparison

from forecast_assets.runs import forecasting, pictures, scoring, training
from forecast_assets.storage.schema import columns, qualified
from forecast_assets_tests.read_sql import read_sql

META = qualified("forecast_metadata")
DAYS = [date(2024, 9, 1) + timedelta(days=i) for i in range(45)]


@pytest.fixture
def two_versions(store, settings):
    """naive in two versions (v1.0 and v2.0 with another seed): an A/B pair in the same tables."""
    out = []
    for version, seed in (("v1.0", 1), ("v2.0", 2)):
        s = dataclasses.replace(settings, n_paths=400, model_version=version, seed=seed)
        training.train_windows(store, s, "naive", "Coffee", [date(2024, 7, 1)], "test")
        forecasting.forecast_days(store, s, "naive", "Coffee", DAYS)
        out.append(s)
    return out


def test_every_forecast_gets_one_metadata_row_with_the_contract_columns(store, two_versions):
    r = scoring.score_days(store, "Coffee", DAYS)
    assert r.forecasts_scored == 2 * len(DAYS) and r.forecasts_complete == 2 * len(DAYS)
    meta = read_sql(store, f"SELECT * FROM {META}")
    assert list(meta.columns) == columns("forecast_metadata", 14)
    assert len(meta) == 2 * len(DAYS) and meta[["model_version", "forecast_start_date"]].duplicated().sum() == 0
    assert meta["actuals_available"].all() and meta["model_success"].all()
    for h in (1, 7, 14):
        assert meta[f"crps_{h}d"].notna().all() and (meta[f"crps_{h}d"] > 0).all()
        assert meta[f"coverage_95_{h}d"].isin([0.0, 1.0]).all()
    assert (meta["crps_14d"].mean() > meta["crps_1d"].mean())
    # Whole-path scores of the 14-step paths, one per forecast.
    assert (meta["energy_score"] > 0).all() and (meta["variogram_score"] > 0).all()
    assert meta["energy_score"].mean() > meta["crps_14d"].mean()  # a 14-dim norm: larger than one step's CRPS
    scoring.score_days(store, "Coffee", DAYS)  # rescoring replaces, never duplicates
    assert len(read_sql(store, f"SELECT * FROM {META}")) == 2 * len(DAYS)


def test_days_are_scored_as_their_actuals_arrive(store, two_versions, sample_unified):
    full = store.read_unified("Coffee")
    store.replace_unified(full[full["date"] <= "2024-10-10"])
    scoring.score_days(store, "Coffee", DAYS)
    m = read_sql(store, f"SELECT forecast_start_date, actuals_available, crps_1d, crps_14d FROM {META} "
                    f"WHERE model_version = 'v1.0' ORDER BY 1")
    late = m[m["forecast_start_date"] >= "2024-10-01"]
    assert not late["actuals_available"].any() and late["crps_14d"].isna().all()
    assert late[late["forecast_start_date"] <= "2024-10-10"]["crps_1d"].notna().all()
    store.replace_unified(full)
    scoring.score_days(store, "Coffee", DAYS)
    m = read_sql(store, f"SELECT actuals_available, crps_14d FROM {META}")
    assert m["actuals_available"].all() and m["crps_14d"].notna().all()


def test_the_comparison_puts_versions_side_by_side_and_pictures_open(store, two_versions, settings, capsys):
    scoring.score_days(store, "Coffee", DAYS)
    perf = scoring.model_performance(store)
    assert set(perf["model_version"]) == {"v1.0", "v2.0"} and set(perf["horizon"]) == set(range(1, 15))
    stored = read_sql(store, f"SELECT * FROM {qualified('model_performance')}")
    assert len(stored) == 28 and list(stored.columns) == columns("model_performance")
    assert np.allclose(perf[perf.model_name == "naive"]["crps_skill_vs_naive"], 0.0)
    assert stored["coverage_50"].between(0, 1).all() and stored["energy_score"].notna().all()
    assert np.allclose(stored["energy_skill_vs_naive"], 0.0)  # each naive version against itself
    assert (stored.groupby("model_version")["energy_score"].nunique() == 1).all()  # one per model, every horizon
    pics = pictures.write_pictures(store, settings.plot_dir, perf)
    assert {"crps_by_horizon", "coverage_by_horizon", "pit_histograms", "fan_Coffee_naive_v1.0"} <= set(pics)
    for p in pics.values():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def test_calibration_band():
    import pandas as pd

    perf = pd.DataFrame({"commodity": "Coffee", "model_name": ["a", "a", "b"], "model_version": "v1.0",
                         "coverage_95": [0.70, 0.80, 0.95], "n_forecasts": [100, 100, 100]})
    bad = comparison.miscalibrated(perf, 0.85, 0.995)
    assert bad["model_name"].tolist() == ["a"] and bad["coverage_95"].iloc[0] == pytest.approx(0.75)


def test_report_command_prints_the_table(store, two_versions, settings, monkeypatch, capsys):
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(settings.duckdb_path))
    monkeypatch.setenv("FORECAST_PLOT_DIR", str(settings.plot_dir))
    assert cli.main(["report", "--score"]) == 0
    out = capsys.readouterr().out
    assert "crps_skill_vs_naive" in out and "v2.0" in out and "crps_by_horizon.png" in out
    assert "coverage_50" in out and "pit_%_by_fifth" in out and "Whole-path scores" in out
    assert "coverage_by_horizon.png" in out
    assert "scored as latest: each day's latest vintage" in out
    assert cli.main(["report", "--vintage", "first"]) == 0
    out = capsys.readouterr().out
    assert "scored as first: each day's first vintage, as first published" in out and "v2.0" in out
    got = read_sql(store, f"SELECT DISTINCT scored_as FROM {qualified('model_performance')} ORDER BY 1")
    assert got["scored_as"].tolist() == ["first", "latest"]  # both kept, side by side
