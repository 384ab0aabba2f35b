"""The local executor frees the pool slots of runs whose process died, and never touches a live run."""

import signal
import subprocess
import sys
import textwrap

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from forecast_assets.defs.executor import free_dead_runs, lock_dir, run_lock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

HOLD = textwrap.dedent("""
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"host test pid %d" % os.getpid())
    print("held", flush=True)
    time.sleep(600)
""")


def _started_run_with_slot(instance):
    run = create_run_for_test(instance, job_name="forecast_job", status=dg.DagsterRunStatus.STARTED)
    instance.event_log_storage.claim_concurrency_slot("forecast_db", run.run_id, "forecasts__naive")
    return run


def test_a_killed_runs_slot_is_freed_and_a_live_run_is_left_alone(tmp_path):
    with dg.DagsterInstance.local_temp(tempdir=str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots("forecast_db", 2)
        root = lock_dir(instance)
        dead, live = _started_run_with_slot(instance), _started_run_with_slot(instance)

        # The dead run's process held its lock file, as a run does, and was killed.
        root.mkdir(parents=True)
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(root / f"{dead.run_id}.lock")],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"
        assert free_dead_runs(instance, root) == []  # alive: untouched
        holder.send_signal(signal.SIGKILL)
        holder.wait()

        with run_lock(root, live.run_id) as live_lock:
            done = free_dead_runs(instance, root)
            assert live_lock.exists()
        assert len(done) == 1 and dead.run_id in done[0] and "died without finishing" in done[0]

        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert "died without finishing (killed?)" in failure[0].event_log_entry.dagster_event.message
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
        info = instance.event_log_storage.get_concurrency_info("forecast_db")
        assert info.active_run_ids == {live.run_id}
        assert not (root / f"{dead.run_id}.lock").exists()
        assert list(root.iterdir()) == []  # the live run removed its own file when it ended


def test_ephemeral_instances_run_without_lock_files():
    with dg.DagsterInstance.ephemeral() as instance:
        assert lock_dir(instance) is None
