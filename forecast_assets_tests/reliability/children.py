"""What test child processes run (through runs.start_process): writers, and trainings that die on purpose."""

from __future__ import annotations

import dataclasses
import os
import signal
from datetime import date
from pathlib import Path

from forecast_assets.runs import artifacts, forecasting, training
from forecast_assets.config import Settings
from forecast_assets.storage.duckdb_store import DuckDBStore


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def train_and_die(db: str, artifact_dir: str, window: date, when: str, inline_limit: int) -> None:
    """Train naive for `window` and die: `before_row` (model file written, row not yet) or `mid_file`."""
    artifacts.INLINE_LIMIT = inline_limit
    settings = dataclasses.replace(Settings.from_env({}), duckdb_path=Path(db), artifact_dir=Path(artifact_dir))
    store = DuckDBStore(db)
    if when == "before_row":
        store.write_trained_models = lambda rows: _die()
    elif when == "mid_file":
        def half_then_die(src, dst):  # the state a kill in the middle of writing leaves: part of the text
            with open(src, "r+b") as f:
                f.truncate(os.path.getsize(src) // 2)
            _die()

        os.replace = half_then_die  # this process is about to die: patching os for it alone is harmless
    else:
        raise ValueError(when)
    training.train_windows(store, settings, "naive", "Coffee", [window], created_by="doomed")
    raise AssertionError("the child should have died")


def forecast(db: str, days: list[date], lock_timeout_s: float) -> None:
    """One writer: forecast naive for `days` (forced) through the store, as a run does."""
    settings = dataclasses.replace(Settings.from_env({}), duckdb_path=Path(db))
    forecasting.forecast_days(DuckDBStore(db, lock_timeout_s=lock_timeout_s), settings, "naive", "Coffee", days,
                           force=True)
