"""lib/streaming (a worker's reports, in order, while it runs) and lib/tables (a frame as a Dagster table)."""

import threading

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from forecast_assets.lib.streaming import stream
from forecast_assets.lib.tables import frame_table


def _relay(gen):
    items = []
    while True:
        try:
            items.append(next(gen))
        except StopIteration as stop:
            return items, stop.value


def test_reports_arrive_while_the_worker_runs_and_its_result_last():
    go_on = threading.Event()

    def work(report):
        report(1)
        assert go_on.wait(10)  # blocked until the first report has been seen by the caller
        report(2)
        return "done"

    gen = stream(work)
    assert next(gen) == 1  # before the worker finishes
    go_on.set()
    assert _relay(gen) == ([2], "done")


def test_the_workers_error_is_raised_after_its_reports():
    def work(report):
        report("committed")
        raise ValueError("window 2025-07-01 failed")

    gen = stream(work)
    assert next(gen) == "committed"
    with pytest.raises(ValueError, match="window 2025-07-01 failed"):
        next(gen)


def test_frame_table_types_and_empty_cells():
    df = pd.DataFrame({"model": ["naive", "xgboost"], "step": [1, 14], "crps": [0.5, np.nan],
                       "day": pd.to_datetime(["2025-01-02", "2025-01-03"])})
    t = frame_table(df, {"crps": "lower is better"})
    assert isinstance(t, dg.TableMetadataValue)
    assert [(c.name, c.type) for c in t.schema.columns] == [("model", "string"), ("step", "int"),
                                                             ("crps", "float"), ("day", "string")]
    assert t.schema.columns[2].description == "lower is better"
    assert [r.data for r in t.records] == [
        {"model": "naive", "step": 1, "crps": 0.5, "day": "2025-01-02"},
        {"model": "xgboost", "step": 14, "crps": None, "day": "2025-01-03"}]
