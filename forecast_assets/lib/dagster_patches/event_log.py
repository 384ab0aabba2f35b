"""Dagster's SQLite event log, with the asset events of a batch written in one transaction.

A ranged run writes one materialization event and one planned event per
partition: a backfill of every day since 2018 is ~35,000 of them. Dagster's
SQLite storage commits each twice (run shard and index shard), reconnecting
each time: 32 s of a 33 s no-op run over 500 partitions here. Dagster already
hands storages whole batches when DAGSTER_EVENT_BATCH_SIZE is set; the SQLite
storage just loops over them. install() (through dagster_patches.install(), which
checks the Dagster version first) gives it a store_event_batch that
writes a batch's asset events with one statement per table in one transaction
per shard and leaves every other event to Dagster's store_event. Same files,
schema and reads, so the UI, the daemon and `dagster` commands see what they
always did; a process that does not load the code location writes the same
records one by one. Postgres (deploy/) batches on its own and is untouched.
"""

import os
from collections.abc import Sequence

from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable

# Dagster reads this per event; batches only reach store_event_batch when it is set.
BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = "2000"
_original_store_event_batch = SqliteEventLogStorage.store_event_batch


def _is_plain_asset_event(e: EventLogEntry) -> bool:
    return bool(e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS and e.dagster_event.asset_key)


def _store_asset_events(storage: SqliteEventLogStorage, events: list[EventLogEntry]) -> None:
    if len(events) < 2:
        for e in events:
            storage.store_event(e)
        return
    rows = [storage._event_to_row(e) for e in events]
    table = SqlEventLogStorageTable
    with storage.run_connection(events[0].run_id) as conn:
        conn.execute(table.insert(), rows)
    with storage.index_transaction() as conn:
        ids = [r[0] for r in conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)]
        storage._store_asset_event_tags(conn, events, ids)
        # The asset key row keeps the last event of each kind; each kind sets the same columns,
        # so applying the last of each kind, in order, leaves what one-by-one writes would.
        last: dict[tuple, int] = {}
        for i, e in enumerate(events):
            last[(e.dagster_event.asset_key, e.dagster_event_type)] = i
        for i in sorted(last.values()):
            storage._store_asset_event(conn, events[i], ids[i])


def store_event_batch(self: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    # Runs of consecutive asset events of one run go in bulk; anything else keeps Dagster's path, in order.
    run: list[EventLogEntry] = []
    for e in events:
        if _is_plain_asset_event(e) and (not run or run[0].run_id == e.run_id):
            run.append(e)
            continue
        _store_asset_events(self, run)
        run = []
        if _is_plain_asset_event(e):
            run.append(e)
        else:
            self.store_event(e)
    _store_asset_events(self, run)


def install() -> None:
    """Batch the SQLite event log's writes in this process (idempotent)."""
    os.environ.setdefault(BATCH_SIZE_ENV, DEFAULT_BATCH_SIZE)
    SqliteEventLogStorage.store_event_batch = store_event_batch
