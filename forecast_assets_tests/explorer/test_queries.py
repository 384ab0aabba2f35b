"""The explorer's reads and figures over the real test store (no browser): a day's rows, its vintages
when the tables record them, the read-only opening, the comparison pictures, the settings."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date

import numpy as np
import pytest

from forecast_assets import config
from forecast_assets.config import ConfigError, Settings
from forecast_assets.explorer import __main__ as explorer_main
from forecast_assets.explorer import figures, queries, tables
from forecast_assets.storage.base import StorageError
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import day_columns, metadata_horizons, qualified
from forecast_assets_tests.explorer.conftest import MODELS, PICKED
from forecast_assets_tests.read_sql import read_sql

PTS = qualified("point_forecasts")


def test_a_day_reads_its_stored_rows_paths_and_history(explorer_store):
    day = queries.load_day(explorer_store, "Coffee", list(MODELS), "v1.0", PICKED, n_paths=4)
    stored = read_sql(explorer_store, f"SELECT * FROM {PTS} WHERE commodity = 'Coffee' AND forecast_start_date = ? "
                                      f"ORDER BY model_name, day_ahead", [PICKED])
    assert day.models == sorted(MODELS) and len(day.points) == len(stored) == 2 * 14
    np.testing.assert_array_equal(day.points["forecast_median"], stored["forecast_median"])
    np.testing.assert_array_equal(day.points["actual_close"], stored["actual_close"])
    assert sorted(day.paths.groupby("model_name").size().to_dict().items()) == [(m, 4) for m in sorted(MODELS)]
    cutoff = stored["data_cutoff_date"].max()
    assert day.history.index.max() == cutoff and len(day.history) == queries.HISTORY_SESSIONS
    closes = read_sql(explorer_store, f"SELECT date, MAX(close) AS c FROM {qualified('unified_data')} WHERE "
                                      f"commodity = 'Coffee' AND is_trading_day = 1 AND date <= ? GROUP BY date "
                                      f"ORDER BY date DESC LIMIT 60", [cutoff])
    np.testing.assert_array_equal(day.history.to_numpy()[::-1], closes["c"].to_numpy())


def test_one_model_or_a_day_without_forecasts(explorer_store):
    one = queries.load_day(explorer_store, "Coffee", ["xgboost"], "v1.0", PICKED)
    assert one.models == ["xgboost"] and set(one.paths["model_name"]) == {"xgboost"}
    none = queries.load_day(explorer_store, "Coffee", list(MODELS), "v1.0", date(2020, 1, 6))
    assert none.points.empty and none.history.empty


def test_the_tables_rows_say_hit_or_miss_against_the_stored_bands(explorer_store):
    day = queries.load_day(explorer_store, "Coffee", ["naive"], "v1.0", PICKED)
    rows = tables.step_rows(day.points)
    assert [r["step"] for r in rows] == list(range(1, 15))
    for r, p in zip(rows, day.points.itertuples(index=False)):
        assert r["median"] == f"{p.forecast_median:.2f}" and r["realized"] == f"{p.actual_close:.2f}"
        assert r["hit_95"] == ("hit" if p.lower_95 <= p.actual_close <= p.upper_95 else "miss")
    late = day.points.assign(actual_close=np.where(day.points["day_ahead"] > 5, np.nan, day.points["actual_close"]))
    assert [(r["realized"], r["hit_80"]) for r in tables.step_rows(late)][5:] == [("—", "—")] * 9  # not known yet


def test_a_failed_day_shows_its_reason_not_numbers(explorer_store):
    day = queries.load_day(explorer_store, "Coffee", ["naive"], "v1.0", PICKED)
    failed = day.points.assign(model_success=False, failure_reason="input 7 sessions late")
    assert all(r["median"] == "failed: input 7 sessions late" for r in tables.step_rows(failed))
    day.points = failed
    assert not [t for t in figures.fan_chart(day, 14)["data"] if t["meta"].get("kind") == "median"]


@pytest.fixture
def vintaged(explorer_store, tmp_path):
    """A copy of the store with PICKED's naive forecast recomputed as vintage 2 (prices +1), vintage 1 kept."""
    path = tmp_path / "vintaged.duckdb"
    shutil.copy(explorer_store.path, path)
    store = DuckDBStore(path)
    dist = qualified("distributions")
    with store.transaction() as con:
        con.execute(f"INSERT INTO {PTS} SELECT * REPLACE (forecast_median + 1 AS forecast_median, 2 AS vintage, "
                    f"'input_changed' AS vintage_reason) FROM {PTS} WHERE model_name = 'naive' "
                    f"AND forecast_start_date = ?", [PICKED])
        bumped = ", ".join(f"{c} + 1 AS {c}" for c in day_columns(14))
        con.execute(f"INSERT INTO {dist} SELECT * REPLACE ({bumped}, 2 AS vintage) "
                    f"FROM {dist} WHERE model_name = 'naive' AND forecast_start_date = ?", [PICKED])
    return DuckDBStore(path, read_only=True)


