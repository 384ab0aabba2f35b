"""The local executor: Dagster's in-process executor, plus recovery from runs that died.

A run killed outright (kill -9, the OOM killer, a laptop that lost power) stays
STARTED in the Dagster instance and keeps its slot in pool `forecast_db`, so every
later run that writes the DuckDB file waits for it forever ("Step blocked by limit
for pool forecast_db"): no daemon runs behind `dagster asset materialize` to notice.

While a run executes, its process holds an exclusive OS lock (flock) on a file
named after the run under $DAGSTER_HOME/forecast_assets/run_locks/; the OS drops
the lock when the process dies, however it dies. Before executing, every run
looks for lock files nobody holds: their runs are dead, so it marks them failed
and frees their pool slots. A live run is never touched (its lock is held), and
runs of other executors have no lock file and are left alone. Needs POSIX flock
on a local DAGSTER_HOME; elsewhere (Windows, ephemeral instances) this is the
plain in-process executor.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Iterator

import dagster as dg

try:
    import fcntl
except ImportError:  # Windows: no flock, no recovery
    fcntl = None

LOCK_DIR = Path("forecast_assets") / "run_locks"


def lock_dir(instance: dg.DagsterInstance) -> Path | None:
    if fcntl is None or not instance.is_persistent:
        return None
    return Path(instance.root_directory) / LOCK_DIR


@contextlib.contextmanager
def run_lock(root: Path, run_id: str) -> Iterator[Path]:
    """Hold `<root>/<run_id>.lock` locked while the run executes."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{run_id}.lock"
    tmp = root / f".{run_id}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"host {socket.gethostname()} pid {os.getpid()}\n".encode())
        # Appears under its final name already locked: a reaper never sees it unheld while we live.
        os.replace(tmp, path)
        try:
            yield path
        finally:
            # Unlink before unlocking: a reaper that then gets the lock sees the file is gone.
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)


def free_dead_runs(instance: dg.DagsterInstance, root: Path) -> list[str]:
    """Mark runs whose lock is no longer held as failed and free their pool slots; what was done, as messages."""
    done = []
    for path in sorted(root.glob("*.lock")):
        run_id = path.stem
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            try:
                if os.stat(path).st_ino != os.fstat(fd).st_ino:
                    continue  # the run ended and removed its file while we opened it
            except FileNotFoundError:
                continue
            holder = Path(path).read_text(errors="replace").strip()
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(
                    run, message=f"the process of this run ({holder}) died without finishing (killed?); "
                                 f"marked failed by a later run, which freed its pool slots")
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            path.unlink(missing_ok=True)
            done.append(f"run {run_id} ({holder}) died without finishing: marked failed, its pool slots freed")
        finally:
            os.close(fd)
    return done


class RecoveringExecutor(dg.Executor):
    def __init__(self, inner: dg.Executor):
        self._inner = inner

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan):
        root = lock_dir(plan_context.instance)
        if root is None:
            yield from self._inner.execute(plan_context, execution_plan)
            return
        with run_lock(root, plan_context.run_id):
            for message in free_dead_runs(plan_context.instance, root):
                plan_context.log.warning(message)
            yield from self._inner.execute(plan_context, execution_plan)


@dg.executor(name="in_process_recovering", config_schema=dg.in_process_executor.config_schema)
def local_executor(init_context) -> dg.Executor:
    """In-process execution; first marks runs that died as failed and frees their pool slots."""
    return RecoveringExecutor(dg.in_process_executor.executor_creation_fn(init_context))
