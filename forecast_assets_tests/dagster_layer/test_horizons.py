"""Another horizon end to end through Dagster: train, forecast, actuals and scores with FORECAST_HORIZON 5 and 21."""

import dataclasses
from datetime import date, timedelta

import dagster as dg
import pytest

from forecast_assets.definitions import build_definitions, build_resources
from forecast_assets.storage.duckdb_store import DuckDBStore
from forecast_assets.storage.schema import day_columns, metadata_columns, metadata_horizons, qualified
from forecast_assets_tests.read_sql import read_sql

MODELS = ("naive", "xgboost")
DAYS = [date(2024, 1, 2) + timedelta(days=i) for i in range(4)]  # a weekend among them
RANGE_TAGS = {"dagster/asset_partition_range_start": f"Coffee|{DAYS[0]}",
              "dagster/asset_partition_range_end": f"Coffee|{DAYS[-1]}"}
N_PATHS = 20


@pytest.mark.parametrize("horizon", [5, 21])
def test_a_horizon_other_than_14_runs_through_dagster(horizon, settings, sample_unified):
    s = dataclasses.replace(settings, horizon=horizon, n_paths=N_PATHS, commodities=("Coffee",))
    store = DuckDBStore(s.duckdb_path, horizon=horizon)
    store.ensure_schema()
    u = sample_unified
    store.replace_unified(u[(u["commodity"] == "Coffee") & (u["date"] >= "2017-06-01")].reset_index(drop=True))
    defs = build_definitions(s)
    assets = {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition)
              and a.is_executable and len(a.keys) == 1}
    resources = build_resources(s)
    instance = dg.DagsterInstance.ephemeral()
    for m in MODELS:
        assert dg.materialize([assets[f"trained_models/{m}"]], instance=instance, resources=resources,
                              partition_key="Coffee|2024-01-01").success
    result = dg.materialize([*(assets[f"forecasts/{m}"] for m in MODELS), assets["actuals"],
                             assets["forecast_metadata"]], instance=instance, resources=resources, tags=RANGE_TAGS)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 4 * len(MODELS) + 2 and all(c.passed for c in checks), [
        (c.check_name, c.description) for c in checks if not c.passed]
    assert f"{N_PATHS} paths of {horizon} finite" in str([c.description for c in checks])

    def q(text):
        return read_sql(store, text)

    dist_cols = q(f"SELECT * FROM {qualified('distributions')} LIMIT 0").columns
    assert [c for c in dist_cols if c.startswith("day_")] == day_columns(horizon)
    for m in MODELS:
        pts = q(f"SELECT forecast_start_date AS d, COUNT(*) AS n, MIN(day_ahead) AS lo, MAX(day_ahead) AS hi, "
                f"COUNT(actual_close) AS known FROM {qualified('point_forecasts')} WHERE model_name = '{m}' "
                f"AND model_success GROUP BY 1 ORDER BY 1")
        assert len(pts) == len(DAYS)
        assert (pts["n"] == horizon).all() and (pts["lo"] == 1).all() and (pts["hi"] == horizon).all()
        assert (pts["known"] == horizon).all()
        dist = q(f"SELECT forecast_start_date AS d, COUNT(*) AS n, SUM(CASE WHEN is_actuals THEN 1 ELSE 0 END) AS a, "
                 f"COUNT(day_{horizon}) AS last FROM {qualified('distributions')} WHERE model_name = '{m}' GROUP BY 1")
        assert len(dist) == len(DAYS) and (dist["n"] == N_PATHS + 1).all() and (dist["a"] == 1).all()
        assert (dist["last"] == N_PATHS + 1).all()  # the last step is filled on every path
        scores = q(f"SELECT forecast_start_date AS d, COUNT(*) AS n, COUNT(crps) AS c FROM "
                   f"{qualified('forecast_scores')} WHERE model_name = '{m}' GROUP BY 1")
        assert len(scores) == len(DAYS) and (scores["n"] == horizon).all() and (scores["c"] == horizon).all()
    meta = q(f"SELECT * FROM {qualified('forecast_metadata')}")
    expected = metadata_columns(horizon)
    assert [c for c in meta.columns if c.endswith("d") and c[-2].isdigit()] == expected
    assert len(meta) == len(MODELS) * len(DAYS) and meta["actuals_available"].all()
    assert meta[expected].notna().all().all()
    assert {int(c.rsplit("_", 1)[1][:-1]) for c in expected} == set(metadata_horizons(horizon))
    desc = {k.to_user_string(): a.specs_by_key[k].description for a in assets.values() for k in a.keys}
    assert f"x {horizon} sessions and {horizon} point forecasts" in desc["forecasts/naive"]
    assert f"forecast day's {horizon} steps" in desc["actuals"]
