"""Large backfills on Spark: the same forecasts, fanned out over commodity x model x window groups.

The driver reads what each group needs once (the window's trained model JSON
and the input history, both small), ships it inside a task row, and Spark runs
core.forecast.forecast per group with applyInPandas. Seeds are per day, as in
the local engine, so a day's paths are identical whichever engine made them.
Each group is computed once: one applyInPandas returns the rows of both tables
(distributions and point forecasts) in one frame, tagged by table and persisted,
and each table's frame is a filter of it. On Databricks, Spark writes the rows
to the Delta tables itself (storage.delta); elsewhere they are collected and go
through the store, one transaction per window. No Dagster here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import time
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from forecast_assets.config import Settings
from forecast_assets.runs.plan import WindowWork, plan_forecasts
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.delta import DeltaStore
from forecast_assets.storage.schema import columns, table_columns

_SPARK_TYPES = {"STRING": "string", "DOUBLE": "double", "FLOAT": "float", "INT": "int", "DATE": "date",
                "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}


KINDS = ("distributions", "point_forecasts")
TABLE = "output_table"  # which of KINDS a row of the combined frame belongs to


def combined_schema(horizon: int) -> str:
    """Both output tables' columns as one Spark DDL schema (shared columns once, types checked equal), plus TABLE."""
    cols: dict[str, str] = {}
    for kind in KINDS:
        for c, t in table_columns(kind, horizon):
            if cols.setdefault(c, t) != t:
                raise TypeError(f"column {c} is {cols[c]} in one output table and {t} in the other")
    return ", ".join([f"{TABLE} string", *(f"{c} {_SPARK_TYPES[t]}" for c, t in cols.items())])


def plan(store: ForecastStore, settings: Settings, model_names: list[str], days_by_commodity: dict[str, list[date]],
         force: bool = False) -> list[WindowWork]:
    """The local engine's plan (runs.plan) for every commodity and model: one unit of parallel work per
    commodity x model x window with days left to compute."""
    work = [w for commodity, days in days_by_commodity.items() for m in model_names
            for w in plan_forecasts(store, settings, m, commodity, days, force=force)]
    return [w for w in work if w.todo]


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=True), buf)
    return buf.getvalue()


def task_rows(work: list[WindowWork]) -> pd.DataFrame:
    """What each group needs, read on the driver and shipped in its row: model JSON and input history."""
    return pd.DataFrame([{
        "commodity": w.commodity, "model_name": w.model_name, "window_start": w.window_start.isoformat(),
        "days": json.dumps([d.isoformat() for d in w.todo]), "calendar": w.calendar.name, "model_json": w.trained.text,
        "history": _parquet_bytes(w.history),
        "vintages": json.dumps(dataclasses.asdict(w.vintages) if w.vintages else None),
    } for w in work])


def _run_group(pdf: pd.DataFrame, n_paths: int, seed: int, version: str, horizon: int) -> pd.DataFrame:
    """Both tables' rows of the group's forecasts, in one frame tagged by TABLE (columns a table
    lacks are null). Runs on the executors: everything it needs is in the row."""
    from forecast_assets.core.calendar import Calendar
    from forecast_assets.core.forecast import TrainedModel, forecast
    from forecast_assets.core.paths import day_seeds
    from forecast_assets.storage.rows import Vintages, distribution_rows, point_rows

    out = []
    for row in pdf.itertuples(index=False):
        trained = TrainedModel.from_json(row.model_json)
        daily = pq.read_table(io.BytesIO(row.history)).to_pandas()
        days = np.array(json.loads(row.days), dtype="datetime64[D]")
        seeds = day_seeds(seed, row.commodity, row.model_name, version, days)
        batch = forecast(trained, daily, days, n_paths=n_paths, seeds=seeds, horizon=horizon,
                         calendar=Calendar(row.calendar))
        ts = datetime.now(timezone.utc).replace(tzinfo=None)  # one computation, one timestamp in both tables
        v = json.loads(row.vintages)
        vint = Vintages(**v) if v else None
        for kind, rows in (("distributions", distribution_rows(batch, version, ts, vint)),
                           ("point_forecasts", point_rows(batch, version, ts, vint))):
            out.append(rows.append_column(TABLE, pa.array([kind] * rows.num_rows, pa.string())))
    return pa.concat_tables(out, promote_options="default").to_pandas()


