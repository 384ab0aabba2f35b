"""The model interface every registered model implements.

A model is a small class with two methods:

- fit(train, horizon) -> dict: `train` is the daily series (core.data.daily_series) of
  everything before the window's start, `horizon` the steps forecasts will ask
  for (Settings.horizon; a stale cutoff adds up to calendar.MAX_GAP more); the
  result is plain JSON data.
- simulate(params, history, cutoff_pos, steps, n_paths, seeds) -> prices of
  shape (n_days, n_paths, steps): for each forecast day i, paths that start
  after the trading day at history.iloc[cutoff_pos[i]], using only rows up to
  that position. The parameters stay fixed; the state (last price, lags,
  Kalman state) is moved forward to the cutoff from `history`.

All days of a batch are simulated together: no Python loop over paths.

A model whose fitted params cover a fixed number of steps (xgboost) also has
max_horizon(params) -> int: forecast() refuses a larger horizon with ModelError
instead of running out of steps on some days.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd


class ModelError(RuntimeError):
    """A model cannot be fitted or run on the data it was given."""


class ForecastModel(Protocol):
    name: ClassVar[str]
    # JSON schema of the "params" object that fit() returns; checked on every load.
    params_schema: ClassVar[dict[str, Any]]
    # Trading days of history before the first cutoff that simulate() needs.
    history_days: ClassVar[int]

    def fit(self, train: pd.DataFrame, horizon: int) -> dict[str, Any]: ...

    def simulate(
        self,
        params: dict[str, Any],
        history: pd.DataFrame,
        cutoff_pos: np.ndarray,
        steps: int,
        n_paths: int,
        seeds: np.ndarray,
    ) -> np.ndarray: ...
