"""Random walk with drift on log prices; paths from bootstrapped log-returns.

The drift is the mean daily log-return over the recent training returns; the
paths add, step by step, demeaned returns drawn with replacement from the same
returns, so fat tails and skew in the history carry over into the paths.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecast_assets.core.data import log_returns
from forecast_assets.core.models.base import ModelError
from forecast_assets.core.paths import bootstrap_indices

# About three years of trading days: recent enough to track the volatility
# regime, long enough that the bootstrap pool has tails.
RETURNS_WINDOW = 756


class NaiveModel:
    name: ClassVar[str] = "naive"
    history_days: ClassVar[int] = 1
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["drift", "residuals"],
        "additionalProperties": False,
        "properties": {
            "drift": {"type": "number"},
            "residuals": {"type": "array", "minItems": 20, "items": {"type": "number"}},
        },
    }

    def fit(self, train: pd.DataFrame, horizon: int) -> dict[str, Any]:  # any horizon: steps are drawn at simulate
        r = log_returns(train["close"].to_numpy()[-(RETURNS_WINDOW + 1):])
        r = r[np.isfinite(r)]
        if len(r) < 20:
            raise ModelError(f"naive needs at least 21 trading days of closes, got {len(r) + 1}")
        drift = float(r.mean())
        return {"drift": drift, "residuals": [float(x) for x in r - drift]}

    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds) -> np.ndarray:
        # float32 log-prices: 14 summed returns lose ~1e-7 relatively, and the work halves.
        resid = np.asarray(params["residuals"], dtype=np.float32)
        last = np.log(history["close"].to_numpy(dtype=np.float64)[cutoff_pos])
        shocks = resid[bootstrap_indices(seeds, n_paths, steps, len(resid))]
        np.cumsum(shocks, axis=2, out=shocks)
        shocks += (last[:, None, None] + params["drift"] * np.arange(1, steps + 1)).astype(np.float32)
        return np.exp(shocks, out=shocks)
