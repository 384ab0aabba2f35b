"""The project's step launcher (dagster-databricks' databricks_pyspark_step_launcher plus
defs/databricks_launcher.py), end to end, against a local stand-in of the Databricks Jobs and DBFS
REST APIs and the Files API (databricks_standin.py) on 127.0.0.1: `dagster asset materialize` in a
subprocess uploads the step to the Unity Catalog staging volume (or DBFS), submits a run, the stand-in
runs databricks_step_entry.py (the remote check, then upstream's databricks_step_main.py) for real, and the
launcher polls, reads back the events and logs. The cluster spec is the project's own
deploy/databricks/training_launcher.yaml. The first tests use a tiny code location written to a
temp folder; the last one the project's code location itself, on a cluster that lacks a library."""

import json
import os
import shutil
from importlib import metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import dagster as dg
import pytest
import yaml

from forecast_assets.config import Settings
from forecast_assets.defs import cluster_libraries
from forecast_assets.defs.launchers import BACKFILL, PACKAGE_DIR, TRAINING, launcher_config

from .databricks_standin import FILES, DatabricksStandIn

pytestmark = pytest.mark.slow

TOKEN = "dapi-standin-not-a-real-token"
MODULE = "standin_e2e_code"
RESOURCE = "remote"

REPO = PACKAGE_DIR.parent

CODE = '''\
import json, os
import dagster as dg
from forecast_assets.defs.databricks_launcher import Timeouts, forecast_step_launcher

LAUNCHER_CONFIG = json.loads({config!r})
TIMEOUTS = json.loads({timeouts!r})
FAIL = {fail!r}
PACKAGES = json.loads({packages!r})


@dg.asset(required_resource_keys={{"{resource}"}})
def remote_asset(context):
    if FAIL:
        raise ModuleNotFoundError("No module named 'pmdarima'")
    with open(os.environ["STANDIN_MARKER"], "w") as f:
        json.dump({{"pid": os.getpid(), "module_file": __file__, "forecast_env": os.environ.get("FORECAST_ENV"),
                   "secret": os.environ.get("DATABRICKS_TOKEN")}}, f)
    return dg.MaterializeResult(metadata={{"remote_pid": os.getpid()}})


defs = dg.Definitions(assets=[remote_asset], resources={{"{resource}": forecast_step_launcher(
    "deploy/databricks/training_launcher.yaml", PACKAGES, Timeouts(**TIMEOUTS)).configured(LAUNCHER_CONFIG)}})
'''


def _launcher_config(url, code_dir, marker, staging=None):
    """The project's training launcher config (cluster spec, libraries, secrets, staging on the UC volume unless
    `staging` says otherwise), pointed at the stand-in."""
    cfg = launcher_config(TRAINING, Settings.from_env({}), {})
    cfg |= {"databricks_host": url, "databricks_token": TOKEN, "local_dagster_job_package_path": str(code_dir),
            "poll_interval_sec": 1, "max_completion_wait_time_seconds": 120}
    if staging:
        cfg["staging_prefix"] = staging
    cfg["env_variables"] = {**cfg.get("env_variables", {}), "STANDIN_MARKER": str(marker)}
    return cfg


@pytest.fixture
def code_dir(tmp_path):
    """Where the tiny code location lives. Under /tmp/pytest-of-*/ on purpose: upstream, build_pyspark_zip
    drops every path matching `.*pytest.*`, so this code shipped as an empty zip; the project's launcher
    ships a staged copy instead."""
    d = tmp_path / "code"
    d.mkdir()
    return d


