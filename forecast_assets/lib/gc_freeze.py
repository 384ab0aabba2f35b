"""The garbage collector of a process that loaded this code location skips what was there at load and at exit.

Python's cyclic collector scans every tracked object on each full collection, and once more at exit.
After Dagster, pandas and our definitions are imported that is ~250,000 objects that live as long as
the process; a daily run's process spent ~0.35 s of CPU rescanning them in collections during the
run and ~0.8 s in the one at exit, after its last row was written (measured on the bench's daily runs).
gc.freeze() moves what is alive now to a permanent generation that no collection scans: once when the
definitions are built, and again first thing at exit (atexit). Module teardown still runs, objects
still go by reference counting and logging still flushes (its own atexit handler); only garbage in
reference cycles among frozen objects is left to the OS at exit. Raising the collection thresholds
instead was measured too, and was slower. (Python has no other way to skip the exit pass short of
os._exit, which would skip the flushes as well.)
"""

from __future__ import annotations

import atexit
import gc

_at_exit = False


def install() -> None:
    """Freeze what is alive now, and again at exit (registered once per process)."""
    global _at_exit
    gc.freeze()
    if not _at_exit:
        atexit.register(gc.freeze)
        _at_exit = True
