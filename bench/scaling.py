"""`make scaling`: how cost grows with commodities and partitions (issue 17, target 7).

    python bench/scaling.py [--compute 2,8,32] [--dagster 2,8,32,100] [--dir DIR]

1. Our compute: N synthetic commodities x every model x one semiannual window of days
   (2025-01-01..2025-06-30), trained and then forecast through the same `dagster asset materialize`
   a user runs, the commodities split over two runs at once (two cores). Prints forecast-days per
   second, the training's seconds, and the peak RSS of any run.
2. Dagster itself, as partitions grow: for N commodities x every day from FORECAST_START_DATE
   (2018-01-01) to today, the partitions of one forecast asset (Dagster's docs advise at most
   100,000 per asset), loading the definitions in a fresh process, the partition query the UI's
   asset page sends (GraphQL, against the code location served as `make ui` serves it), and
   launching a backfill of every partition of forecasts/naive (the UI's "Materialize all"; the
   launch only: no daemon runs it here).
A benchmark, not a test: it prints a table and judges nothing. BENCHMARKS.md has the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODELS = ("naive", "xgboost", "sarimax_auto_weather")
WINDOW, LAST_DAY = "2025-01-01", "2025-06-30"

PAGE_QUERY = """
query Page($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { __typename ... on AssetNode {
  partitionStats { numMaterialized numPartitions numFailed }
  partitionKeysByDimension { name partitionKeys }
  assetPartitionStatuses { __typename ... on MultiPartitionStatuses { primaryDimensionName ranges {
    primaryDimStartKey primaryDimEndKey secondaryDim { __typename
      ... on TimePartitionStatuses { ranges { startKey endKey status } } } } } } } } }
"""
LAUNCH = """
mutation Launch($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
  ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }
