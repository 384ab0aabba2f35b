"""Train once, infer many: the two operations the Dagster assets call.

train(): fit a model on everything strictly before a window's start.
forecast(): for many forecast days at once, move the fixed-parameter model's
state to each day's cutoff (the last trading day before the day) and simulate
paths. Both are pure: data in, arrays and JSON out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from forecast_assets.core import fitted
from forecast_assets.core.calendar import MAX_GAP, Calendar
from forecast_assets.core.data import cutoff_positions
from forecast_assets.core.models import ModelError, get_model
from forecast_assets.core.paths import summarize


@dataclass(frozen=True)
class TrainedModel:
    doc: dict
    text: str

    @property
    def model_name(self) -> str:
        return self.doc["model_name"]

    @property
    def training_cutoff_date(self) -> date:
        return date.fromisoformat(self.doc["training_cutoff_date"])

    @property
    def training_start_date(self) -> date:
        return date.fromisoformat(self.doc["training_start_date"])

    @property
    def fingerprint(self) -> str:
        return fitted.fingerprint(self.text)

    @classmethod
    def from_json(cls, text: str) -> "TrainedModel":
        return cls(doc=fitted.loads(text), text=text)


def train(model_name: str, commodity: str, daily: pd.DataFrame, window_start: date, horizon: int) -> TrainedModel:
    """Fit on trading days strictly before `window_start`; never a day of the window itself.

    `horizon` is the number of steps the model will be asked for (models that fit
    per step, like xgboost, fit horizon + MAX_GAP of them).
    """
    data = daily[daily.index < pd.Timestamp(window_start)]
    if len(data) < 2:
        raise ModelError(f"{commodity}: no training data before {window_start} for {model_name}")
    params = get_model(model_name).fit(data, horizon)
    doc = fitted.envelope(model_name, commodity, data.index[0].date(), data.index[-1].date(), len(data), params)
    text = fitted.dumps(doc)
    return TrainedModel(doc=fitted.loads(text), text=text)


@dataclass
class ForecastBatch:
    commodity: str
    model_name: str
    days: np.ndarray  # (n,) datetime64[D] forecast_start_date
    cutoffs: np.ndarray  # (n,) datetime64[D] data_cutoff_date (NaT where none)
    step_dates: np.ndarray  # (n, horizon) datetime64[D]
    prices: np.ndarray  # (n, n_paths, horizon) float32; NaN rows where not ok
    ok: np.ndarray  # (n,) bool
    reasons: list[str | None]
    points: dict[str, np.ndarray] = field(default_factory=dict)  # each (n, horizon)
    actuals: np.ndarray | None = None  # (n, horizon) realized closes, NaN unknown
    leakage: np.ndarray | None = None  # (n,) bool
    training_cutoff: date | None = None
    model_fingerprint: str = ""


def calendar_close(daily: pd.DataFrame) -> pd.Series:
    """Close on every calendar day up to the last trading day (holidays forward filled)."""
    if daily.empty:
        return pd.Series(dtype="float64")
    idx = pd.date_range(daily.index[0], daily.index[-1], freq="D")
    return daily["close"].reindex(idx).ffill()


def realized(daily: pd.DataFrame, dates: np.ndarray) -> np.ndarray:
    """Closes on the given calendar dates; NaN where not known yet."""
    cal = calendar_close(daily)
    out = np.full(dates.shape, np.nan)
    if cal.empty:
        return out
    first = np.datetime64(cal.index[0].date(), "D")
    pos = (dates - first).astype(np.int64)
    ok = (pos >= 0) & (pos < len(cal))
    out[ok] = cal.to_numpy()[pos[ok]]
    return out


def forecast(
    trained: TrainedModel,
    daily: pd.DataFrame,
    days,
    *,
    n_paths: int,
    seeds: np.ndarray,
    horizon: int,
    calendar: Calendar,
) -> ForecastBatch:
    """Forecasts for every day in `days` from the data strictly before each day.

    Step k is the k-th session of `calendar` at or after the day; a cutoff's gap is
    counted in its sessions, so an exchange holiday before the day is not a missing day.

    `daily` may extend past the days (it is used for the actuals); the model only
    ever sees rows before the last day, and each day's paths only rows up to its
    own cutoff.
    """
    days = np.asarray(days, dtype="datetime64[D]")
    model = get_model(trained.model_name)
    most = model.max_horizon(trained.doc["params"]) if hasattr(model, "max_horizon") else horizon
    if horizon > most:  # refused for every day alike, not only for days whose cutoff is stale
        raise ModelError(
            f"the {trained.model_name} model of {trained.doc['commodity']} (trained to "
            f"{trained.training_cutoff_date}) was trained for a horizon of {most} steps and cannot forecast "
            f"{horizon}: train it again with FORECAST_HORIZON={horizon} "
            f"(materialize trained_models/{trained.model_name} for the windows to forecast)")
    history = daily[daily.index < pd.Timestamp(days.max())]
    pos = cutoff_positions(history.index, days)
    cutoffs = np.full(len(days), np.datetime64("NaT", "D"), dtype="datetime64[D]")
    has = pos >= 0
    cutoffs[has] = history.index.values.astype("datetime64[D]")[pos[has]]
    gaps = np.where(has, calendar.gap(np.where(has, cutoffs, days), days), 0)
    ok = has & (gaps <= MAX_GAP)
    reasons: list[str | None] = [None] * len(days)
    for i in np.flatnonzero(~ok):
        reasons[i] = ("no trading data before the forecast day" if not has[i]
                      else f"input is stale: last trading day {cutoffs[i]} is {gaps[i]} sessions "
                         f"({calendar.name}) before")

    prices = np.full((len(days), n_paths, horizon), np.nan, dtype=np.float32)
    if ok.any():
        # One simulate call per distinct gap, asking for exactly gap + horizon steps. Models lay
        # their random draws out by the number of steps asked, so simulating every day with the
        # batch's largest gap made a day's paths depend on which other days shared its batch (a
        # day after a holiday, or one whose input is late), i.e. on data after its own cutoff.
        for g in np.unique(gaps[ok]).tolist():
            sel = np.flatnonzero(ok & (gaps == g))
            sim = model.simulate(trained.doc["params"], history, pos[sel], horizon + g, n_paths, seeds[sel])
            prices[sel] = sim[:, :, g:]
        bad = ok.copy()
        bad[ok] = ~(np.isfinite(prices[ok]) & (prices[ok] > 0)).all(axis=(1, 2))
        for i in np.flatnonzero(bad):
            reasons[i] = "model produced non-finite or non-positive prices"
            prices[i] = np.nan
        ok &= ~bad

    tcut = np.datetime64(trained.training_cutoff_date, "D")
    steps_d = calendar.step_dates(days, horizon)
    return ForecastBatch(
        commodity=trained.doc["commodity"],
        model_name=trained.model_name,
        days=days,
        cutoffs=cutoffs,
        step_dates=steps_d,
        prices=prices,
        ok=ok,
        reasons=reasons,
        points=summarize(prices),
        actuals=realized(daily, steps_d),
        # Computed from the dates actually used, never assumed (docs/contract.md).
        leakage=(has & (days <= cutoffs)) | (tcut >= days),
        training_cutoff=trained.training_cutoff_date,
        model_fingerprint=trained.fingerprint,
    )
