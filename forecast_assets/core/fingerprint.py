"""Input fingerprints: which input rows a forecast read, as one short string per forecast day.

A day's forecast reads the daily rows (core.data.daily_series: every contract column, as the
model sees it) from its window's history start up to its cutoff, and its trained model. Its
fingerprint hashes exactly those: a revised close, a late day, a changed weather mean or a new
model changes it; a row after the cutoff (an actual) or of another commodity does not.

Vectorized for a whole window: one pandas hash per row (hash_pandas_object, over the index and
every column), a cumulative XOR over the sorted rows, so a day's prefix is one lookup. XOR is
order-free, but each row's hash covers its date, so swapping two closes still changes it; two
equal rows never occur (one row per date). Hand-written because no library hashes prefixes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def row_hashes(daily: pd.DataFrame) -> np.ndarray:
    """uint64 per row over its date and every column (NaN hashes alike everywhere)."""
    if daily.empty:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(daily, index=True).to_numpy(dtype=np.uint64)


def input_fingerprints(daily: pd.DataFrame, positions: np.ndarray, model_fingerprint: str) -> list[str]:
    """The fingerprint of each day whose cutoff is row `positions[i]` of `daily` (-1: no row read).

    `daily` is the history the day is forecast from (sorted by date, starting where the run's
    history for the window starts); the columns and their order are part of what is hashed.
    """
    pos = np.asarray(positions, dtype=np.int64)
    prefix = np.bitwise_xor.accumulate(row_hashes(daily)) if len(daily) else np.zeros(0, dtype=np.uint64)
    taken = np.where(pos >= 0, prefix[np.clip(pos, 0, max(len(prefix) - 1, 0))] if len(prefix) else 0, 0)
    cols = "|".join(map(str, daily.columns))
    per_day = pd.DataFrame({"xor": np.asarray(taken, dtype=np.uint64), "rows": pos + 1,
                            "model": model_fingerprint, "cols": cols})
    combined = pd.util.hash_pandas_object(per_day, index=False).to_numpy(dtype=np.uint64)
    return [f"{h:016x}" for h in combined.tolist()]
