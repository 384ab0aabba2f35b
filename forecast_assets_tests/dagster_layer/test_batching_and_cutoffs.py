"""Real Dagster runs on a DuckDB file: the same paths whichever runs computed them, stored cutoffs
that prove no leakage, and a pipeline that ignores data after each cutoff, for every model.

One module-scoped world: every model trained for two windows through Dagster, then the days
28 Dec 2024 .. 2 Jan 2025 (a weekend, a window boundary, the New Year holiday and the day after
it, whose cutoff is a weekday stale) forecast twice: one run for the range, then one run per
day with force. The stored rows must be bit-identical, and rewritten (newer
generation_timestamp), so the second time is a real rerun under another batching.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from forecast_assets.runs import forecasting, loading, training
from forecast_assets.config import Settings
from forecast_assets.core.models import REGISTRY
from forecast_assets.definitions import build_definitions, build_resources
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import TABLES, day_columns, qualified, table_columns
from forecast_assets_tests.read_sql import read_sql

pytestmark = pytest.mark.slow

MODELS = sorted(REGISTRY)
UNIFIED, MODELS_T = qualified("unified_data"), qualified("trained_models")
DIST, POINTS = qualified("distributions"), qualified("point_forecasts")
WINDOWS = (date(2024, 7, 1), date(2025, 1, 1))
DAYS = [date(2024, 12, 28) + timedelta(days=i) for i in range(6)]  # Sat 28 Dec .. Thu 2 Jan
CANARY = "dapi-canary-0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # a token in the env that must never be written anywhere
N_PATHS = 30


def _range_tags(first, last) -> dict:
    return {"dagster/asset_partition_range_start": f"Coffee|{first}",
            "dagster/asset_partition_range_end": f"Coffee|{last}"}


def _force() -> dict:
    return {"ops": {f"forecasts__{m}": {"config": {"force": True}} for m in MODELS}}


def snapshot(store: DuckDBStore) -> dict[str, pd.DataFrame]:
    """The forecast rows that carry numbers (each day's latest vintage: a forced rerun appends one), in a
    fixed order."""
    dist = read_sql(store, f"SELECT model_name, forecast_start_date, path_id, data_cutoff_date, training_cutoff_date, "
                       f"model_fingerprint, {', '.join(day_columns(14))} FROM {DIST}_latest "
                       f"ORDER BY model_name, forecast_start_date, path_id")
    pts = read_sql(store, f"SELECT model_name, forecast_start_date, day_ahead, forecast_date, data_cutoff_date, "
                      f"training_cutoff_date, model_fingerprint, model_success, forecast_mean, forecast_std, "
                      f"lower_95, upper_95 FROM {POINTS}_latest ORDER BY model_name, forecast_start_date, day_ahead")
    stamps = read_sql(store, f"SELECT model_name, forecast_start_date, MIN(generation_timestamp) AS t0, "
                         f"MAX(generation_timestamp) AS t1 FROM {DIST}_latest GROUP BY 1, 2 ORDER BY 1, 2")
    return {"dist": dist, "points": pts, "stamps": stamps}


def assert_same_rows(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    assert len(a) == len(b) and list(a.columns) == list(b.columns), what
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        same = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else (x == y).all()
        assert same, f"{what}: column {c} differs"


@pytest.fixture(scope="module")
def world(tmp_path_factory, sample_unified):
    root = tmp_path_factory.mktemp("batching")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABRICKS_TOKEN", CANARY)
        settings = dataclasses.replace(Settings.from_env({}), duckdb_path=root / "forecast.duckdb",
                                       artifact_dir=root / "artifacts", plot_dir=root / "plots", n_paths=N_PATHS)
        store = DuckDBStore(settings.duckdb_path)
        store.ensure_schema()
        u = sample_unified
        # ~16 months before the first window: every model trains in seconds.
        store.replace_unified(u[(u["commodity"] == "Coffee") & (u["date"] >= "2020-01-01")].reset_index(drop=True))
        defs = build_definitions(settings)
        assets = {a.key.to_user_string(): a for a in defs.assets
                  if isinstance(a, dg.AssetsDefinition) and a.is_executable and len(a.keys) == 1}
        resources = build_resources(settings)
        home = root / "dagster_home"  # a real on-disk instance with the project's dagster.yaml (pools)
        home.mkdir()
        shutil.copy(Path(__file__).resolve().parents[2] / "dagster.yaml", home / "dagster.yaml")
        mp.setenv("DAGSTER_HOME", str(home))  # as for `dagster` commands; the event log's default base_dir
        instance = dg.DagsterInstance.from_config(str(home))
        forecasts = [assets[f"forecasts/{m}"] for m in MODELS]

        def run(selected, **kw):
            result = dg.materialize(selected, instance=instance, resources=resources, **kw)
            assert result.success
            return result

        run([assets[f"trained_models/{m}"] for m in MODELS], tags=_range_tags(*WINDOWS))
        runs = {"ranged": run(forecasts, tags=_range_tags(DAYS[0], DAYS[-1]))}
        snaps = {"ranged": snapshot(store)}
        for d in DAYS:
            run(forecasts, partition_key=f"Coffee|{d}", run_config=_force())
        snaps["per_day"] = snapshot(store)
        yield {"root": root, "settings": settings, "store": store, "instance": instance, "snaps": snaps,
               "runs": runs}
        instance.dispose()


def test_the_world_ran_as_described(world):
    runs = world["instance"].get_runs()
    assert len(runs) == 1 + 1 + len(DAYS)  # training, the range, one per day
    s = world["snaps"]["ranged"]
    assert len(s["points"]) == len(MODELS) * len(DAYS) * 14
    assert s["points"]["model_success"].all()
    checks = world["runs"]["ranged"].get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)


def test_same_paths_from_one_run_for_the_range_and_one_run_per_day(world):
    first, again = world["snaps"]["ranged"], world["snaps"]["per_day"]
    assert_same_rows(first["dist"], again["dist"], "distributions, one run vs one run per day")
    assert_same_rows(first["points"], again["points"], "point_forecasts, one run vs one run per day")
    # Recomputed, not skipped: every day's rows were written again, later.
    assert (again["stamps"]["t0"].to_numpy() > first["stamps"]["t1"].to_numpy()).all()


def test_stored_cutoffs_show_no_leakage(world):
    store = world["store"]
    for table in (DIST, POINTS):
        rows = read_sql(store, f"""
            SELECT f.model_name, f.forecast_start_date, f.data_cutoff_date, f.training_cutoff_date,
                   f.model_fingerprint, f.has_data_leakage,
                   (SELECT MAX(u.date) FROM {UNIFIED} u WHERE u.commodity = f.commodity AND u.is_trading_day = 1
                      AND u.date < f.forecast_start_date) AS last_trading_day_before,
                   m.window_start, m.training_cutoff_date AS model_cutoff, m.model_fingerprint AS model_fp
            FROM {table} f LEFT JOIN {MODELS_T} m
              ON m.commodity = f.commodity AND m.model_name = f.model_name AND m.model_version = f.model_version
             AND m.window_start = make_date(year(f.forecast_start_date),
                                            CASE WHEN month(f.forecast_start_date) < 7 THEN 1 ELSE 7 END, 1)
        """)
        assert len(rows) >= len(MODELS) * len(DAYS) * 14
        assert (rows["data_cutoff_date"] < rows["forecast_start_date"]).all()
        assert (rows["data_cutoff_date"] == rows["last_trading_day_before"]).all()
        assert rows["window_start"].notna().all()  # each day's rows came from its own window's model...
        assert (rows["training_cutoff_date"] == rows["model_cutoff"]).all()
        assert (rows["model_fingerprint"] == rows["model_fp"]).all()
        assert (rows["training_cutoff_date"] < rows["window_start"]).all()  # ...trained before the window
        assert not rows["has_data_leakage"].any()
        assert rows["window_start"].nunique() == 2
    models = read_sql(store, f"""
        SELECT m.window_start, m.training_cutoff_date,
               (SELECT MAX(u.date) FROM {UNIFIED} u WHERE u.commodity = m.commodity AND u.is_trading_day = 1
                  AND u.date < m.window_start) AS last_trading_day_before
        FROM {MODELS_T} m""")
    assert len(models) == len(MODELS) * len(WINDOWS)
    assert (models["training_cutoff_date"] < models["window_start"]).all()
    assert (models["training_cutoff_date"] == models["last_trading_day_before"]).all()


def test_data_from_a_window_start_on_moves_neither_its_model_nor_earlier_forecasts(world, tmp_path):
    """On a copy of the database, everything dated 1 Jan 2025 (the window start, a holiday) or later
    changes: closes and weather, 1 Jan becomes a trading day, three later days vanish. Retraining
    the window gives the same model JSON; forecasts of days up to 1 Jan keep every number; 2 Jan,
    whose cutoff is now 1 Jan, moves."""
    w = WINDOWS[1]
    shutil.copy(world["settings"].duckdb_path, tmp_path / "copy.duckdb")
    store = DuckDBStore(tmp_path / "copy.duckdb")
    settings = dataclasses.replace(world["settings"], duckdb_path=tmp_path / "copy.duckdb",
                                   artifact_dir=tmp_path / "artifacts")
    with store.transaction() as con:
        con.execute(f"UPDATE {UNIFIED} SET close = close * 1.7, temp_max_c = temp_max_c + 20, "
                    f"precipitation_mm = 0, vix = vix * 3 WHERE date >= ?", [w])
        con.execute(f"UPDATE {UNIFIED} SET is_trading_day = 1 WHERE date = ?", [w])
        con.execute(f"DELETE FROM {UNIFIED} WHERE date BETWEEN ? AND ?", [date(2025, 1, 6), date(2025, 1, 8)])
    before = {m: world["store"].read_trained_model("Coffee", m, settings.model_version, w) for m in MODELS}
    for m in MODELS:
        (r,) = training.train_windows(store, settings, m, "Coffee", [w], "test")
        assert r.training_cutoff_date == date(2024, 12, 31) < w
        assert loading.load_trained(store, settings, m, "Coffee", w).text == \
            loading.load_trained(world["store"], world["settings"], m, "Coffee", w).text
        assert store.read_trained_model("Coffee", m, settings.model_version, w)["model_fingerprint"] == \
            before[m]["model_fingerprint"]
        forecasting.forecast_days(store, settings, m, "Coffee", DAYS, force=True)
    first, after = world["snaps"]["ranged"], snapshot(store)
    for key in ("dist", "points"):
        # Path 0 holds the realized closes of the steps, which are after every cutoff: they may change.
        a, b = (s[key][s[key]["path_id"] > 0] if key == "dist" else s[key] for s in (first, after))
        upto = pd.Timestamp(w)
        assert_same_rows(a[a["forecast_start_date"] <= upto].reset_index(drop=True),
                         b[b["forecast_start_date"] <= upto].reset_index(drop=True), f"{key} up to {w}")
    pts = after["points"]
    last = pts[pts["forecast_start_date"] == pd.Timestamp(DAYS[-1])]
    assert (last["data_cutoff_date"] == pd.Timestamp(w)).all()
    old = first["points"][first["points"]["forecast_start_date"] == pd.Timestamp(DAYS[-1])]
    for m in MODELS:
        assert not np.array_equal(last[last["model_name"] == m]["forecast_mean"].to_numpy(),
                                  old[old["model_name"] == m]["forecast_mean"].to_numpy()), m


def test_a_token_in_the_environment_is_written_nowhere(world):
    """DATABRICKS_TOKEN was set for every run: no event, log line, metadata, run config, compute log,
    file or table row may hold it."""
    from dagster._serdes import serialize_value

    instance = world["instance"]
    for r in instance.get_runs():
        assert CANARY not in serialize_value(r)
        for entry in instance.all_logs(r.run_id):
            assert CANARY not in serialize_value(entry)
    n_files = 0
    for f in Path(world["root"]).rglob("*"):
        if f.is_file() and f.suffix not in (".duckdb", ".wal"):
            n_files += 1
            assert CANARY.encode() not in f.read_bytes(), f
    assert n_files > 0
    store = world["store"]
    for table in TABLES:
        for c in (c for c, t in table_columns(table, 14) if t == "STRING"):
            n = read_sql(store, f"SELECT COUNT(*) AS n FROM {qualified(table)} WHERE {c} LIKE ?", [f"%{CANARY}%"])
            assert n["n"].iloc[0] == 0, (table, c)