def _host_env(home, **extra):
    """The Dagster host's environment: none of ours or a proxy, this checkout's package first."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABRICKS_", "DAGSTER_", "FORECAST_")) and "proxy" not in k.lower()}
    return env | {"DAGSTER_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost", **extra}


def _shipped(standin):
    """The files in the code.zip the launcher uploaded (to DBFS or the volume: both under the stand-in's root)."""
    (zip_path,) = standin.dbfs_root.rglob("code.zip")
    with zipfile.ZipFile(zip_path) as zf:
        return zf.namelist()


def _materialize(tmp_path, code_dir, fail, staging=None, timeouts=None, host=None, **standin_options):
    """`dagster asset materialize` of the tiny code location, its step launched to a stand-in (made with
    standin_options), or to `host` when given. Returns (process, stand-in, DAGSTER_HOME, marker file)."""
    home, marker = tmp_path / "home", tmp_path / "marker.json"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (code_dir / MODULE).mkdir(parents=True)
    standin = DatabricksStandIn(tmp_path / "standin", token=TOKEN,
                                secrets={"forecast-assets/token": "remote-secret-from-scope"}, **standin_options).start()
    try:
        cfg = _launcher_config(host or standin.url, code_dir, marker, staging)
        packages = json.dumps([str(code_dir / MODULE), str(PACKAGE_DIR)])
        (code_dir / MODULE / "__init__.py").write_text(
            CODE.format(config=json.dumps(cfg), fail=fail, resource=RESOURCE, packages=packages,
                        timeouts=json.dumps(timeouts or {})))
        env = _host_env(home, PYTHONPATH=os.pathsep.join([str(code_dir), str(REPO)]))
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

    # Staged on the Unity Catalog volume through the Files API (no DBFS call at all), after one request that
    # checks the workspace answers.
    calls = standin.calls()
    staging = f"{Settings().databricks_volume}/steps/"
    uploads = [p.removeprefix(FILES) for m, p in standin.requests if m == "PUT" and p.startswith(FILES)]
    assert [Path(u).name for u in uploads] == ["databricks_step_entry.py", "code.zip", "step_run_ref.pkl",
                                               "config.pkl"]
    assert all(u.startswith(staging) for u in uploads)
    assert not any(c[1].startswith("dbfs/") for c in calls)
    shipped = _shipped(standin)  # the two packages and nothing else (no .venv, .git, tests)
    assert f"{MODULE}/__init__.py" in shipped and "forecast_assets/defs/databricks_launcher.py" in shipped
    assert {n.split("/")[0] for n in shipped} == {MODULE, "forecast_assets"}
    assert not any("__pycache__" in n for n in shipped)
    assert calls.count(("POST", "jobs/runs/submit")) == 1
    first = calls.index(("POST", "jobs/runs/submit"))
    assert calls[0] == ("GET", "preview/scim/v2/Me")
    assert all(m == "PUT" and p.startswith(FILES) for m, p in standin.requests[1:first])
    assert any(m == "GET" and p.startswith(FILES + staging) for m, p in standin.requests[first:])  # events read back
    assert ("POST", "jobs/runs/cancel") not in calls

    (run,) = standin.runs.values()
    task = run.spec["tasks"][0]
    cluster = task["new_cluster"]
    assert cluster["num_workers"] == 0 and cluster["node_type_id"] == "i3.xlarge"
    assert cluster["spark_version"] == "17.3.x-cpu-ml-scala2.13"
    assert cluster["custom_tags"]["ResourceClass"] == "SingleNode" and "__dagster_version" in cluster["custom_tags"]
    # The exact pins, and databricks-sdk, which dagster-databricks adds at the version this host runs.
    sdk = {"pypi": {"package": f"databricks-sdk=={metadata.version('databricks-sdk')}"}}
    assert [lib for lib in task["libraries"] if lib != sdk] == cluster_libraries.LIBRARIES
    python_task = task["spark_python_task"]
    assert python_task["python_file"] == uploads[0]  # the remote check first, on the volume
    assert f"--forecast-python={sys.version_info[0]}.{sys.version_info[1]}" in python_task["parameters"]
    assert all(p.startswith(staging) for p in python_task["parameters"][:3])
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
    """Staged on DBFS here (a staging_prefix outside /Volumes): the way of workspaces that still have a DBFS root."""
    proc, standin, home, marker = _materialize(tmp_path, code_dir, fail=True, staging="/dagster_staging/e2e")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "No module named 'pmdarima'" in out
    assert not marker.exists()
    assert ("POST", "jobs/runs/submit") in standin.calls()
    assert ("POST", "dbfs/create") in standin.calls() and not any(p.startswith(FILES) for _, p in standin.requests)
    # Dagster catches the step's error on the "cluster": the Databricks run itself ends SUCCESS and the
    # failure travels back as a STEP_FAILURE event in the events file plus the captured stderr.
    (run,) = standin.runs.values()
    assert run.result_state == "SUCCESS"
    failures, dagster_run = _events(home, dg.DagsterEventType.STEP_FAILURE)
    assert dagster_run.status == dg.DagsterRunStatus.FAILURE
    data = failures[0].event_log_entry.dagster_event.step_failure_data
    assert "No module named 'pmdarima'" in str(data.error)
    # The launcher adds the run's Databricks URL to the failure the remote step reported.
    assert data.user_failure_data.metadata["databricks_run_url"].value == f"{standin.url}/#job/1/run/{run.run_id}"


def test_a_library_missing_on_the_cluster_fails_the_step_with_cause_hint_and_url(tmp_path):
    """The project's code location under FORECAST_ENV=databricks, with a training spec that forgot
    orjson on a runtime without it: the remote step dies while Dagster loads the code location
    (forecast_assets.definitions imports orjson, which parses fitted models), before any step event is
    written. The step fails with the cause, a hint naming the library and the spec file, and the run's URL."""
    home, deploy = tmp_path / "home", tmp_path / "deploy"
    home.mkdir()
    deploy.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    spec = yaml.safe_load((REPO / "deploy" / "databricks" / f"{TRAINING}.yaml").read_text())
    # A spec with its own `libraries` (it replaces the generated pins) that forgot one.
    spec["run_config"]["libraries"] = [lib for lib in cluster_libraries.LIBRARIES
                                       if "orjson" not in lib["pypi"]["package"]]
    spec |= {"poll_interval_sec": 1, "max_completion_wait_time_seconds": 120}
    (deploy / f"{TRAINING}.yaml").write_text(yaml.safe_dump(spec))
    shutil.copy(REPO / "deploy" / "databricks" / f"{BACKFILL}.yaml", deploy)
    standin = DatabricksStandIn(tmp_path / "standin", token=TOKEN, not_in_runtime={"orjson": "orjson"},
                                secrets={"forecast-assets/token": "remote-secret-from-scope"}).start()
    try:
        env = _host_env(home, PYTHONPATH=str(REPO), FORECAST_ENV="databricks", DATABRICKS_HOST=standin.url,
                        DATABRICKS_TOKEN=TOKEN, DATABRICKS_HTTP_PATH="/sql/1.0/warehouses/standin",
                        FORECAST_DATABRICKS_DEPLOY_DIR=str(deploy))
        proc = subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m",
                               "forecast_assets.definitions", "--select", "trained_models/naive",
                               "--partition", "Coffee|2024-01-01"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
    finally:
        standin.stop()
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    (run,) = standin.runs.values()
    assert run.result_state == "FAILED" and "No module named 'orjson'" in run.logs, run.logs[-3000:]
    assert {n.split("/")[0] for n in _shipped(standin)} == {"forecast_assets"}  # the package, nothing else

    failures, dagster_run = _events(home, dg.DagsterEventType.STEP_FAILURE)
    assert dagster_run.status == dg.DagsterRunStatus.FAILURE
    failure = failures[0].event_log_entry.dagster_event.step_failure_data.user_failure_data
    meta = {k: v.value for k, v in failure.metadata.items()}
    assert meta["cause"] == "missing library" and meta["library"] == "orjson"
    assert meta["error"] == "ModuleNotFoundError: No module named 'orjson'"
    assert 'package: "orjson==' in meta["hint"] and str(deploy / f"{TRAINING}.yaml") in meta["hint"]
    assert "make cluster-specs" in meta["hint"]
    assert meta["cluster_spec"] == str(deploy / f"{TRAINING}.yaml")
    assert meta["databricks_run_url"] == f"{standin.url}/#job/1/run/{run.run_id}"
    assert "Traceback" in meta["remote_stderr"]
    assert failure.description.startswith("missing library: ModuleNotFoundError: No module named 'orjson'")
    assert TOKEN not in json.dumps(meta) and "remote-secret-from-scope" not in json.dumps(meta)
