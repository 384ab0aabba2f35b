"""The local engine: execute a forecast plan in this process, writing one transaction per ~1.5M rows.

No Dagster here: the assets call this with the partitions they were given, the
benchmark and the tests call it directly. Writes always hold whole windows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Callable

import pyarrow as pa

from forecast_assets.config import Settings
from forecast_assets.core.forecast import forecast
from forecast_assets.core.paths import day_seeds
from forecast_assets.runs.plan import Log, noop, plan_forecasts
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.rows import distribution_rows, point_rows


@dataclass
class ForecastResult:
    days_asked: int
    days_written: int
    days_skipped: int
    days_failed: int
    rows_distributions: int
    rows_points: int
    seconds: float
    failed_recomputations: int = 0  # days whose recomputation failed: their earlier good vintage stays current


# Rows per write transaction: big enough for DuckDB's bulk path (~1M rows/s and up),
# small enough that a killed run loses little; a write always holds whole windows.
WRITE_ROWS = 1_500_000


def forecast_days(store: ForecastStore, settings: Settings, model_name: str, commodity: str, days: list[date],
                  *, force: bool = False, log: Log = noop, write_rows: int = WRITE_ROWS,
                  on_commit: Callable[[list[date]], None] | None = None) -> ForecastResult:
    """Forecast every day in `days`, window by window; skip days already complete from the same model.

    `on_commit(days)` is called after each write with the days it committed (and once, first, with the days
    skipped as already complete), so a caller can report them while the rest is still computing.
    """
    t0 = time.perf_counter()
    days = sorted(set(days))
    work = plan_forecasts(store, settings, model_name, commodity, days, force=force)
    res = ForecastResult(len(days), 0, 0, 0, 0, 0, 0.0)
    pending: list[tuple[list[date], pa.Table, pa.Table]] = []
    done = 0

    def flush():
        if not pending:
            return
        todo = [d for p in pending for d in p[0]]
        store.replace_forecasts(commodity, model_name, settings.model_version, todo,
                                pa.concat_tables([p[1] for p in pending]), pa.concat_tables([p[2] for p in pending]))
        pending.clear()
        if on_commit:
            on_commit(todo)
        el = time.perf_counter() - t0
        log(f"{model_name} {commodity}: {done}/{len(days)} days, written to {todo[-1]}, {el:.1f}s, "
            f"{done / max(el, 1e-9):.0f} days/s")

    if on_commit and (skipped := sorted(d for w in work for d in set(w.days) - set(w.todo))):
        on_commit(skipped)
    for w in work:
        res.days_skipped += w.skipped
        done += w.skipped
        if not w.todo:
            continue
        seeds = day_seeds(settings.seed, commodity, model_name, settings.model_version, w.todo)
        batch = forecast(w.trained, w.history, w.todo, n_paths=settings.n_paths, seeds=seeds,
                         horizon=settings.horizon, calendar=w.calendar)
        dist = distribution_rows(batch, settings.model_version, vintages=w.vintages)
        pts = point_rows(batch, settings.model_version, vintages=w.vintages)
        pending.append((w.todo, dist, pts))
        res.days_written += int(batch.ok.sum())
        res.days_failed += int((~batch.ok).sum())
        failed_over_good = [d for d, ok in zip(w.todo, batch.ok) if not ok and d in w.had_good]
        res.failed_recomputations += len(failed_over_good)
        if failed_over_good:
            log(f"{model_name} {commodity}: {len(failed_over_good)} recomputed days failed "
                f"({failed_over_good[0]}: {batch.reasons[w.todo.index(failed_over_good[0])]}); "
                f"their earlier good vintage stays current")
        res.rows_distributions += dist.num_rows
        res.rows_points += pts.num_rows
        done += len(w.todo)
        if sum(p[1].num_rows for p in pending) >= write_rows:
            flush()
    flush()
    if res.days_skipped:
        log(f"{model_name} {commodity}: {res.days_skipped} of {len(days)} days already complete from the same model")
    res.seconds = time.perf_counter() - t0
    return res