@contextlib.contextmanager
def forecast_frames(spark, store: ForecastStore, settings: Settings, model_names: list[str],
                    days_by_commodity: dict[str, list[date]], partitions: int | None = None, force: bool = True):
    """(tasks, {table: Spark DataFrame of its rows}) for every task, computed on the executors.

    Every group is forecast once into a persisted frame holding both tables' rows; each
    table's frame is a filter of it, so writing or collecting both does not recompute.
    The persisted rows are released on leaving the block.
    """
    from pyspark import StorageLevel

    tasks = plan(store, settings, model_names, days_by_commodity, force)
    if not tasks:
        yield [], {}
        return
    sdf = spark.createDataFrame(task_rows(tasks)).repartition(partitions or max(len(tasks), 1), "commodity", "model_name",
                                                 "window_start")
    n_paths, seed, version, horizon = settings.n_paths, settings.seed, settings.model_version, settings.horizon

    def run(pdf: pd.DataFrame) -> pd.DataFrame:  # one argument: applyInPandas passes the key to two
        return _run_group(pdf, n_paths, seed, version, horizon)

    both = (sdf.groupBy("commodity", "model_name", "window_start").applyInPandas(run, schema=combined_schema(horizon))
            .persist(StorageLevel.MEMORY_AND_DISK))
    try:
        yield tasks, {kind: both.where(both[TABLE] == kind).select(*columns(kind, horizon)) for kind in KINDS}
    finally:
        both.unpersist()


def backfill(spark, store: ForecastStore, settings: Settings, model_names: list[str],
             days_by_commodity: dict[str, list[date]], *, force: bool = False, delta_catalog: str | None = None,
             log=lambda _: None) -> int:
    """Forecast on Spark and write: to Delta through Spark (Databricks), or through the store.

    Returns the number of forecast days written.
    """
    t0 = time.perf_counter()
    delta = DeltaStore(delta_catalog) if delta_catalog else None  # refuses an unsafe catalog before any work
    with forecast_frames(spark, store, settings, model_names, days_by_commodity, force=force) as (tasks, frames):
        n_days = sum(len(t.todo) for t in tasks)
        if not tasks:
            log("spark backfill: every day asked is already complete")
            return 0
        if delta is not None:
            delta.replace_forecasts(frames, settings.model_version,
                                    [(t.commodity, t.model_name, t.todo, t.vintages.vintage) for t in tasks])
            got = None
        else:
            # Collected once per table (from the persisted rows), written below task by task.
            got = {kind: df.toArrow() for kind, df in frames.items()}
    if got is not None:
        # One transaction per window, as in the local engine.
        for t in tasks:
            parts = {}
            for kind, table in got.items():
                keep = pa.compute.and_(pa.compute.equal(table["commodity"], t.commodity),
                                       pa.compute.equal(table["model_name"], t.model_name))
                keep = pa.compute.and_(keep, pa.compute.is_in(table["forecast_start_date"],
                                                              value_set=pa.array(t.todo, type=pa.date32())))
                parts[kind] = table.filter(keep)
            store.replace_forecasts(t.commodity, t.model_name, settings.model_version, t.todo,
                                    parts["distributions"], parts["point_forecasts"])
    el = time.perf_counter() - t0
    log(f"spark backfill: {n_days} forecast days in {len(tasks)} groups (commodity x model x window), "
        f"{el:.1f}s, {n_days / max(el, 1e-9):.0f} days/s")
    return n_days
