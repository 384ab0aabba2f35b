"""Real partition ranges through Dagster, in process and through the `dagster` CLI, checked in the tables."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

DIST, POINTS = qualified("distributions"), qualified("point_forecasts")
RANGE_TAGS = {"dagster/asset_partition_range_start": "Coffee|2024-01-01",
              "dagster/asset_partition_range_end": "Coffee|2024-01-31"}


def _counts(store, model):
    q = read_sql(store, 
        f"SELECT (SELECT COUNT(*) FROM {DIST} WHERE model_name = ?) AS d, "
        f"(SELECT COUNT(*) FROM {POINTS} WHERE model_name = ?) AS p, "
        f"(SELECT COUNT(*) FROM {DIST} WHERE has_data_leakage) + (SELECT COUNT(*) FROM {POINTS} WHERE has_data_leakage) AS leak, "
        f"(SELECT COUNT(DISTINCT forecast_start_date) FROM {DIST} WHERE model_name = ?) AS days", [model] * 3)
    return tuple(int(v) for v in q.iloc[0])


def test_a_ranged_run_fills_every_day_and_its_checks_pass(assets, resources, store, settings):
    instance = dg.DagsterInstance.ephemeral()
    for m in ("naive", "sarimax_auto_weather"):
        dg.materialize([assets[f"trained_models/{m}"]], instance=instance, resources=resources,
                       partition_key="Coffee|2024-01-01")
        result = dg.materialize([assets[f"forecasts/{m}"]], instance=instance, resources=resources, tags=RANGE_TAGS)
        assert result.success
        checks = result.get_asset_check_evaluations()
        assert {c.check_name for c in checks} == {"no_data_leakage", "paths_valid", "no_missing_days", "no_failed_recomputation"}
        assert all(c.passed for c in checks)
        assert _counts(store, m) == (31 * (settings.n_paths + 1), 31 * 14, 0, 31)
    runs = instance.get_runs()
    assert len(runs) == 4  # one run per ranged materialization, not one per day


def test_scores_and_the_comparison_through_dagster(assets, resources, store, settings):
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                   partition_key="Coffee|2024-01-01")
    result = dg.materialize([assets["forecasts/naive"], assets["actuals"], assets["forecast_metadata"]],
                            instance=instance, resources=resources, tags=RANGE_TAGS)
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["no_leakage_in_scored"] and checks["no_missing_scored_days"]
    assert len(read_sql(store, f"SELECT * FROM {qualified('forecast_metadata')}")) == 31
    result = dg.materialize([assets["model_performance"]], instance=instance, resources=resources)
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "calibration_95"
    mat = result.asset_materializations_for_node("model_performance")[0]
    table = mat.metadata["comparison"]
    assert isinstance(table, dg.TableMetadataValue)
    cols = {c.name: c.type for c in table.schema.columns}
    assert cols["crps"] == "float" and cols["step"] == "int" and cols["model"] == "string"
    perf = read_sql(store, f"SELECT horizon, crps, coverage_95 FROM {qualified('model_performance')} "
                           f"WHERE model_name = 'naive' AND horizon IN (1, 7, 14) ORDER BY horizon")
    rows = sorted((r.data["step"], r.data["crps"], r.data["coverage_95"]) for r in table.records)
    assert rows == [(int(h), round(c, 4), round(v, 4)) for h, c, v in perf.itertuples(index=False)]
    assert mat.metadata["picture_crps_by_horizon"].value.startswith("![crps_by_horizon.png](data:image/png;base64,")
    assert (settings.plot_dir / "pit_histograms.png").exists()


def test_a_range_without_its_model_fails_and_writes_nothing(assets, resources, store):
    result = dg.materialize([assets["forecasts/naive"]], resources=resources, tags=RANGE_TAGS, raise_on_error=False)
    assert not result.success
    assert "trained_models/naive partition 'Coffee|2024-01-01'" in str(result.get_step_failure_events()[0].event_specific_data.error)
    assert _counts(store, "naive") == (0, 0, 0, 0)


@pytest.mark.slow
def test_the_cli_partition_range_of_the_issue(tmp_path, store, settings):
    """`dagster asset materialize ... --partition-range 'Coffee|2024-01-01...Coffee|2024-06-30'`, twice."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh"), "FORECAST_DUCKDB_PATH": str(settings.duckdb_path),
           "FORECAST_ARTIFACT_DIR": str(settings.artifact_dir)}
    Path(env["DAGSTER_HOME"]).mkdir()
    exe = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "forecast_assets.definitions"]

    def run(*args):
        p = subprocess.run([*exe, *args], env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr[-3000:]
        return p.stderr

    run("--select", "trained_models/naive", "--partition", "Coffee|2024-01-01")
    cmd = ["--select", "forecasts/naive", "--partition-range", "Coffee|2024-01-01...Coffee|2024-06-30"]
    log = run(*cmd)
    assert "182/182 days" in log
    first = _counts(DuckDBStore(settings.duckdb_path), "naive")
    assert first == (182 * 2001, 182 * 14, 0, 182)
    log = run(*cmd)
    assert "182 of 182 days already complete" in log
    assert _counts(DuckDBStore(settings.duckdb_path), "naive") == first
