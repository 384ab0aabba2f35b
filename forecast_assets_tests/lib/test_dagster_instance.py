"""dagster.yaml's instance class installs the patches in processes that never import the code location
(the webserver and the daemon load only the instance)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Loads the instance the way `dagster-webserver` / `dagster-daemon` do (DagsterInstance.get() from
# DAGSTER_HOME), then reports whether the lookups are Dagster's own or the patches.
PROBE = """
import json, sys
import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage
TWPD = dg.TimeWindowPartitionsDefinition
before = TWPD.get_partition_key_for_timestamp.__module__
with dg.DagsterInstance.get() as instance:
    pdef = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1,7 *", start="2018-01-01",
                                             fmt="%Y-%m-%d")
    print(json.dumps({
        "before": before,
        "instance": type(instance).__name__,
        "lookup": TWPD.get_partition_key_for_timestamp.__module__,
        "iterate": TWPD._iterate_time_windows.__module__,
        "event_log": SqliteEventLogStorage.store_event_batch.__module__,
        "definitions_imported": "forecast_assets.definitions" in sys.modules,
        "run_queue": instance.get_concurrency_config().run_queue_config.max_concurrent_runs,
        "pool_default": instance.get_concurrency_config().pool_config.default_pool_limit,
        "key": pdef.get_partition_key_for_timestamp(1530403200.0),
    }))
"""


def test_loading_the_instance_alone_installs_the_patches(tmp_path):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    out = subprocess.run([sys.executable, "-c", PROBE], env={"DAGSTER_HOME": str(tmp_path), "PATH": ""},
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"].startswith("dagster.")  # nothing patched before the instance loads
    assert seen["instance"] == "ForecastInstance"
    assert not seen["definitions_imported"]
    assert seen["lookup"] == seen["iterate"] == "forecast_assets.lib.dagster_patches.partition_lookup"
    assert seen["event_log"] == "forecast_assets.lib.dagster_patches.event_log"
    # The instance class leaves dagster.yaml's `concurrency:` as it is.
    assert (seen["run_queue"], seen["pool_default"]) == (4, 2)
    assert seen["key"] == "2018-07-01"  # 2018-07-01 00:00 UTC is the second window's start


def test_the_production_instance_names_the_same_class():
    # deploy/dagster.yaml needs Postgres (not here), so only what it names is checked.
    local, prod = (yaml.safe_load((ROOT / p).read_text()) for p in ("dagster.yaml", "deploy/dagster.yaml"))
    assert prod["instance_class"] == local["instance_class"]
