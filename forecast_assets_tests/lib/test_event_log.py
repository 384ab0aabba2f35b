"""Batched writes to Dagster's SQLite event log record exactly what one-by-one writes record."""

import dagster as dg
import pytest
from dagster._core.storage.event_log import SqliteEventLogStorage

from forecast_assets.lib.dagster_patches import event_log

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


@pytest.mark.parametrize("batch_size", ["25", "2000"])  # several batches per run, and one
def test_batched_writes_record_what_one_by_one_writes_record(tmp_path, monkeypatch, batch_size):
    monkeypatch.setenv(event_log.BATCH_SIZE_ENV, batch_size)
    got = {}
    calls: list[int] = []
    real = SqliteEventLogStorage.store_event

    def counted(self, e):
        calls.append(1)
        return real(self, e)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", counted)
    for name, batch in (("one_by_one", event_log._original_store_event_batch),
                        ("batched", event_log.store_event_batch)):
        monkeypatch.setattr(SqliteEventLogStorage, "store_event_batch", batch)
        calls.clear()
        home = tmp_path / name
        home.mkdir()
        inst = dg.DagsterInstance.from_config(str(home))
        _run(inst, "Coffee|2024-01-01", "Coffee|2024-02-29")
        _run(inst, "Sugar|2024-02-01", "Sugar|2024-02-29")
        got[name] = (_record(inst), len(calls))
    (one, one_calls), (batched, batched_calls) = got["one_by_one"], got["batched"]
    assert batched == one
    assert len(batched["ranged"]["materialized"]) == 60 + 29 and len(batched["ranged"]["by_tag"]) == 29
    assert batched_calls < one_calls / 10  # the asset events did not go one by one


def test_install_turns_batching_on(monkeypatch):
    monkeypatch.delenv(event_log.BATCH_SIZE_ENV, raising=False)
    monkeypatch.setattr(SqliteEventLogStorage, "store_event_batch", event_log._original_store_event_batch)
    event_log.install()
    assert SqliteEventLogStorage.store_event_batch is event_log.store_event_batch
    assert int(__import__("os").environ[event_log.BATCH_SIZE_ENV]) > 1
