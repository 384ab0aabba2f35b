"""Run a long call in a worker thread and yield what it reports while it runs.

Dagster writes the events of an asset's body only when the body yields: a call that
reports through a callback (each committed window) would have its events held until it
returns. The call runs in a thread; its reports come back through a queue, and the asset
yields them as they arrive, so every Dagster call stays on the step's own thread.
Hand-written because it is a dozen lines of the standard library.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


def stream(call: Callable[[Callable[[Any], None]], T]) -> Generator[Any, None, T]:
    """Yield each item `call(report)` passes to `report`, in order, then return what `call` returned
    (`result = yield from stream(...)`). An exception in `call` is raised here, after its reports."""
    q: queue.Queue = queue.Queue()
    box: dict[str, Any] = {}

    def run():
        try:
            box["result"] = call(q.put)
        except BaseException as exc:  # handed to the caller's thread, raised there
            box["error"] = exc
        finally:
            q.put(_DONE)

    t = threading.Thread(target=run, name="forecast-worker", daemon=True)
    t.start()
    while (item := q.get()) is not _DONE:
        yield item
    t.join()
    if "error" in box:
        raise box["error"]
    return box["result"]
