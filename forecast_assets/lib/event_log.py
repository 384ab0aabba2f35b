"""Dagster's SQLite event log, with asset events of one batch written in one transaction.

A ranged run writes one materialization event per partition: a backfill of
every day since 2018 is ~29,000 of them. Dagster's SQLite storage commits each
event twice (run shard and index shard) and reconnects for each, ~12 ms an
event on this machine: minutes of bookkeeping for seconds of forecasting.
Dagster already hands storages whole batches (DAGSTER_EVENT_BATCH_SIZE); the
SQLite storage just loops over them. This subclass writes a batch's asset
events with one statement per table in one transaction per shard, and leaves
every other event to the parent. Nothing else changes: same files, schema and
reads, so the UI, the daemon and `dagster` commands see what they always did.
Postgres (deploy/) batches on its own and does not need this.
"""

import os
from collections.abc import Sequence

from dagster import Field, StringSource
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData

# Dagster reads this per event; batches only reach store_event_batch when it is set.
BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = "2000"


def _default_base_dir() -> str:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("BatchedSqliteEventLogStorage needs base_dir or DAGSTER_HOME")
    return os.path.join(home, "history", "runs")  # where Dagster's default SQLite event log lives


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose store_event_batch is one transaction per shard."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir or _default_base_dir(), inst_data=inst_data)
        # Turn batching on for every process that opens this instance (CLI, daemon, run workers).
        os.environ.setdefault(BATCH_SIZE_ENV, DEFAULT_BATCH_SIZE)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        # Runs of consecutive asset events go in bulk; anything else keeps the parent's path, in order.
        run: list[EventLogEntry] = []
        for e in events:
            if _is_plain_asset_event(e) and (not run or run[0].run_id == e.run_id):
                run.append(e)
                continue
            self._store_asset_events(run)
            run = []
            if _is_plain_asset_event(e):
                run.append(e)
            else:
                self.store_event(e)
        self._store_asset_events(run)

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        if len(events) < 2:
            for e in events:
                self.store_event(e)
            return
        rows = [self._event_to_row(e) for e in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        table = SqlEventLogStorageTable
        with self.index_transaction() as conn:
            ids = [r[0] for r in conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)]
            self._store_asset_event_tags(conn, events, ids)
            # The asset key row keeps the last event of each kind; each kind sets the same columns,
            # so applying the last of each kind, in order, leaves what one-by-one writes would.
            last: dict[tuple, int] = {}
            for i, e in enumerate(events):
                last[(e.dagster_event.asset_key, e.dagster_event_type)] = i
            for i in sorted(last.values()):
                self._store_asset_event(conn, events[i], ids[i])


def _is_plain_asset_event(e: EventLogEntry) -> bool:
    return bool(e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS and e.dagster_event.asset_key)
