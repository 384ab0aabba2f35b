"""Loading the code location freezes the heap for the collector, now and at exit (lib/gc_freeze.py)."""

import subprocess
import sys

# A reference cycle whose finalizer prints: Python's last collection at exit finds and finalizes it,
# unless what is alive at exit was frozen first.
_CYCLE = """
class Cycle:
    def __del__(self):
        print("collected at exit", flush=True)
c = Cycle(); c.me = c; del c
"""


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=True).stdout


def test_loading_the_definitions_freezes_the_loaded_heap_and_skips_the_collection_at_exit():
    out = _run("import gc; import forecast_assets.definitions; print(gc.get_freeze_count())" + _CYCLE)
    assert int(out.splitlines()[0]) > 100_000  # Dagster, pandas and the definitions
    assert "collected at exit" not in out


def test_without_it_the_cycle_is_collected_at_exit():  # so the test above can tell
    assert "collected at exit" in _run("import gc" + _CYCLE)