"""


def names(n: int) -> list[str]:
    return [f"Commodity{i:03d}" for i in range(n)]


def _env(folder: Path, commodities: list[str]) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(folder / "dagster_home"), "FORECAST_DATA_DIR": str(folder / "data"),
            "FORECAST_COMMODITIES": ",".join(commodities)}


def _home(folder: Path, env: dict) -> None:
    (folder / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", folder / "dagster_home" / "dagster.yaml")
    subprocess.run([str(BIN / "dagster"), "instance", "info"], env=env, check=True, capture_output=True)


def _runs(env: dict, select: str, ranges: list[str], log: Path) -> tuple[float, float]:
    """One `dagster asset materialize` per partition range, all at once: wall seconds and the largest
    max RSS (GB) of any of them (os.wait4 gives each child's own rusage)."""
    t0, procs = time.perf_counter(), {}
    for i, r in enumerate(ranges):
        out = open(log.with_suffix(f".{i}.log"), "w")
        p = subprocess.Popen([str(BIN / "dagster"), "asset", "materialize", "-m", "forecast_assets.definitions",
                              "--select", select, "--partition-range", r],
                             env=env, stdout=out, stderr=subprocess.STDOUT)
        procs[p.pid] = (p, out)
    peak, bad = 0.0, []
    while procs:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in procs:
            continue
        p, out = procs.pop(pid)
        out.close()
        peak = max(peak, usage.ru_maxrss / 1e6)  # KiB -> GB
        if os.waitstatus_to_exitcode(status) != 0:
            bad.append(out.name)
    if bad:
        raise SystemExit(f"run failed, see {', '.join(bad)}")
    return time.perf_counter() - t0, peak


def compute(n: int, folder: Path) -> dict:
    cs = names(n)
    env = _env(folder, cs)
    _home(folder, env)
    # XGBoost needs 1,050 trading days before its window.
    subprocess.run([str(BIN / "forecast-assets"), "load-sample", "--start", "2020-06-01", "--end", "2025-08-15"],
                   env=env, check=True, capture_output=True)
    halves = [cs[: (n + 1) // 2], cs[(n + 1) // 2:]]
    train_s, train_gb = _runs(env, ",".join(f"trained_models/{m}" for m in MODELS),
                              [f"{h[0]}|{WINDOW}...{h[-1]}|{WINDOW}" for h in halves if h], folder / "train")
    fc_s, fc_gb = _runs(env, ",".join(f"forecasts/{m}" for m in MODELS),
                        [f"{h[0]}|{WINDOW}...{h[-1]}|{LAST_DAY}" for h in halves if h], folder / "forecast")
    days = 181
    return {"commodities": n, "forecast_days": n * len(MODELS) * days, "forecast_s": fc_s,
            "forecast_days_per_s": n * len(MODELS) * days / fc_s, "train_models": n * len(MODELS),
            "train_s": train_s, "peak_gb": max(train_gb, fc_gb)}


def dagster_side(n: int, folder: Path) -> dict:
    cs = names(n)
    env = _env(folder, cs)
    _home(folder, env)
    probe = ("import time; t = time.perf_counter(); from forecast_assets.definitions import defs; "
             "import dagster as dg; g = defs.resolve_asset_graph(); t1 = time.perf_counter(); "
             "k = g.get(dg.AssetKey(['forecasts', 'naive'])).partitions_def.get_partition_keys(); "
             "print(len(k), t1 - t, time.perf_counter() - t1)")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
    process_s = time.perf_counter() - t0
    n_keys, load_s, keys_s = out.stdout.split()
    # The UI's side: the code location served out of process, queried through GraphQL in this process.
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "FORECAST_DATA_DIR", "FORECAST_COMMODITIES")})
    from dagster import DagsterInstance
    from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

    with DagsterInstance.get() as instance, \
            define_out_of_process_context(str(ROOT / "workspace.yaml"), None, instance) as ctx:
        key = {"path": ["forecasts", "naive"]}
        t0 = time.perf_counter()
        page = execute_dagster_graphql(ctx, PAGE_QUERY, {"key": key})
        page_s = time.perf_counter() - t0
        if page.errors:
            raise SystemExit(f"asset page query failed: {page.errors}")
        t0 = time.perf_counter()
        launch = execute_dagster_graphql(ctx, LAUNCH, {"p": {"assetSelection": [key], "allPartitions": True}})
        launch_s = time.perf_counter() - t0
        got = launch.data["launchPartitionBackfill"] if launch.data else None
        if launch.errors or not got or got["__typename"] != "LaunchBackfillSuccess":
            raise SystemExit(f"backfill launch failed: {launch.errors or got}")
    return {"commodities": n, "partitions": int(n_keys), "load_s": float(load_s), "process_s": process_s,
            "keys_s": float(keys_s), "page_s": page_s, "launch_s": launch_s}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compute", default="2,8,32", help="commodity counts for part 1 ('' to skip)")
    ap.add_argument("--dagster", default="2,8,32,100", help="commodity counts for part 2 ('' to skip)")
    ap.add_argument("--dir", help="work folder (default: a temporary folder, removed at the end)")
    a = ap.parse_args(argv)
    tmp = Path(a.dir or tempfile.mkdtemp(prefix="forecast-scaling-"))
    counts = [int(x) for x in a.compute.split(",") if x]
    if counts:
        print(f"1. compute: N commodities x {len(MODELS)} models x 181 days ({WINDOW}..{LAST_DAY}), "
              f"2 runs at once, {os.cpu_count()} cores", flush=True)
        print(f"  {'N':>4} {'forecast-days':>14} {'seconds':>8} {'per second':>11} {'trainings':>10} "
              f"{'seconds':>8} {'peak GB':>8}", flush=True)
        for n in counts:
            r = compute(n, tmp / f"compute-{n}")
            print(f"  {n:4d} {r['forecast_days']:14,d} {r['forecast_s']:8.1f} {r['forecast_days_per_s']:11.0f} "
                  f"{r['train_models']:10d} {r['train_s']:8.1f} {r['peak_gb']:8.2f}", flush=True)
    counts = [int(x) for x in a.dagster.split(",") if x]
    if counts:
        print("\n2. Dagster: N commodities x every day since FORECAST_START_DATE, per forecast asset", flush=True)
        print(f"  {'N':>4} {'partitions':>11} {'defs load s':>12} {'keys s':>7} {'process s':>10} "
              f"{'asset page s':>13} {'backfill launch s':>18}", flush=True)
        for n in counts:
            r = dagster_side(n, tmp / f"dagster-{n}")
            print(f"  {n:4d} {r['partitions']:11,d} {r['load_s']:12.2f} {r['keys_s']:7.2f} {r['process_s']:10.2f} "
                  f"{r['page_s']:13.2f} {r['launch_s']:18.2f}", flush=True)
    if not a.dir:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