def test_a_days_vintages_are_listed_and_the_latest_shown_unless_one_is_picked(explorer_store, vintaged):
    assert explorer_store.has_vintages() and vintaged.has_vintages()
    first = queries.load_day(explorer_store, "Coffee", list(MODELS), "v1.0", PICKED, vintages=True)
    latest = queries.load_day(vintaged, "Coffee", list(MODELS), "v1.0", PICKED, vintages=True)
    assert sorted(map(tuple, latest.vintages[["model_name", "vintage"]].to_numpy().tolist())) == [
        ("naive", 1), ("naive", 2), ("xgboost", 1)]
    assert len(latest.points) == 28 and len(latest.paths) == 2 * queries.SAMPLE_PATHS  # one vintage per model
    naive = lambda d: d.points[d.points["model_name"] == "naive"]["forecast_median"].to_numpy()
    np.testing.assert_allclose(naive(latest), naive(first) + 1)
    np.testing.assert_allclose(queries.sample_paths(latest, "naive", 14),
                               np.array(queries.sample_paths(first, "naive", 14)) + 1, rtol=1e-6)
    old = queries.load_day(vintaged, "Coffee", list(MODELS), "v1.0", PICKED, vintages=True, vintage=1)
    np.testing.assert_allclose(naive(old), naive(first))
    xgb = lambda d: d.points[d.points["model_name"] == "xgboost"]["forecast_median"].to_numpy()
    np.testing.assert_allclose(xgb(old), xgb(first))  # a model without that vintage keeps its latest


def test_the_explorer_opens_the_file_read_only_and_never_creates_one(explorer_store, explorer_settings, tmp_path,
                                                                     capsys, monkeypatch):
    ro = queries.open_store(explorer_settings)
    assert ro.read_only
    with pytest.raises(Exception, match="read-only"):
        with ro.connect() as con:
            con.execute(f"DELETE FROM {PTS}")
    missing = dataclasses.replace(explorer_settings, duckdb_path=tmp_path / "nowhere" / "forecast.duckdb")
    with pytest.raises(StorageError, match="no database at .*nowhere"):
        queries.open_store(missing)
    with pytest.raises(StorageError, match="horizon"):  # tables made for 14 steps, settings saying 21
        queries.open_store(dataclasses.replace(explorer_settings, horizon=21))
    assert not (tmp_path / "nowhere").exists()
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(tmp_path / "nowhere" / "forecast.duckdb"))
    assert explorer_main.main([]) == 2
    assert "no database at" in capsys.readouterr().err and not (tmp_path / "nowhere").exists()


def test_the_comparison_grid_and_calibration_figures_hold_the_stored_numbers(explorer_store):
    perf, pit = queries.comparison(explorer_store, "Coffee")
    stored = read_sql(explorer_store, f"SELECT * FROM {qualified('model_performance')} WHERE commodity = 'Coffee' "
                                      f"ORDER BY model_name, model_version, horizon")
    rows = tables.comparison_rows(perf)
    assert len(rows) == len(stored) == 2 * 14
    assert [r["crps"] for r in rows] == [round(v, 4) for v in stored["crps"]]
    cov = figures.coverage_figure(perf)
    naive95 = [t for t in cov.data if t.name == "naive v1.0" and t.xaxis == "x3"][0]
    np.testing.assert_allclose(naive95.y, 100 * stored[stored["model_name"] == "naive"]["coverage_95"].to_numpy())
    pit_fig = figures.pit_figure(pit, metadata_horizons(14))
    assert {(t.name, t.xaxis) for t in pit_fig.data} == {(f"{m} v1.0", ax) for m in MODELS for ax in ("x", "x2", "x3")}
    one = [t for t in pit_fig.data if t.name == "naive v1.0" and t.xaxis == "x"][0]
    assert len(one.x) == ((pit["model_name"] == "naive") & (pit["day_ahead"] == 1)).sum() > 0


def test_the_explorer_settings_are_checked():
    s = Settings.from_env({})
    assert (s.explorer_port, s.explorer_url) == (8050, "http://127.0.0.1:8050")
    s = Settings.from_env({"FORECAST_EXPLORER_PORT": "8123"})
    assert s.explorer_url == "http://127.0.0.1:8123"
    s = Settings.from_env({"FORECAST_EXPLORER_URL": "https://forecasts.example.com/explorer/"})
    assert s.explorer_url == "https://forecasts.example.com/explorer"
    for bad in ({"FORECAST_EXPLORER_PORT": "0"}, {"FORECAST_EXPLORER_PORT": "http"},
                {"FORECAST_EXPLORER_URL": "javascript:alert(1)"}, {"FORECAST_EXPLORER_URL": "http://x/a b)"}):
        with pytest.raises(ConfigError, match="FORECAST_EXPLORER"):
            Settings.from_env(bad)
    assert config.DEFAULT_EXPLORER_PORT == 8050


def test_the_forecast_assets_descriptions_link_to_the_explorer():
    from forecast_assets.definitions import build_definitions

    url = "https://forecasts.example.com/explorer"
    graph = build_definitions(Settings.from_env({"FORECAST_EXPLORER_URL": url})).resolve_asset_graph()
    linked = {k.to_user_string() for k in graph.get_all_asset_keys()
              if f"[forecast explorer]({url})" in (graph.get(k).description or "")}
    assert linked == {"forecasts/naive", "forecasts/xgboost", "forecasts/sarimax_auto_weather", "forecasts/ensemble",
                      "actuals", "forecast_metadata", "model_performance"}


def test_links_carry_the_choices_that_parse():
    from forecast_assets.explorer.app import day_link, link_choices

    url = day_link("http://127.0.0.1:8050/", "Coffee", date(2025, 10, 31), ["naive", "xgboost"])
    assert url == "http://127.0.0.1:8050/?commodity=Coffee&day=2025-10-31&models=naive%2Cxgboost"
    assert link_choices("?" + url.split("?")[1]) == {"commodity": "Coffee", "day": date(2025, 10, 31),
                                                     "models": ["naive", "xgboost"]}
    assert link_choices("?day=2025-13-01&commodity=&models=,") == {} and link_choices(None) == {}
