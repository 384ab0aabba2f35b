"""Actuals: the realized close of every step of each day's forecasts, once it is known."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from forecast_assets.core import calendar
from forecast_assets.core.data import daily_series
from forecast_assets.core.forecast import realized
from forecast_assets.runs.plan import Log, after_days, noop
from forecast_assets.storage.base import ForecastStore


def attach_actuals(store: ForecastStore, commodity: str, days: list[date], cal: calendar.Calendar,
                   log: Log = noop) -> tuple[int, int]:
    """Realized closes for the steps of each day's forecasts (the store's horizon): fills actual_close
    and path-0 rows. `cal` is the commodity's calendar (Settings.calendar), the one its forecasts'
    steps were made on: the steps are its sessions, so an exchange holiday is never a step.

    Returns (days with every step known, days with some step known).
    """
    days = sorted(set(days))
    horizon = store.horizon
    unified = store.read_unified(commodity, start=days[0], end=days[-1] + timedelta(days=after_days(horizon)))
    daily = daily_series(unified, commodity)
    steps = cal.step_dates(days, horizon)
    closes = realized(daily, steps)
    long = pd.DataFrame({
        "forecast_start_date": np.repeat(np.asarray(days, dtype="datetime64[D]"), horizon),
        "day_ahead": np.tile(np.arange(1, horizon + 1), len(days)),
        "forecast_date": steps.reshape(-1),
        "actual_close": closes.reshape(-1),
    })
    long = long[np.isfinite(long["actual_close"])]
    complete = store.update_actuals(commodity, long)
    partial = int(np.isfinite(closes).any(axis=1).sum())
    log(f"actuals {commodity}: {complete} of {len(days)} days complete, {partial} with some steps known")
    return complete, partial
