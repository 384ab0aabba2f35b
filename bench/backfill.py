"""Backfill throughput on the embedded default: train windows, forecast a range of days, write the rows.

    python bench/backfill.py [--start 2024-01-01] [--end 2024-12-31] [--models naive,xgboost,...]
                             [--commodities Coffee,Sugar] [--cli]

Runs in a temporary folder on the synthetic sample; with every member asked, the ensemble follows them
(actuals, its weights per window, its combined paths: issue 15). Prints one line per step
and the totals: days/s and rows/s. With --cli it also times the same range
through `dagster asset materialize` (process start to last row committed).
A baseline for later work; timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from forecast_assets.runs import forecasting, training
from forecast_assets.config import Settings
from forecast_assets.core.calendar import windows_between
from forecast_assets.core.ensemble import MEMBERS as ENSEMBLE_MEMBERS
from forecast_assets.core.models import REGISTRY
from forecast_assets.core.sample import make_sample
from forecast_assets.storage.duckdb_store import DuckDBStore


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--start", default="2024-01-01")
    ap.add_argument("--end", default="2024-12-31")
    ap.add_argument("--models", default=",".join(REGISTRY))
    ap.add_argument("--commodities", default="Coffee,Sugar")
    ap.add_argument("--cli", action="store_true", help="also time the range through the dagster CLI")
    a = ap.parse_args()
    start, end = date.fromisoformat(a.start), date.fromisoformat(a.end)
    models, commodities = a.models.split(","), a.commodities.split(",")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    windows = windows_between(start, end)

    tmp = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    settings = dataclasses.replace(Settings.from_env({}), duckdb_path=tmp / "bench.duckdb",
                                   artifact_dir=tmp / "artifacts")
    store = DuckDBStore(settings.duckdb_path)
    store.ensure_schema()
    store.replace_unified(make_sample(end=end + timedelta(days=40), commodities=tuple(commodities)))
    print(f"bench: {len(commodities)} commodities x {len(models)} models x {len(days)} days "
          f"({start}..{end}, {len(windows)} windows), {settings.n_paths} paths x {settings.horizon} steps, "
          f"{os.cpu_count()} cores, in {tmp}")

    t0 = time.perf_counter()
    for m in models:
        for c in commodities:
            t = time.perf_counter()
            training.train_windows(store, settings, m, c, windows, created_by="bench")
            print(f"  train    {m:22s} {c:8s} {len(windows)} windows  {time.perf_counter() - t:6.2f} s")
    train_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows = 0
    for m in models:
        for c in commodities:
            r = forecasting.forecast_days(store, settings, m, c, days, force=True)
            rows += r.rows_distributions + r.rows_points
            print(f"  forecast {m:22s} {c:8s} {r.days_written} days  {r.seconds:6.2f} s  "
                  f"{r.days_written / r.seconds:7.0f} days/s")
    if set(ENSEMBLE_MEMBERS) <= set(models):  # the ensemble after its members (issue 15): actuals, weights, paths
        from forecast_assets.runs import actuals, ensemble

        for c in commodities:
            t = time.perf_counter()
            actuals.attach_actuals(store, c, days, settings.calendar(c))
            ensemble.train_weights(store, settings, c, windows, created_by="bench")
            r = ensemble.forecast_days(store, settings, c, days, force=True)
            rows += r.rows_distributions + r.rows_points
            print(f"  forecast {'ensemble':22s} {c:8s} {r.days_written} days  {time.perf_counter() - t:6.2f} s "
                  f"(actuals and weights included)")
        models = [*models, "ensemble"]
    fc_s = time.perf_counter() - t0
    n = len(days) * len(models) * len(commodities)
    print(f"training: {len(windows) * len(models) * len(commodities)} models in {train_s:.1f} s")
    print(f"backfill: {n} forecast-days in {fc_s:.1f} s = {n / fc_s:.0f} forecast-days/s, "
          f"{rows / fc_s / 1e6:.2f} M rows/s ({rows:,} rows)")

    if a.cli:
        env = {**os.environ, "DAGSTER_HOME": str(tmp / "dh"), "FORECAST_DUCKDB_PATH": str(settings.duckdb_path),
               "FORECAST_ARTIFACT_DIR": str(settings.artifact_dir), "FORECAST_COMMODITIES": a.commodities}
        (tmp / "dh").mkdir(exist_ok=True)
        sel = ",".join(f"forecasts/{m}" for m in models)
        t = time.perf_counter()
        for c in commodities:
            subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m", "forecast_assets.definitions",
                            "--select", sel, "--partition-range", f"{c}|{start}...{c}|{end}", "-c", "/dev/null"],
                           env=env, check=True, capture_output=True)
        cli_s = time.perf_counter() - t
        print(f"dagster CLI (resume: every day already complete): {n} forecast-days in {cli_s:.1f} s")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
