"""`make bench`: the performance targets on this machine, one line each (issue 17's, raised from issue 5's).

    python bench/perf.py [--dir DIR] [--start 2018-01-01] [--end 2025-11-17] [--skip-quality]

In a fresh folder (DuckDB file, Dagster home with the repo's dagster.yaml, the
synthetic sample), through the same `dagster asset materialize` a user runs, one
run per commodity at once (as a UI backfill launches them):
  1. the full workload: every model's forecasts for every day start..end,   <= 40 s (was 60)
     (the members' and their actuals, then the ensemble's weights per window and its forecasts: issue 15)
  2. training every model for every semiannual window,                      <= 60 s (was 120)
  3. the daily schedule's runs: one day, every commodity and model,         <= 6 s (was 15)
  4. peak memory of any run (max RSS of the run processes),                 <= 2 GB (was 4)
  5. fast vs straightforward on a subset, side by side in this run,         >= 30x (was 20x)
  6. the forecast explorer's page of one day (every model) on the full store, <= 500 ms
Times are wall clock from process start to the last row committed. Then the
95% coverage and mean CRPS of each model over the full workload.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

MODELS = ("naive", "xgboost", "sarimax_auto_weather")
ENSEMBLE = "ensemble"  # combined from the members' stored paths: after them (issue 15)
COMMODITIES = ("Coffee", "Sugar")
# Issue 17's targets: issue 5's (60 s, 120 s, 15 s, 4 GB, 20x) were all met on a quiet machine, so raised.
TARGETS = {"full": 40, "training": 60, "daily": 6, "memory": 2, "ratio": 30, "explorer_ms": 500}


def _env(tmp: Path) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(tmp / "dagster_home"), "FORECAST_DATA_DIR": str(tmp / "data"),
            "FORECAST_COMMODITIES": ",".join(COMMODITIES)}


def _materialize(env, select: str, partition_args: list[list[str]], log: Path) -> float:
    """One `dagster asset materialize` per argument list, all at once; wall seconds until all end."""
    exe = str(Path(sys.executable).parent / "dagster")
    t0 = time.perf_counter()
    procs = []
    for i, args in enumerate(partition_args):
        out = open(log.with_suffix(f".{i}.log"), "w")
        procs.append((subprocess.Popen([exe, "asset", "materialize", "-m", "forecast_assets.definitions",
                                        "--select", select, *args], env=env, stdout=out, stderr=subprocess.STDOUT),
                      out))
    bad = []
    for p, out in procs:
        if p.wait() != 0:
            bad.append(out.name)
        out.close()
    seconds = time.perf_counter() - t0
    if bad:
        raise SystemExit(f"run failed, see {', '.join(bad)}")
    return seconds


def _line(name: str, figure: float, unit: str, limit: float, higher_is_better: bool = False) -> bool:
    ok = figure >= limit if higher_is_better else figure <= limit
    rel = ">=" if higher_is_better else "<="
    print(f"{name:58s} {figure:9.1f} {unit:3s} target {rel} {limit:g} {unit:3s} {'PASS' if ok else 'FAIL'}",
          flush=True)
    return ok


def _copy_synced(src: Path, dst: Path) -> None:
    """Copy the store and flush the copy to disk: otherwise the first commit timed after it (DuckDB
    syncs the file) waits for ~2 GB of the copy's own writeback, a cost of the bench, not of a run."""
    shutil.copy(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ratio(tmp: Path, days: list[date], window: date) -> tuple[float, float]:
    """Seconds per forecast-day, fast and straightforward, for Coffee x every model over `days`.

    Timed fast, straightforward, fast again (A-B-A), the fast figure the mean of its two passes: the
    straightforward side takes about a minute, over which this machine's CPU speed has moved by up
    to 2x (BENCHMARKS.md, session 8), and a drift that is linear over the three passes cancels."""
    import dataclasses

    import straightforward
    from forecast_assets.runs import forecasting
    from forecast_assets.config import Settings
    from forecast_assets.storage.duckdb_store import DuckDBStore

    src = tmp / "data" / "forecast.duckdb"
    runs = {}
    for side in ("fast", "straightforward"):
        path = tmp / f"ratio-{side}.duckdb"
        _copy_synced(src, path)
        settings = dataclasses.replace(Settings.from_env(_env(tmp)), duckdb_path=path)
        store = DuckDBStore(path)

        def run(m, days_, side=side, store=store, settings=settings):
            if side == "fast":
                forecasting.forecast_days(store, settings, m, "Coffee", days_, force=True)
            else:
                straightforward.forecast_days(store, settings, m, "Coffee", days_, window)

        # One day of every model first, untimed, on this side's copy: one-time costs (importing statsmodels,
        # building the exchange calendar's sessions, DuckDB's first commit to a file it has not written yet:
        # ~1.5 s in all) are not per forecast-day, and would otherwise land on whichever side runs first.
        # Then the first model over the whole subset, untimed too: a process's first large write touches
        # ~150 MB of memory for the first time (38,000 minor page faults against 7,000-9,000 for the same
        # write again, measured), 0.3-0.6 s on this VM, once per process. The Dagster lines above include
        # all of these, as a user's runs pay them.
        for m in MODELS:
            run(m, days[:1])
        run(MODELS[0], days)
        runs[side] = run

    def timed(run) -> float:
        t = 0.0
        for m in MODELS:
            t0 = time.perf_counter()
            run(m, days)
            t += time.perf_counter() - t0
        return t / (len(days) * len(MODELS))

    fast_1 = timed(runs["fast"])
    slow = timed(runs["straightforward"])
    fast_2 = timed(runs["fast"])  # each pass writes a new vintage of the same days: the same work
    for side in runs:
        (tmp / f"ratio-{side}.duckdb").unlink()
    print(f"  fast side before and after the straightforward one: {fast_1 * 1e3:.2f} and {fast_2 * 1e3:.2f} ms "
          f"per forecast-day", flush=True)
    return (fast_1 + fast_2) / 2, slow


def explorer_page(db: Path, commodity: str, day: date, repeats: int = 15) -> tuple[float, float]:
    """Median and worst seconds of the explorer's page of one day, every model, over `repeats`: its reads
    (point rows, sample paths, history) from the read-only store, the fan chart and the table, and the
    figure as the JSON the browser receives. (Timed alone: `python bench/perf.py --explorer-only --dir DIR`
    on a folder a previous `--dir` run kept.)"""
    import statistics

    from plotly.io.json import to_json_plotly as to_json  # what Dash serializes a callback's output with

    from forecast_assets.explorer import figures, queries, tables
    from forecast_assets.storage.duckdb_store import DuckDBStore

    store = DuckDBStore(db, read_only=True)
    times = []
    for _ in range(repeats + 1):  # the first one warms the imports and the OS's file cache: not counted
        t0 = time.perf_counter()
        page = queries.load_day(store, commodity, list(MODELS), "v1.0", day, vintages=store.has_vintages())
        to_json([figures.fan_chart(page, store.horizon), tables.step_rows(page.points)])
        times.append(time.perf_counter() - t0)
    if page.points.empty:
        raise SystemExit(f"no forecast of {commodity} on {day} in {db}")
    return statistics.median(times[1:]), max(times[1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="work folder (default: a new temporary folder, removed at the end)")
    ap.add_argument("--start", default="2018-01-01")
    ap.add_argument("--end", default="2025-11-17")
    ap.add_argument("--ratio-days", type=int, default=181,
                    help="days of the side-by-side subset (default: one semiannual window, train once, infer many)")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--explorer-only", action="store_true",
                    help="only line 6, on the store of a previous run kept with --dir")
    ap.add_argument("--quality-from", default="2023-01-01",
                    help="also print quality from this day on (the period BENCHMARKS.md compares with the old code)")
    a = ap.parse_args()
    start, end = date.fromisoformat(a.start), date.fromisoformat(a.end)
    tmp = Path(a.dir or tempfile.mkdtemp(prefix="forecast-perf-"))
    if a.explorer_only:
        if not a.dir:
            raise SystemExit("--explorer-only needs --dir, the folder of a previous run")
        return 0 if _explorer_line(tmp / "data" / "forecast.duckdb", end) else 1
    (tmp / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", tmp / "dagster_home" / "dagster.yaml")
    env = _env(tmp)
    # Create the instance's SQLite storage once: two runs creating it at once race on its schema.
    subprocess.run([str(Path(sys.executable).parent / "dagster"), "instance", "info"], env=env, check=True,
                   capture_output=True)
    cli = str(Path(sys.executable).parent / "forecast-assets")
    subprocess.run([cli, "load-sample", "--end", str(end + timedelta(days=45)),
                    # XGBoost needs 1,050 trading days before its first window (2018-01-01).
                    "--start", "2013-01-02"], env=env, check=True,
                   capture_output=True)
    from forecast_assets.core.calendar import windows_between

    windows = windows_between(start, end)
    n_days = (end - start).days + 1
    print(f"bench: {len(COMMODITIES)} commodities x {len(MODELS)} models x {n_days} days ({start}..{end}), "
          f"{len(windows)} windows, {os.cpu_count()} cores, in {tmp}", flush=True)

    results = []
    train_s = _materialize(env, ",".join(f"trained_models/{m}" for m in MODELS),
                           [["--partition-range", f"{c}|{windows[0]}...{c}|{windows[-1]}"] for c in COMMODITIES],
                           tmp / "train")
    # The members' forecasts, and their actuals in the same runs (same partitions; after the forecasts): the
    # ensemble's weights learn from them. Then its weights (window partitions: runs of their own; each
    # `dagster asset materialize` costs ~13 s of start-up on a loaded 2-core machine) and its forecasts.
    days_range = [["--partition-range", f"{c}|{start}...{c}|{end}"] for c in COMMODITIES]
    full_s = _materialize(env, ",".join([*(f"forecasts/{m}" for m in MODELS), "actuals"]), days_range, tmp / "full")
    ens_s = _materialize(env, f"trained_models/{ENSEMBLE}",
                         [["--partition-range", f"{c}|{windows[0]}...{c}|{windows[-1]}"] for c in COMMODITIES],
                         tmp / "ens_weights")
    ens_s += _materialize(env, f"forecasts/{ENSEMBLE}", days_range, tmp / "ens_full")
    print(f"  members and actuals {full_s:.1f} s, then the ensemble's weights and forecasts {ens_s:.1f} s", flush=True)
    full_s += ens_s
    from forecast_assets.storage.duckdb_store import DuckDBStore

    store = DuckDBStore(tmp / "data" / "forecast.duckdb")
    written = store.forecasts_summary()  # before the daily run adds a day (one model version here)
    print(f"  full workload wrote {int(written['distribution_rows'].sum()):,} distribution rows for "
          f"{int(written['days'].sum()):,} forecast-days", flush=True)
    day = end + timedelta(days=1)
    daily_s = _materialize(env, ",".join(f"forecasts/{m}" for m in (*MODELS, ENSEMBLE)),
                           [["--partition", f"{c}|{day}"] for c in COMMODITIES], tmp / "daily")
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6  # KiB -> GB, largest run process


    w = windows[-2] if len(windows) > 1 else windows[-1]
    subset = [w + timedelta(days=i) for i in range(a.ratio_days)]
    fast, slow = ratio(tmp, subset, w)
    print(f"  subset Coffee x {len(MODELS)} models x {len(subset)} days from {subset[0]}: "
          f"fast {fast * 1e3:.1f} ms, straightforward {slow * 1e3:.1f} ms per forecast-day", flush=True)

    print()
    results.append(_line(f"1. full workload through Dagster ({len(COMMODITIES) * (len(MODELS) + 1) * n_days:,} "
                         f"forecast-days, the ensemble's included)",
                         full_s, "s", TARGETS["full"]))
    results.append(_line(f"2. training {len(COMMODITIES) * len(MODELS) * len(windows)} models through Dagster",
                         train_s, "s", TARGETS["training"]))
    results.append(_line("3. daily schedule's runs (1 day, every commodity x model)", daily_s, "s", TARGETS["daily"]))
    results.append(_line("4. peak memory of any run", peak_gb, "GB", TARGETS["memory"]))
    results.append(_line("5. fast vs straightforward, same subset, same run", slow / fast, "x", TARGETS["ratio"], True))
    results.append(_explorer_line(tmp / "data" / "forecast.duckdb", end))

    if not a.skip_quality:
        from quality import quality

        for first in (start, date.fromisoformat(a.quality_from)):
            print(f"\nquality {first}..{end} (weekday starts, mean over horizons 1..14):")
            for r in quality(store, COMMODITIES, first, end, score=first == start).itertuples():
                print(f"  {r.commodity:8s} {r.model_name:22s} coverage_95 {r.coverage_95:6.3f}  "
                      f"mean CRPS {r.crps:8.4f}  ({r.n_forecasts} forecasts per horizon)")
    if not a.dir:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(results) else 1


def _explorer_line(db: Path, end: date) -> bool:
    # A weekday two months before the end: its steps' actuals are stored when the run attached them.
    day = end - timedelta(days=60)
    day -= timedelta(days=max(0, day.weekday() - 4))
    median_s, worst_s = explorer_page(db, COMMODITIES[0], day)
    print(f"  explorer page of {COMMODITIES[0]} {day}, {len(MODELS)} models: median {median_s * 1e3:.0f} ms, "
          f"worst {worst_s * 1e3:.0f} ms", flush=True)
    return _line("6. explorer: a day's page (reads + fan chart + table)", median_s * 1e3, "ms", TARGETS["explorer_ms"])


if __name__ == "__main__":
    sys.exit(main())
