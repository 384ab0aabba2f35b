"""`make ui` as a user runs it: served, quiet about dagster.yaml and supersession, and stopped by SIGTERM."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from forecast_assets_tests.signals import default_signals

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_make_ui_serves_and_stops_on_a_signal(tmp_path, sig):
    port = _free_port()
    env = {**os.environ, "FORECAST_UI_PORT": str(port), "DAGSTER_HOME": str(tmp_path / "dagster home"),
           "FORECAST_DATA_DIR": str(tmp_path / "data")}
    env.pop("PYTHONWARNINGS", None)  # the Makefile's own
    p = subprocess.Popen(["make", "-s", "ui"], cwd=ROOT, env=env, start_new_session=True, preexec_fn=default_signals,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.monotonic()
        while True:
            assert p.poll() is None, p.stdout.read()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert time.monotonic() - t0 < 300, "the UI did not answer in 5 minutes"
                time.sleep(1)
        # The webserver answers before the daemon has started; a user stops a UI that is up. (A signal
        # during start-up is bounded by the script's grace, FORECAST_UI_STOP_GRACE.)
        time.sleep(8)
        t1 = time.monotonic()
        os.killpg(p.pid, sig)  # the whole group, as a terminal's Ctrl-C or a supervisor's stop does
        out, _ = p.communicate(timeout=60)  # EOF: every process that held the output has exited
        took = time.monotonic() - t1
    finally:
        if p.poll() is None or _group_alive(p.pid):
            os.killpg(p.pid, signal.SIGKILL)
    assert took < 15, f"make ui took {took:.1f}s to stop\n{out[-2000:]}"
    assert "Dagster services shut down" in out
    assert "will not be used" not in out and "SupersessionWarning" not in out
    with socket.socket() as s:  # nothing listens on the port any more (our request's TIME_WAIT aside)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
