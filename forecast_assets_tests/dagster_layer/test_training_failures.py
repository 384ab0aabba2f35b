"""Through Dagster: a window that cannot be trained fails the step naming it; the run's other windows are written."""

import dataclasses

import dagster as dg
import pandas as pd

from forecast_assets.definitions import build_definitions, build_resources
from forecast_assets.storage.duckdb_store import DuckDBStore

A, B = "2023-07-01", "2024-01-01"  # adjacent windows: A has too little history for xgboost, B enough


def test_a_short_window_fails_alone_through_dagster(settings, sample_unified):
    s = dataclasses.replace(settings, commodities=("Coffee",))
    store = DuckDBStore(s.duckdb_path)
    store.ensure_schema()
    u = sample_unified[sample_unified["commodity"] == "Coffee"]
    days = pd.DatetimeIndex(sorted(u.loc[u["is_trading_day"] == 1, "date"].unique()))
    start = days[days < pd.Timestamp(B)][-1100]  # 1,100 trading days before B, ~970 before A
    store.replace_unified(u[u["date"] >= start].reset_index(drop=True))
    defs = build_definitions(s)
    asset = next(a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.is_executable
                 and a.key.to_user_string() == "trained_models/xgboost")
    result = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral(), resources=build_resources(s),
                            tags={"dagster/asset_partition_range_start": f"Coffee|{A}",
                                  "dagster/asset_partition_range_end": f"Coffee|{B}"}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.step_failure_data.error.message) + str(failure.step_failure_data.user_failure_data)
    assert f"Coffee|{A}" in text and "at least 1050 are needed for xgboost" in text and f"Coffee|{B}" not in text
    assert store.read_trained_model("Coffee", "xgboost", s.model_version, pd.Timestamp(B).date()) is not None
    assert store.read_trained_model("Coffee", "xgboost", s.model_version, pd.Timestamp(A).date()) is None
