"""What line 1 of `make bench` cannot go below on this machine: writing its rows, and nothing else.

    python bench/write_floor.py [--dir DIR] [--start 2018-01-01] [--end 2025-11-17]

Writes exactly the rows line 1's full workload writes (2 commodities x 4 models, the ensemble's
included, x every day start..end, 2,000 paths x 14 steps, one write per model and semiannual window)
through the same code (storage.rows, DuckDBStore.replace_forecasts), one process per commodity at once
as the bench runs them, with prices that are random numbers: no simulation, no reads, no Dagster, no
process start beyond Python's; the point rows' mean, std and quantiles are computed from the paths as
every run does. Prints the wall time and each process's CPU time. Everything line 1 adds
(forecasting, Dagster's two events per partition that issue 14's per-day materializations need, the
runs' start-up, checks) comes on top: BENCHMARKS.md, "session 10", sets the two side by side.
A benchmark, not a test: exit code 0.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("naive", "xgboost", "sarimax_auto_weather", "ensemble")
N_PATHS, H = 2000, 14


def _write(db: str, commodity: str, start: date, end: date, out) -> None:
    from forecast_assets.core.forecast import ForecastBatch
    from forecast_assets.core.paths import summarize
    from forecast_assets.storage.duckdb_store import DuckDBStore
    from forecast_assets.runs.plan import by_window
    from forecast_assets.storage.rows import distribution_rows, point_rows

    store = DuckDBStore(db)
    store.ensure_schema()
    rng = np.random.default_rng(0)
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + np.timedelta64(1, "D")).tolist()
    t0, c0, rows = time.perf_counter(), time.process_time(), 0
    for model in MODELS:
        for window_days in by_window(days).values():
            wdays = np.asarray(window_days, dtype="datetime64[D]")
            n = len(wdays)
            prices = (100 + rng.standard_normal((n, N_PATHS, H), dtype=np.float32))
            steps = wdays[:, None] + np.arange(1, H + 1).astype("timedelta64[D]")
            b = ForecastBatch(commodity=commodity, model_name=model, days=wdays, cutoffs=wdays - 1,
                              step_dates=steps, prices=prices, ok=np.ones(n, bool), reasons=[None] * n,
                              points=summarize(prices),
                              actuals=np.full((n, H), np.nan), leakage=np.zeros(n, bool),
                              training_cutoff=wdays[0].item(), model_fingerprint="0123456789abcdef")
            dist, pts = distribution_rows(b, "v1.0"), point_rows(b, "v1.0")
            store.replace_forecasts(commodity, model, "v1.0", window_days, dist, pts)
            rows += dist.num_rows
    out.put((commodity, time.perf_counter() - t0, time.process_time() - c0, rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir")
    ap.add_argument("--start", default="2018-01-01")
    ap.add_argument("--end", default="2025-11-17")
    a = ap.parse_args()
    tmp = Path(a.dir or tempfile.mkdtemp(prefix="forecast-floor-"))
    tmp.mkdir(parents=True, exist_ok=True)
    start, end = date.fromisoformat(a.start), date.fromisoformat(a.end)
    q = mp.get_context("spawn").Queue()
    t0 = time.perf_counter()
    procs = [mp.get_context("spawn").Process(target=_write, args=(str(tmp / f"{c}.duckdb"), c, start, end, q))
             for c in ("Coffee", "Sugar")]
    # One file per process: the bench's two runs share one file and wait on its lock, so this is a floor.
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise SystemExit("a writer failed: see above")
    results = [q.get() for _ in procs]
    wall = time.perf_counter() - t0
    for c, w, cpu, rows in sorted(results):
        print(f"  {c}: {rows:,} distribution rows in {w:.1f} s ({cpu:.1f} CPU s in the process)")
    print(f"write floor of line 1: {sum(r[3] for r in results):,} rows, both commodities at once, {wall:.1f} s wall")
    if not a.dir:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
