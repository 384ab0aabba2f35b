"""The batched SQLite event log records exactly what Dagster's own SQLite event log records."""

import os

import dagster as dg
import pytest

from forecast_assets.lib.event_log import BATCH_SIZE_ENV, BatchedSqliteEventLogStorage

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")
PARTS = dg.MultiPartitionsDefinition({"commodity": dg.StaticPartitionsDefinition(["Coffee", "Sugar"]), "date": DAYS})


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(),
          check_specs=[dg.AssetCheckSpec("ok", asset="ranged")])
def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"n": len(context.partition_keys)},
                                check_results=[dg.AssetCheckResult(check_name="ok", passed=True)])


@dg.asset(partitions_def=PARTS, deps=[ranged], backfill_policy=dg.BackfillPolicy.single_run())
def downstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult()


def _instance(tmp_path, batched: bool, monkeypatch) -> dg.DagsterInstance:
    home = tmp_path / ("batched" if batched else "default")
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the default base_dir, as for `dagster` commands
    if batched:
        (home / "dagster.yaml").write_text(
            "event_log_storage:\n  module: forecast_assets.lib.event_log\n  class: BatchedSqliteEventLogStorage\n")
    return dg.DagsterInstance.from_config(str(home))


def _run(instance, start: str, end: str) -> None:
    job = dg.Definitions(assets=[ranged, downstream]).resolve_implicit_global_asset_job_def()
    res = job.execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end})
    assert res.success


def _record(instance) -> dict:
    out = {}
    for key in (dg.AssetKey("ranged"), dg.AssetKey("downstream")):
        recs = instance.fetch_materializations(key, limit=1000).records
        planned = instance.get_event_records(dg.EventRecordsFilter(
            event_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=key))
        last = instance.get_asset_records([key])[0].asset_entry.last_materialization
        out[key.to_user_string()] = {
            "materialized": sorted(instance.get_materialized_partitions(key)),
            "events": sorted(r.partition_key for r in recs),
            "planned": len(planned),
            "last": last.dagster_event.partition,
            "tags": sorted({k for r in recs for k in r.asset_materialization.tags}),
            # the indexed tags Dagster uses for per-dimension partition status
            "by_tag": sorted(t["dagster/partition/date"] for t in instance.event_log_storage.get_event_tags_for_asset(
                key, filter_tags={"dagster/partition/commodity": "Sugar"})),
        }
    return out


@pytest.fixture
def batching(monkeypatch):
    monkeypatch.setenv(BATCH_SIZE_ENV, "25")  # several batches per run, and a partial last one


def test_same_record_as_dagsters_sqlite_event_log(tmp_path, batching, monkeypatch):
    default, batched = _instance(tmp_path, False, monkeypatch), _instance(tmp_path, True, monkeypatch)
    assert isinstance(batched.event_log_storage, BatchedSqliteEventLogStorage)
    for inst in (default, batched):
        _run(inst, "Coffee|2024-01-01", "Coffee|2024-02-29")
        _run(inst, "Sugar|2024-02-01", "Sugar|2024-02-29")
    a, b = _record(default), _record(batched)
    assert b == a
    assert len(b["ranged"]["materialized"]) == 60 + 29
    assert len(b["ranged"]["by_tag"]) == 29


def test_turns_batching_on_when_unset(tmp_path, monkeypatch):
    monkeypatch.delenv(BATCH_SIZE_ENV, raising=False)
    _instance(tmp_path, True, monkeypatch).event_log_storage  # noqa: B018 (constructs the storage)
    assert int(os.environ[BATCH_SIZE_ENV]) > 1
