"""Real `dagster asset materialize` runs in child processes that a test may SIGKILL at any moment.

The children are forked from a multiprocessing fork server that imported Dagster
and this package once: a fresh `dagster` process spends 15-20 s importing on a
loaded 2-core machine, a forked one starts at once. What runs in the child is
the `dagster asset materialize` command itself, against a persistent instance
(DAGSTER_HOME with the project's dagster.yaml) and a DuckDB file.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from dagster._cli.asset import asset_materialize_command

from forecast_assets.runs import artifacts

MODULE = "forecast_assets.definitions"
PROJECT = Path(__file__).resolve().parents[2]


def scratch_root(fallback: Path) -> Path:
    """A fresh directory for a test bed: in memory (tmpfs) where there is one.

    A SIGKILL loses nothing the OS has accepted, with or without fsync, so memory
    is as good as disk here, and runs are about 3x faster than on this machine's disk.
    """
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else fallback
    return Path(tempfile.mkdtemp(prefix="forecast-assets-test-", dir=base))


def run_env(root: Path) -> dict[str, str]:
    """Settings for runs on a bed under `root`: a Dagster home with the project's dagster.yaml, a DuckDB file."""
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    return {"DAGSTER_HOME": str(home), "FORECAST_ENV": "local", "FORECAST_DUCKDB_PATH": str(root / "forecast.duckdb"),
            "FORECAST_ARTIFACT_DIR": str(root / "artifacts"), "FORECAST_PLOT_DIR": str(root / "plots"),
            "FORECAST_COMMODITIES": "Coffee,Sugar", "FORECAST_MODEL_VERSION": "v1.0", "FORECAST_N_PATHS": "2000",
            "FORECAST_SEED": "20180101", "FORECAST_SPARK": ""}


def _materialize(commands: list[list[str]], env: dict[str, str], log_path: str, inline_limit: int | None) -> None:
    # Own process group: a kill of the group also takes the `tail` children Dagster starts for logs.
    os.setsid()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.update(env)
    if inline_limit is not None:  # smaller models take the large-model path: files in the artifact dir
        artifacts.INLINE_LIMIT = inline_limit
    # The code location reads FORECAST_* when it is imported: import it again under this run's settings.
    sys.modules.pop(MODULE, None)
    for args in commands:
        print(f"=== {time.strftime('%H:%M:%S')} dagster asset materialize {' '.join(args)}", flush=True)
        asset_materialize_command.main(args=[*args, "-m", MODULE], prog_name="dagster asset materialize",
                                       standalone_mode=False)
    print(f"=== {time.strftime('%H:%M:%S')} all commands done", flush=True)


def start_process(target, *args) -> multiprocessing.Process:
    """`target(*args)` in a process forked from the warm fork server; target must be importable."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["forecast_assets_tests.reliability.warm"])
    p = ctx.Process(target=target, args=args)
    p.start()
    return p


def start(commands: list[list[str]], env: dict[str, str], log_path: Path,
          inline_limit: int | None = None) -> multiprocessing.Process:
    """`dagster asset materialize` with each argument list in turn, in one child process."""
    return start_process(_materialize, commands, env, str(log_path), inline_limit)


def kill(p: multiprocessing.Process) -> None:
    """SIGKILL the run and everything it started."""
    try:
        if os.getpgid(p.pid) == p.pid:
            os.killpg(p.pid, signal.SIGKILL)
        else:  # killed before it made its own group: it has started nothing yet
            os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.join()


def run(commands: list[list[str]], env: dict[str, str], log_path: Path, timeout_s: float,
        inline_limit: int | None = None) -> None:
    """Run to the end; fail with the log's tail if the run fails or does not end in time."""
    p = start(commands, env, log_path, inline_limit)
    p.join(timeout_s)
    if p.exitcode is None:
        kill(p)
        raise AssertionError(f"run did not finish in {timeout_s:.0f} s; its log ends:\n{tail(log_path)}")
    if p.exitcode != 0:
        raise AssertionError(f"run failed (exit code {p.exitcode}); its log ends:\n{tail(log_path)}")


def kill_at(p: multiprocessing.Process, log_path: Path, lines: int, delay_s: float) -> bool:
    """SIGKILL the run `delay_s` after its log reaches `lines` lines; False if it ended before that.

    Moments defined by the run's own progress land in the same phases however loaded the machine is.
    """
    while p.exitcode is None and _lines(log_path) < lines:
        p.join(0.02)
    p.join(delay_s)
    if p.exitcode is not None:
        return False
    kill(p)
    return True


def _lines(log_path: Path) -> int:
    try:
        with open(log_path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def tail(log_path: Path, n: int = 25) -> str:
    try:
        lines = Path(log_path).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(line[:400] for line in lines[-n:])
