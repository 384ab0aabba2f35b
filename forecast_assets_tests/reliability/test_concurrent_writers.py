"""Two writers of overlapping partitions at once (issue 6, item 5): nothing corrupt, nothing twice.

Through Dagster: two real `dagster asset materialize` runs of overlapping day ranges, started
together on one instance with the project's dagster.yaml. Every asset that writes the DuckDB
file is in pool forecast_db (limit 2: one step per core), so steps of the two runs overlap
and their writes take turns on DuckDB's file lock, which the store waits for.

Through the store alone (two processes, no Dagster): DuckDB admits one process at a time and the
store retries opening the file while another holds it, so the writers take turns; one that
cannot get the file within its lock timeout fails with an error that says so, having written nothing.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from forecast_assets.runs import forecasting, training
from forecast_assets.storage.duckdb_store import DatabaseLockedError, DuckDBStore
from forecast_assets_tests.reliability import children, runs, tables
from forecast_assets_tests.reliability.inputs import revised

pytestmark = pytest.mark.slow

TRAIN = ["--select", "trained_models/naive", "--partition-range", "Coffee|2024-07-01...Coffee|2025-01-01"]
ASSETS = "forecasts/naive,actuals,forecast_metadata"
FORCE = ["--config-json", json.dumps({"ops": {"forecasts__naive": {"config": {"force": True}}}})]
ALL_DAYS = ("2024-12-27", "2025-01-06")


def _forecast(first: str, last: str) -> list[str]:
    return ["--select", ASSETS, "--partition-range", f"Coffee|{first}...Coffee|{last}", *FORCE]


@pytest.fixture
def bed(tmp_path, sample_unified):
    root = runs.scratch_root(tmp_path)
    env = runs.run_env(root)
    store = DuckDBStore(env["FORECAST_DUCKDB_PATH"])
    store.ensure_schema()
    store.replace_unified(sample_unified)
    yield root, env, store
    shutil.rmtree(root, ignore_errors=True)


def test_two_dagster_runs_of_overlapping_days_take_turns_and_write_each_day_once(bed, tmp_path):
    root, env, store = bed
    db, ref = Path(env["FORECAST_DUCKDB_PATH"]), root / "reference.duckdb"
    runs.run([TRAIN, _forecast(*ALL_DAYS)], env, tmp_path / "reference.log", 240)
    with tables.attached(db, ref) as con:
        tables.snapshot(con, "ref")

    # Overlapping ranges, both forced: every day in the overlap is rewritten by both runs.
    first = runs.start([_forecast("2024-12-27", "2025-01-03")], env, tmp_path / "first.log")
    second = runs.start([_forecast("2024-12-30", "2025-01-06")], env, tmp_path / "second.log")
    for p, log in ((first, "first.log"), (second, "second.log")):
        p.join(240)
        assert p.exitcode == 0, runs.tail(tmp_path / log)

    with tables.attached(db, ref) as con:
        assert tables.duplicated_keys(con) == dict.fromkeys(tables.KEYS, 0)
        assert tables.incomplete_days(con, ["naive"], ALL_DAYS, with_actuals=True) == []
        assert tables.diff(con, "ref") == dict.fromkeys(tables.KEYS, (0, 0))

    # The pool bounded the writing steps running at once across the two runs, and freed its slots.
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
        both = instance.get_runs(limit=2)
        assert [r.status for r in both] == [dg.DagsterRunStatus.SUCCESS] * 2
        spans = [s for r in both for s in _step_spans(instance, r.run_id)]
        assert len(spans) == 6
        limit = instance.event_log_storage.get_concurrency_info("forecast_db").limit
        assert limit == 2
        edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
        assert max(itertools.accumulate(d for _, d in edges)) <= limit
        assert instance.event_log_storage.get_concurrency_info("forecast_db").claimed_slots == []
    waited = sum("blocked by limit for pool forecast_db" in (tmp_path / f).read_text()
                 for f in ("first.log", "second.log"))
    print(f"concurrent runs: both succeeded, {waited} of them waited for the pool")


def _step_spans(instance, run_id):
    """(start, end) timestamps of each step of a run, from its event log."""
    starts = {r.event_log_entry.step_key: r.timestamp
              for r in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records}
    ends = {r.event_log_entry.step_key: r.timestamp
            for r in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records}
    return [(starts[k], ends[k]) for k in starts]


def _days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def test_two_processes_writing_through_the_store_take_turns(store, settings, tmp_path):
    training.train_windows(store, settings, "naive", "Coffee", [date(2024, 7, 1), date(2025, 1, 1)], "test")
    days = _days(date(2024, 12, 1), 45)
    forecasting.forecast_days(store, settings, "naive", "Coffee", days)
    ref = tmp_path / "reference.duckdb"
    with tables.attached(settings.duckdb_path, ref) as con:
        tables.snapshot(con, "ref")

    # Two processes rewrite overlapping days at the same time, each as often as it takes to get the file.
    writers = [runs.start_process(children.forecast, str(settings.duckdb_path), days[:30], 120.0),
               runs.start_process(children.forecast, str(settings.duckdb_path), days[15:], 120.0)]
    for p in writers:
        p.join(300)
        assert p.exitcode == 0
    with tables.attached(settings.duckdb_path, ref) as con:
        assert tables.duplicated_keys(con) == dict.fromkeys(tables.KEYS, 0)
        d = tables.diff(con, "ref")
        assert d["distributions"] == d["point_forecasts"] == (0, 0)


HOLD = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    time.sleep(600)
""")


def test_a_writer_that_cannot_get_the_file_says_why_and_writes_nothing(store, settings, sample_unified):
    before = store.unified_version()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(settings.duckdb_path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        impatient = DuckDBStore(settings.duckdb_path, lock_timeout_s=1.0)
        with pytest.raises(DatabaseLockedError, match=r"is locked by another process and stayed locked for 1 s .*"
                                                      r"retry when that process has finished") as err:
            impatient.replace_unified(revised(sample_unified))
        assert f"PID {holder.pid}" in str(err.value)  # DuckDB names the holder
    finally:
        holder.kill()
        holder.wait()
    # The holder died without closing: its lock went with it, and nothing was written.
    assert store.unified_version() == before
