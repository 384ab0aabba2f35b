"""The ensemble through Dagster: its partition mappings (checked with Dagster's own mapping), its place in the jobs,
and a ranged materialization of members, actuals, weights and ensemble with a member missing on one day."""

from __future__ import annotations

import dataclasses

import dagster as dg
import pytest

from forecast_assets.core import ensemble as ens
from forecast_assets.definitions import build_definitions, build_resources
from forecast_assets.defs.partitions import build_partitions
from forecast_assets.storage.schema import qualified
from forecast_assets_tests.read_sql import read_sql

POINTS = qualified("point_forecasts")


def _range(first: str, last: str) -> dict:
    return {"dagster/asset_partition_range_start": f"Coffee|{first}",
            "dagster/asset_partition_range_end": f"Coffee|{last}"}


def _upstream(asset: dg.AssetsDefinition, upstream: str, downstream_def, upstream_def, key):
    # No explicit mapping between the same partitions definition: Dagster's default is the identity.
    mapping = asset.get_partition_mapping(dg.AssetKey(upstream.split("/"))) or dg.IdentityPartitionMapping()
    sub = downstream_def.subset_with_partition_keys([key])
    res = mapping.get_upstream_mapped_partitions_result_for_partitions(sub, downstream_def, upstream_def)
    return sorted(str(k) for k in res.partitions_subset.get_partition_keys())


def test_weights_read_the_two_windows_before_and_forecasts_the_same_day(defs, settings):
    parts = build_partitions(settings)
    assets = {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition)}
    weights, fc = assets["trained_models/ensemble"], assets["forecasts/ensemble"]
    assert {k.to_user_string() for k in weights.dependency_keys} == {*(f"forecasts/{m}" for m in ens.MEMBERS),
                                                                     "actuals"}
    window = dg.MultiPartitionKey({"commodity": "Coffee", "window": "2024-07-01"})
    for up in (*(f"forecasts/{m}" for m in ens.MEMBERS), "actuals"):
        days = _upstream(weights, up, parts.model, parts.forecast, window)
        assert len(days) == 366 and days[0] == "Coffee|2023-07-01" and days[-1] == "Coffee|2024-06-30", up
    day = dg.MultiPartitionKey({"commodity": "Coffee", "date": "2024-03-05"})
    for m in ens.MEMBERS:
        assert _upstream(fc, f"forecasts/{m}", parts.forecast, parts.forecast, day) == ["Coffee|2024-03-05"]
    assert _upstream(fc, "trained_models/ensemble", parts.forecast, parts.model, day) == ["Coffee|2024-01-01"]
    # The jobs (and so the schedules) take the ensemble like any model: no special case.
    jobs = {j.name: j for j in defs.jobs}
    graph = defs.resolve_asset_graph()
    assert weights.key in jobs["train_models"].selection.resolve(graph)
    assert fc.key in jobs["forecast_models"].selection.resolve(graph)
    assert fc.key in assets["forecast_metadata"].dependency_keys or any(
        d.asset_key == fc.key for d in assets["forecast_metadata"].specs_by_key[dg.AssetKey("forecast_metadata")].deps)


@pytest.fixture
def small(settings):
    return dataclasses.replace(settings, n_paths=200)


def test_materialize_members_weights_and_ensemble_with_a_member_missing(small, store):
    defs = build_definitions(small)
    resources = build_resources(small)
    assets = {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition)}
    instance = dg.DagsterInstance.ephemeral()
    for m in ens.MEMBERS:
        assert dg.materialize([assets[f"trained_models/{m}"]], instance=instance, resources=resources,
                              partition_key="Coffee|2024-01-01").success
        last = "2024-01-30" if m == "xgboost" else "2024-01-31"  # xgboost never forecast 2024-01-31
        assert dg.materialize([assets[f"forecasts/{m}"]], instance=instance, resources=resources,
                              tags=_range("2024-01-01", last)).success
    assert dg.materialize([assets["actuals"]], instance=instance, resources=resources,
                          tags=_range("2024-01-01", "2024-01-31")).success
    res = dg.materialize([assets["trained_models/ensemble"]], instance=instance, resources=resources,
                         partition_key="Coffee|2024-01-01")
    assert res.success  # no member forecast before 2024: equal weights, said so
    mat = res.asset_materializations_for_node("trained_models__ensemble")[0]
    assert mat.metadata["equal_weights"].value == 1
    res = dg.materialize([assets["forecasts/ensemble"], assets["forecast_metadata"]], instance=instance,
                         resources=resources, tags=_range("2024-01-01", "2024-01-31"))
    assert res.success
    checks = {c.check_name: c.passed for c in res.get_asset_check_evaluations()}
    assert checks["no_data_leakage"] and checks["paths_valid"]
    rows = read_sql(store, f"SELECT forecast_start_date, BOOL_AND(model_success) AS ok, MIN(failure_reason) AS why "
                           f"FROM {POINTS} WHERE model_name = 'ensemble' GROUP BY 1 ORDER BY 1")
    assert len(rows) == 31 and rows["ok"][:30].all() and not rows["ok"].iloc[30]
    assert "member forecast missing: xgboost" in rows["why"].iloc[30]
    scored = read_sql(store, f"SELECT COUNT(*) AS n FROM {qualified('forecast_metadata')} "
                             f"WHERE model_name = 'ensemble' AND model_success")
    assert int(scored["n"].iloc[0]) == 30
