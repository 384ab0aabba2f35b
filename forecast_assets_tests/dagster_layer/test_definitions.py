"""The code location loads, and its partitions, mapping, schedules and automation do what they say."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.definitions.observe import observe

from forecast_assets.config import Settings
from forecast_assets.core.sample import make_sample
from forecast_assets.defs.input import unified_data
from forecast_assets.defs.partitions import build_partitions

LA = ZoneInfo("America/Los_Angeles")


def test_the_code_location_loads_with_one_asset_per_model_and_the_ensemble(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"unified_data", "actuals", "forecast_metadata", "model_performance",
                    *(f"{g}/{m}" for g in ("trained_models", "forecasts")
                                                 for m in ("naive", "xgboost", "sarimax_auto_weather", "ensemble"))}
    for m in ("naive", "xgboost", "sarimax_auto_weather", "ensemble"):
        node = graph.get(dg.AssetKey(["forecasts", m]))
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert {c.name for c in node.check_keys} == {"no_data_leakage", "paths_valid", "no_missing_days", "no_failed_recomputation"}
    assert {s.name for s in defs.schedules} == {"semiannual_training", "daily_inference"}
    defs.resolve_job_def("train_models")
    defs.resolve_job_def("forecast_models")


def test_the_module_entry_point_loads():
    from forecast_assets.definitions import defs

    assert defs.resolve_asset_graph().get_all_asset_keys()


def test_partition_keys_and_the_day_to_window_mapping():
    parts = build_partitions(Settings.from_env({}))
    windows = parts.window.get_partition_keys(current_time=datetime(2025, 11, 17, tzinfo=LA))
    assert windows[0] == "2018-01-01" and windows[-1] == "2025-07-01" and len(windows) == 16
    downstream = parts.forecast.subset_with_partition_keys(["Coffee|2024-03-15", "Sugar|2024-07-01", "Sugar|2024-06-30"])
    up = parts.day_to_window.get_upstream_mapped_partitions_result_for_partitions(
        downstream, parts.forecast, parts.model, current_time=datetime(2025, 1, 1, tzinfo=LA))
    assert set(up.partitions_subset.get_partition_keys()) == {"Coffee|2024-01-01", "Sugar|2024-07-01", "Sugar|2024-01-01"}


def test_schedules_ask_for_the_right_partitions(defs):
    repo = defs.get_repository_def()
    train = defs.resolve_schedule_def("semiannual_training")
    reqs = list(train.evaluate_tick(dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 7, 1, 0, 0, tzinfo=LA), repository_def=repo)).run_requests)
    assert sorted(r.partition_key for r in reqs) == ["Coffee|2025-07-01", "Sugar|2025-07-01"]
    daily = defs.resolve_schedule_def("daily_inference")
    assert daily.cron_schedule == "0 8 * * *" and daily.execution_timezone == "America/Los_Angeles"
    assert train.cron_schedule == "0 0 1 1,7 *" and train.execution_timezone == "America/Los_Angeles"
    reqs = list(daily.evaluate_tick(dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 11, 17, 8, 0, tzinfo=LA), repository_def=repo)).run_requests)
    assert sorted(r.partition_key for r in reqs) == ["Coffee|2025-11-17", "Sugar|2025-11-17"]


def test_new_input_data_triggers_forecasts_of_the_recent_days(defs, assets, resources, store):
    instance = dg.DagsterInstance.ephemeral()
    store.replace_unified(make_sample(end=date(2025, 2, 20)))
    dg.materialize([assets["trained_models/naive"]], instance=instance, resources=resources,
                   partition_key="Coffee|2025-01-01")
    now = datetime(2025, 2, 21, 9, 0, tzinfo=LA)
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now)
    observe([unified_data], instance=instance, resources=resources)
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now, cursor=r.cursor)
    dg.materialize([assets["forecasts/naive"]], instance=instance, resources=resources,
                   partition_key="Coffee|2025-02-21")
    dg.materialize([assets["actuals"]], instance=instance, resources=resources, partition_key="Coffee|2025-02-10")
    # A tick with nothing new: what was requested above is now handled.
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now + timedelta(hours=1),
                                          cursor=r.cursor)

    # New trading days land (the feed catches up) and the next observation sees a new version.
    store.replace_unified(make_sample(end=date(2025, 2, 24)))
    observe([unified_data], instance=instance, resources=resources)
    later = now + timedelta(days=3)
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=later, cursor=r.cursor)
    requested = {x.key.to_user_string(): set(x.true_subset.expensively_compute_partition_keys())
                 for x in r.results if x.true_subset.size and x.true_subset.is_partitioned}
    assert {"Coffee|2025-02-24"} <= requested["forecasts/naive"]
    assert all(k.startswith("Coffee|") for k in requested["forecasts/naive"])  # Sugar has no trained model
    assert "forecasts/xgboost" not in requested  # nor does xgboost
    # Actuals of older days are refreshed: their later steps arrived with the new data.
    assert "Coffee|2025-02-10" in requested["actuals"]
    # ...and are scored again once their actuals are in.
    assert "Coffee|2025-02-10" in requested["forecast_metadata"]
