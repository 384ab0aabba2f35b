"""The real databricks_pyspark_step_launcher, end to end, against a local stand-in of the Databricks
Jobs and DBFS REST APIs (databricks_standin.py) on 127.0.0.1: `dagster asset materialize` in a
subprocess uploads the step to "DBFS", submits a run, the stand-in runs databricks_step_main.py for
real, and the launcher polls, reads back the events and logs. The cluster spec is the project's own
deploy/databricks/training_launcher.yaml; the code location is a tiny module written to tmp_path."""

import json
import os
import subprocess
import shutil
import sys
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from forecast_assets.defs.launchers import TRAINING, launcher_config

from .databricks_standin import DatabricksStandIn

pytestmark = pytest.mark.slow

TOKEN = "dapi-standin-not-a-real-token"
MODULE = "standin_e2e_code"
RESOURCE = "remote"

CODE = '''\
import json, os
import dagster as dg
from dagster_databricks import databricks_pyspark_step_launcher

LAUNCHER_CONFIG = json.loads({config!r})
FAIL = {fail!r}


@dg.asset(required_resource_keys={{"{resource}"}})
def remote_asset(context):
    if FAIL:
        raise ModuleNotFoundError("No module named 'pmdarima'")
    with open(os.environ["STANDIN_MARKER"], "w") as f:
        json.dump({{"pid": os.getpid(), "module_file": __file__, "forecast_env": os.environ.get("FORECAST_ENV"),
                   "secret": os.environ.get("DATABRICKS_TOKEN")}}, f)
    return dg.MaterializeResult(metadata={{"remote_pid": os.getpid()}})


defs = dg.Definitions(assets=[remote_asset],
                      resources={{"{resource}": databricks_pyspark_step_launcher.configured(LAUNCHER_CONFIG)}})
'''


def _launcher_config(url, code_dir, marker):
    """The project's training launcher config (cluster spec, libraries, secrets), pointed at the stand-in."""
    cfg = launcher_config(TRAINING, {})
    cfg |= {"databricks_host": url, "databricks_token": TOKEN, "local_dagster_job_package_path": str(code_dir),
            "staging_prefix": "/dagster_staging/e2e", "poll_interval_sec": 1,
            "max_completion_wait_time_seconds": 120}
    cfg["env_variables"] = {**cfg.get("env_variables", {}), "STANDIN_MARKER": str(marker)}
    return cfg


@pytest.fixture
def code_dir():
    """The shipped package root. NOT under tmp_path: build_pyspark_zip drops every file whose absolute
    path matches `.*pytest.*` (and `.*/venv/.*`), so code below /tmp/pytest-of-*/ ships as an empty zip."""
    d = Path(tempfile.mkdtemp(prefix="dbx-standin-code-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _materialize(tmp_path, code_dir, fail):
    home, marker = tmp_path / "home", tmp_path / "marker.json"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (code_dir / MODULE).mkdir(parents=True)
    standin = DatabricksStandIn(tmp_path / "standin", token=TOKEN,
                                secrets={"forecast-assets/token": "remote-secret-from-scope"}).start()
    try:
        cfg = _launcher_config(standin.url, code_dir, marker)
        (code_dir / MODULE / "__init__.py").write_text(
            CODE.format(config=json.dumps(cfg), fail=fail, resource=RESOURCE))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DATABRICKS_", "DAGSTER_", "FORECAST_")) and "proxy" not in k.lower()}
        env |= {"DAGSTER_HOME": str(home), "PYTHONPATH": str(code_dir), "NO_PROXY": "127.0.0.1,localhost"}
        proc = subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m", MODULE,
                               "--select", "remote_asset"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        return proc, standin, home, marker
    finally:
        standin.stop()


def _events(home, event_type):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        return instance.get_records_for_run(run_id=run.run_id, of_type=event_type).records, run


def test_launcher_runs_the_step_remotely_and_reports_back(tmp_path, code_dir):
    proc, standin, home, marker = _materialize(tmp_path, code_dir, fail=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]

    calls = standin.calls()
    uploads = [b["path"] for m, p, b in standin.bodies if p.endswith("/dbfs/create")]
    assert [Path(u).name for u in uploads] == ["databricks_step_main.py", "code.zip", "step_run_ref.pkl", "config.pkl"]
    assert all(u.startswith("/dagster_staging/e2e/") for u in uploads)
    assert calls.count(("POST", "jobs/runs/submit")) == 1
    first = calls.index(("POST", "jobs/runs/submit"))
    assert all(c[1] in ("dbfs/create", "dbfs/add-block", "dbfs/close") for c in calls[:first])
    assert ("GET", "dbfs/read") in calls[first:] and ("POST", "jobs/runs/cancel") not in calls

    (run,) = standin.runs.values()
    task = run.spec["tasks"][0]
    cluster = task["new_cluster"]
    assert cluster["num_workers"] == 0 and cluster["node_type_id"] == "i3.xlarge"
    assert "-cpu-ml-" in cluster["spark_version"]
    assert cluster["custom_tags"]["ResourceClass"] == "SingleNode" and "__dagster_version" in cluster["custom_tags"]
    assert {"pypi": {"package": "pmdarima==2.1.1"}} in task["libraries"]
    assert task["spark_python_task"]["python_file"].endswith("/databricks_step_main.py")
    assert run.spec["run_name"] == "forecast-assets training"
    assert run.states_served[0] == "PENDING" and "RUNNING" in run.states_served
    assert run.states_served[-1] == "TERMINATED" and run.result_state == "SUCCESS"

    # The step ran in the stand-in's subprocess, from the uploaded zip, with the shipped env and secret.
    remote = json.loads(marker.read_text())
    assert remote["pid"] != os.getpid() and not remote["module_file"].startswith(str(code_dir))
    assert remote["forecast_env"] == "databricks" and remote["secret"] == "remote-secret-from-scope"

    mats, dagster_run = _events(home, dg.DagsterEventType.ASSET_MATERIALIZATION)
    assert dagster_run.status == dg.DagsterRunStatus.SUCCESS
    (mat,) = mats
    m = mat.event_log_entry.asset_materialization
    assert m.asset_key == dg.AssetKey("remote_asset") and m.metadata["remote_pid"].value == remote["pid"]
    engine, _ = _events(home, dg.DagsterEventType.ENGINE_EVENT)
    urls = [e.event_log_entry.dagster_event.engine_event_data.metadata.get("databricks_run_url") for e in engine]
    assert any(u and u.value.startswith(standin.url) for u in urls)


def test_a_remote_import_error_fails_the_run_with_its_message(tmp_path, code_dir):
    proc, standin, home, marker = _materialize(tmp_path, code_dir, fail=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "No module named 'pmdarima'" in out
    assert not marker.exists()
    assert ("POST", "jobs/runs/submit") in standin.calls()
    # Dagster catches the step's error on the "cluster": the Databricks run itself ends SUCCESS and the
    # failure travels back as a STEP_FAILURE event in the events file plus the captured stderr.
    (run,) = standin.runs.values()
    assert run.result_state == "SUCCESS"
    failures, dagster_run = _events(home, dg.DagsterEventType.STEP_FAILURE)
    assert dagster_run.status == dg.DagsterRunStatus.FAILURE
    assert "No module named 'pmdarima'" in str(failures[0].event_log_entry.dagster_event.step_failure_data.error)
