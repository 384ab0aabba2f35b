"""The step launcher's bounded waits and its remote check, end to end against the stand-in
(databricks_standin.py): a host that never answers, an upload that stops half way, a cluster that
never starts, a workspace that goes silent while a run is polled, and a cluster on another Python.
Each ends in a step failure naming the host, the step and what to check, in seconds (the limits here
are a few seconds; the SDK alone retries for 5 minutes, and a silent host held the run for longer),
and never showing the token. Times are measured from the launcher's first message to the failure;
the bounds leave room for a loaded machine."""

import json
import shutil
import sys
from pathlib import Path

import dagster as dg
import pytest

from forecast_assets.defs.databricks_step_entry import mismatches

from .databricks_standin import silent_host
from .test_databricks_launcher_e2e import TOKEN, _events, _materialize, code_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.slow

# Short limits so that each case ends in seconds; the defaults are in config.py (deploy/README.md says why).
TIMEOUTS = {"connect": 2, "upload": 4, "start": 4, "poll": 4}


def _failure(home):
    """(failure description, metadata, seconds from the launcher's first message to the failure) of the run's step."""
    failures, run = _events(home, dg.DagsterEventType.STEP_FAILURE)
    assert run.status == dg.DagsterRunStatus.FAILURE
    with dg.DagsterInstance.from_config(str(home)) as instance:
        began = [e.timestamp for e in instance.all_logs(run.run_id) if "Databricks: checking that" in e.user_message]
    entry = failures[0].event_log_entry
    data = entry.dagster_event.step_failure_data
    user = data.user_failure_data
    meta = {k: v.value for k, v in user.metadata.items()} if user else {}
    return (user.description if user else str(data.error)), meta, entry.timestamp - began[0]


def _check_failure(proc, home, phase, host, max_seconds):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    description, meta, seconds = _failure(home)
    assert meta["cause"] == f"databricks {phase} timeout" and meta["host"] == host and meta["step"] == "remote_asset"
    assert meta["setting"] == f"FORECAST_DATABRICKS_{phase.upper()}_TIMEOUT"
    assert host in description and "remote_asset" in description and "check:" in description
    assert seconds < max_seconds, f"{phase}: failed after {seconds:.1f} s"
    assert TOKEN not in out and TOKEN not in json.dumps(meta) and TOKEN not in description
    return description, meta, seconds


def test_a_host_that_does_not_answer_fails_within_the_connect_timeout(tmp_path, code_dir):  # noqa: F811
    with silent_host() as host:
        proc, standin, home, _ = _materialize(tmp_path, code_dir, fail=False, timeouts=TIMEOUTS, host=host)
        description, meta, seconds = _check_failure(proc, home, "connect", host, max_seconds=8)
    assert "could not reach the workspace within 2 s" in description and "DATABRICKS_HOST" in meta["hint"]
    assert standin.requests == []  # nothing went anywhere else


def test_an_upload_that_stops_half_way_fails_within_the_upload_timeout(tmp_path, code_dir):  # noqa: F811
    proc, standin, home, _ = _materialize(tmp_path, code_dir, fail=False, timeouts=TIMEOUTS, stall_upload_of="code.zip")
    description, meta, seconds = _check_failure(proc, home, "upload", standin.url, max_seconds=12)
    assert "could not upload the step's files within 4 s" in description and "WRITE VOLUME" in meta["hint"]
    assert standin.stalled_bytes and standin.stalled_bytes > 0  # it stopped in the middle of code.zip
    assert ("POST", "jobs/runs/submit") not in standin.calls()


def test_a_cluster_that_never_starts_is_cancelled_after_the_start_timeout(tmp_path, code_dir):  # noqa: F811
    proc, standin, home, _ = _materialize(tmp_path, code_dir, fail=False, timeouts=TIMEOUTS, never_start=True)
    description, meta, seconds = _check_failure(proc, home, "start", standin.url, max_seconds=20)
    assert "could not start the run's cluster within 4 s" in description and "still PENDING" in meta["detail"]
    assert "event log" in meta["hint"] and "was cancelled" in description
    (run,) = standin.runs.values()
    assert ("POST", "jobs/runs/cancel") in standin.calls() and run.result_state == "CANCELED"


def test_a_workspace_that_goes_silent_while_polling_fails_after_the_poll_timeout(tmp_path, code_dir):  # noqa: F811
    proc, standin, home, _ = _materialize(tmp_path, code_dir, fail=False, timeouts=TIMEOUTS,
                                          silent_after_running=True)
    description, meta, _ = _check_failure(proc, home, "poll", standin.url, max_seconds=90)
    assert "while polling the run within 4 s" in description and "may still be going" in description
    assert any(b.get("unanswered") for _, _, b in standin.bodies)
    failures, _ = _events(home, dg.DagsterEventType.STEP_FAILURE)
    silent_for = failures[0].event_log_entry.timestamp - standin.silent_since
    # The poll timeout, a poll and an events read left unanswered (each bounded by the connect timeout, 2 s,
    # and the SDK's retry within as long again) and the attempt to cancel: ~15 s, bounded with room here.
    assert silent_for < 35, f"failed {silent_for:.1f} s after the workspace went silent"


def _other_python():
    """An interpreter of another minor version than this one, to stand for a cluster runtime that differs."""
    for name in ("python3.11", "python3.13", "python3.10"):
        for candidate in (shutil.which(name), *sorted(Path.home().glob(f".pyenv/versions/{name[6:]}*/bin/{name}"))):
            if candidate and Path(candidate).is_file():
                return str(candidate), name[6:]
    return None, None


def test_a_cluster_on_another_python_fails_before_the_step_naming_both_versions(tmp_path, code_dir):  # noqa: F811
    python, version = _other_python()
    if python is None:
        pytest.skip("no interpreter of another Python minor version on this machine")
    proc, standin, home, marker = _materialize(tmp_path, code_dir, fail=False, python=python)
    assert proc.returncode != 0
    description, meta, _ = _failure(home)
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert meta["cause"] == "version mismatch"
    assert f"Python {version} on the cluster, Python {here} on the Dagster host" in meta["error"]
    assert "spark_version" in meta["hint"] and "make cluster-specs" in meta["hint"]
    assert not marker.exists()  # the step never ran
    (run,) = standin.runs.values()
    assert run.result_state == "FAILED" and "Running dagster job" not in run.logs


def test_the_remote_check_names_a_library_missing_or_of_another_version():
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert mismatches(here, {"dagster": dg.__version__}) == []
    (older,) = mismatches(here, {"dagster": "0.0.1"})
    assert f"library dagster is {dg.__version__} on the cluster and 0.0.1 on the Dagster host" in older
    assert "make cluster-specs" in older
    (missing,) = mismatches(here, {"no-such-distribution": "1.0"})
    assert "No module named 'no_such_distribution'" in missing and "not installed on the cluster" in missing
    (python,) = mismatches("3.99", {"no-such-distribution": "1.0"})  # another Python: only that is said
    assert f"Python {here} on the cluster, Python 3.99 on the Dagster host" in python
