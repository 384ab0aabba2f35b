"""A backfill as the UI launches it, run by the real daemon: how many runs, how long, what lands.

    python bench/ui_backfill.py [--start 2024-01-01] [--end 2024-12-31]

Trains naive for the windows (directly, not timed), submits an asset backfill
of forecasts/naive for both commodities over the range (what the UI's
"Materialize selected" on a partition range does), starts `dagster-daemon run`
in its own process group, waits for the backfill, and prints the number of
runs and the rows written. Uses a temporary DAGSTER_HOME and database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from forecast_assets.runs import training
from forecast_assets.config import Settings
from forecast_assets.core.calendar import windows_between
from forecast_assets.core.sample import make_sample
from forecast_assets.storage.duckdb_store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--start", default="2024-01-01")
    ap.add_argument("--end", default="2024-12-31")
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    start, end = date.fromisoformat(a.start), date.fromisoformat(a.end)
    tmp = Path(tempfile.mkdtemp(prefix="forecast-ui-backfill-"))
    home = tmp / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "FORECAST_DUCKDB_PATH": str(tmp / "f.duckdb"),
           "FORECAST_ARTIFACT_DIR": str(tmp / "artifacts")}
    os.environ.update(env)
    settings = Settings.from_env()
    store = DuckDBStore(settings.duckdb_path)
    store.ensure_schema()
    store.replace_unified(make_sample(end=end + timedelta(days=40)))
    for c in settings.commodities:
        training.train_windows(store, settings, "naive", c, windows_between(start, end), created_by="bench")

    import dagster as dg
    from dagster._core.execution.backfill import PartitionBackfill

    from forecast_assets.definitions import defs

    instance = dg.DagsterInstance.get()
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    keys = [f"{c}|{d}" for c in settings.commodities for d in days]
    backfill_id = uuid.uuid4().hex[:8]
    instance.add_backfill(PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id, asset_graph=defs.resolve_asset_graph(), partition_names=keys,
        asset_selection=[dg.AssetKey(["forecasts", "naive"])], backfill_timestamp=time.time(), tags={},
        dynamic_partitions_store=instance, all_partitions=False, title="bench", description=None, run_config=None))
    print(f"backfill {backfill_id}: forecasts/naive, {len(keys)} partitions ({len(settings.commodities)} commodities "
          f"x {len(days)} days)")

    t0 = time.perf_counter()
    daemon = subprocess.Popen([str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(ROOT / "workspace.yaml")],
                              env=env, cwd=ROOT, stdout=open(tmp / "daemon.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        while time.perf_counter() - t0 < a.timeout:
            b = instance.get_backfill(backfill_id)
            if b.status.value not in ("REQUESTED", "CANCELING"):
                break
            time.sleep(2)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
    elapsed = time.perf_counter() - t0
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    n = store.forecasts_summary()  # one row per commodity (one model, one version): days are commodity-days
    print(f"status {instance.get_backfill(backfill_id).status.value} after {elapsed:.0f} s: {len(runs)} runs "
          f"({', '.join(sorted(r.status.value for r in runs))}); {int(n['days'].sum())} commodity-days, "
          f"{int(n['point_rows'].sum())} point rows written")
    return 0 if len(runs) and all(r.status.value == "SUCCESS" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
