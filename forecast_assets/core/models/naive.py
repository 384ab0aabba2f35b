"""Driftless random walk on log prices with filtered historical simulation (FHS).

The bar on prices: no drift by default (a three-year mean return is noise, its
standard error about its own size, and it fixed the sign of every direction
call). The volatility of the daily log returns is the process of core.volatility
(EWMA 0.94 by default, GJR-GARCH(1,1)-t selectable) fitted on the training returns,
and the paths add returns sigma_k * z_k, z bootstrapped from the standardized
training returns (so fat tails and skew carry over) and sigma_k each path's
own variance path from the state at the day's cutoff.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecast_assets.core import volatility
from forecast_assets.core.data import log_returns
from forecast_assets.core.models.base import ModelError
from forecast_assets.core.paths import bootstrap_indices

# About three years of trading days: enough for the GARCH likelihood and a pool with tails.
RETURNS_WINDOW = 756


class NaiveModel:
    name: ClassVar[str] = "naive"
    history_days: ClassVar[int] = 1
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["drift", "drift_used", "volatility", "std_residuals"],
        "additionalProperties": False,
        "properties": {
            "drift": {"const": 0.0},
            "drift_used": {"const": False},
            "volatility": volatility.SCHEMA,
            "std_residuals": {"type": "array", "minItems": 20, "items": {"type": "number"}},
        },
    }

    def fit(self, train: pd.DataFrame, horizon: int) -> dict[str, Any]:  # any horizon: steps are drawn at simulate
        long = log_returns(train["close"].to_numpy()[-(volatility.FIT_DAYS + 1):])
        r = long[-RETURNS_WINDOW:]
        if np.isfinite(r).sum() < 20:
            raise ModelError(f"naive needs at least 21 trading days of closes, got {np.isfinite(r).sum() + 1}")
        vol, s2 = volatility.fit(long, train.index[-1])  # zero mean: the residual is the return itself
        return {"drift": 0.0, "drift_used": False, "volatility": vol.to_json(),
                "std_residuals": [float(x) for x in volatility.standardized_pool(r, s2[-len(r) - 1:])]}

    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds) -> np.ndarray:
        vol = volatility.Volatility.from_json(params["volatility"])
        pool = np.asarray(params["std_residuals"], dtype=np.float32)
        logp = np.log(history["close"].to_numpy(dtype=np.float64))
        start = volatility.state_position(vol, history.index.values)
        s2 = volatility.sigma2_at(vol, np.diff(logp, prepend=np.nan), start, cutoff_pos)
        # float32 paths: 14 summed returns lose ~1e-7 relatively, and the work halves.
        eps = vol.simulate(s2, pool[bootstrap_indices(seeds, n_paths, steps, len(pool))])
        np.cumsum(eps, axis=2, out=eps)
        eps += logp[cutoff_pos].astype(np.float32)[:, None, None]
        return np.exp(eps, out=eps)
