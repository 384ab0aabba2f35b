"""The first day after `make demo`: the window containing today is checked, actuals follow the forecasts."""

from datetime import date

import dagster as dg

from forecast_assets.runs import checks

RANGE = {"dagster/asset_partition_range_start": "Coffee|2024-01-02",
         "dagster/asset_partition_range_end": "Coffee|2024-01-05"}


def test_current_window_trained_names_the_commodities_without_a_model(assets, resources, defs, store, settings):
    instance = dg.DagsterInstance.ephemeral()
    check = next(c for c in defs.asset_checks if "current_window_trained" in {k.name for k in c.check_keys}
                 and dg.AssetKey(["trained_models", "naive"]) in {k.asset_key for k in c.check_keys})
    o = checks.current_window_trained(store, settings, "naive", date(2024, 3, 1))
    assert not o.passed and o.metadata == {"window": "2024-01-01", "commodities_missing": 2}
    result = dg.materialize([assets["trained_models/naive"], check], instance=instance, resources=resources,
                            partition_key="Coffee|2024-01-01")
    (ev,) = result.get_asset_check_evaluations()
    assert ev.check_name == "current_window_trained"  # today's window (not 2024's) has no model yet
    assert not ev.passed and "Coffee|" in ev.description and "Sugar|" in ev.description
    o = checks.current_window_trained(store, settings, "naive", date(2024, 3, 1))
    assert not o.passed and "'Sugar|2024-01-01'" in o.description and "Coffee" not in o.description
    assert o.metadata["commodities_missing"] == 1
    dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                   partition_key="Sugar|2024-01-01")
    assert checks.current_window_trained(store, settings, "naive", date(2024, 6, 30)).passed
    assert not checks.current_window_trained(store, settings, "naive", date(2024, 7, 1)).passed  # next window


def test_actuals_run_after_the_forecasts_in_one_run(assets, resources, defs, store):
    graph = defs.resolve_asset_graph()
    assert {dg.AssetKey(["forecasts", m]) for m in ("naive", "xgboost", "sarimax_auto_weather")} <= \
        graph.get(dg.AssetKey("actuals")).parent_keys
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                   partition_key="Coffee|2024-01-01")
    # Listed actuals first: the order comes from the dependency, not the list.
    result = dg.materialize([assets["actuals"], assets["forecasts/naive"]], instance=instance, resources=resources,
                            tags=RANGE)
    assert result.success
    starts = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert starts == ["forecasts__naive", "actuals"]
    actuals = result.asset_materializations_for_node("actuals")[0].metadata
    assert actuals["days_complete"].value == 4  # every step of these days is known, and the rows existed


def test_no_freshness_policy_that_could_never_be_evaluated(defs):
    # Dagster evaluates a freshness policy from materializations; unified_data is only observed.
    graph = defs.resolve_asset_graph()
    assert all(graph.get(k).freshness_policy is None for k in graph.get_all_asset_keys())
