"""Which days a forecast run computes: the plan both engines (local, Spark) execute.

Days are grouped by their semiannual window; each window's work holds its
trained model, the input history it is forecast from (anchored at the window's
start, so a day's numbers never depend on how days were batched) and the days
still to compute. A day is skipped when its stored forecast is complete, from
the same trained model, made with the cutoff the data allows now and on the
commodity's calendar (its last step is the one the calendar gives now), and
from exactly the same input rows (core.fingerprint: its stored input_fingerprint
equals the one the input gives now; rows stored before fingerprints existed
are judged by the rest alone). A day computed again becomes a new vintage,
numbered after its last attempt, with the reason (schema.VINTAGE_REASONS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

import numpy as np
import pandas as pd

from forecast_assets.config import Settings
from forecast_assets.core import calendar
from forecast_assets.core.data import cutoff_positions, daily_series
from forecast_assets.core.fingerprint import input_fingerprints
from forecast_assets.core.forecast import TrainedModel
from forecast_assets.core.models import get_model
from forecast_assets.runs.loading import trained_from_rows
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.rows import Vintages

Log = Callable[[str], None]



def after_days(horizon: int) -> int:
    """Calendar days of input read after a window's last day: the realized closes of its last day's steps,
    with three weeks to spare for holidays (40 for 14 steps)."""
    return calendar.span_days(horizon) + 21


def noop(_: str) -> None:
    pass


def lookback_days(model_name: str) -> int:
    """Calendar days of input before a window's first day, from the model's trading-day need."""
    return int(get_model(model_name).history_days * 1.5) + 14  # + two weeks of slack, whatever the horizon


@dataclass(frozen=True)
class WindowWork:
    """One commodity x model x window of a run: the unit each engine computes (and Spark fans out)."""

    commodity: str
    model_name: str
    window_start: date
    days: list[date]  # asked
    todo: list[date]  # to compute: asked minus complete (all of them with force)
    trained: TrainedModel
    calendar: calendar.Calendar  # the commodity's sessions: steps, cutoff gaps (Settings.calendar)
    history: pd.DataFrame  # trading days, lookback before the window's start to after_days past its last day
    vintages: Vintages | None = None  # of the todo days, in order
    had_good: frozenset = frozenset()  # todo days whose current stored vintage is good (a failure keeps it)

    @property
    def skipped(self) -> int:
        return len(self.days) - len(self.todo)


def complete_days(status: pd.DataFrame, settings: Settings, days: list[date], fingerprint: str,
                  daily: pd.DataFrame, cal: calendar.Calendar, inputs: dict[date, str] | None = None) -> set[date]:
    """Days stored complete (per `status`, sql.forecast_status_vintages), from the same trained model and input.

    A day forecast before its last input day arrived (a late feed) is not
    complete: its cutoff is older than the one the data allows now. Nor is one
    whose last step is not the calendar's (FORECAST_CALENDARS changed since),
    nor one whose stored input fingerprint differs from `inputs[day]` (a revised row).
    """
    if status.empty:
        return set()
    if inputs is not None and "input_fingerprint" in status:
        stored = status["input_fingerprint"]
        now = status["forecast_start_date"].map(lambda d: inputs.get(pd.Timestamp(d).date()))
        status = status[stored.isna() | (stored == now)]
    pos = cutoff_positions(daily.index, days)
    trading = daily.index.values.astype("datetime64[D]")
    expected = {d: (trading[p] if p >= 0 else None) for d, p in zip(days, pos)}
    last_step = dict(zip(days, cal.step_dates(days, settings.horizon)[:, -1]))
    good = status[(status["n_paths"] == settings.n_paths) & (status["n_points"] == settings.horizon)
                  & (status["all_success"] == 1) & (status["model_fingerprint"] == fingerprint)]
    out = set()
    for d, cut, last in zip(good["forecast_start_date"], good["data_cutoff_date"], good["last_forecast_date"]):
        d = pd.Timestamp(d).date()
        if (expected.get(d) is not None and np.datetime64(pd.Timestamp(cut).date(), "D") == expected[d]
                and np.datetime64(pd.Timestamp(last).date(), "D") == last_step[d]):
            out.add(d)
    return out


def by_window(days) -> dict[date, list[date]]:
    """Days (deduplicated, sorted) grouped by the start of their semiannual window."""
    out: dict[date, list[date]] = {}
    for d in sorted(set(days)):
        out.setdefault(calendar.window_start(d), []).append(d)
    return out


def plan_forecasts(store: ForecastStore, settings: Settings, model_name: str, commodity: str, days,
                   *, force: bool = False) -> list[WindowWork]:
    """The work of forecasting `days` with one model: one read of the input, the models and the
    stored status for the whole range, then each window's slice of them."""
    if store.horizon != settings.horizon:  # before any work: the write would refuse the rows anyway
        raise ValueError(f"the store holds forecasts of {store.horizon} steps but the settings ask for "
                         f"{settings.horizon}: make both from one Settings")
    groups = by_window(days)
    if not groups:
        return []
    windows = list(groups)
    last = max(groups[windows[-1]])
    lookback = timedelta(days=lookback_days(model_name))
    after = timedelta(days=after_days(settings.horizon))
    with store.one_connection():  # three quick reads: one attach of the file, not three; parsing after
        rows = store.read_trained_models(commodity, model_name, settings.model_version, windows)
        unified = store.read_unified(commodity, start=windows[0] - lookback, end=last + after)
        # Read with force too: a forced day still becomes the next vintage, never a rewrite of one.
        status = store.forecast_status(commodity, model_name, settings.model_version, min(groups[windows[0]]), last)
    models = trained_from_rows(rows, settings, model_name, commodity, windows)
    daily_all = daily_series(unified, commodity)
    out = []
    cal = settings.calendar(commodity)
    idx = daily_all.index
    for w, wdays in groups.items():
        trained = models[w]
        history = daily_all[(idx >= pd.Timestamp(w - lookback))
                            & (idx <= pd.Timestamp(wdays[-1] + after))]
        inputs = dict(zip(wdays, input_fingerprints(history, cutoff_positions(history.index, wdays),
                                                     trained.fingerprint)))
        todo = wdays if force else sorted(set(wdays) - complete_days(
            status, settings, wdays, trained.fingerprint, history[history.index < pd.Timestamp(wdays[-1])], cal,
            inputs))
        vintages, had_good = number_vintages(status, todo, inputs, trained.fingerprint, force)
        out.append(WindowWork(commodity, model_name, w, wdays, todo, trained, cal, history, vintages, had_good))
    return out


def number_vintages(status: pd.DataFrame, todo: list[date], inputs: dict[date, str], model_fingerprint: str,
                    force: bool) -> tuple[Vintages, frozenset]:
    """The vintage each day to compute becomes (after its last attempt) and why; and the days among them
    whose current stored vintage is good (a failure now must leave it current)."""
    rows = {} if status.empty else {pd.Timestamp(r.forecast_start_date).date(): r for r in status.itertuples()}
    numbers, reasons, good = [], [], set()
    for d in todo:
        r = rows.get(d)
        if r is None:
            numbers.append(1)
            reasons.append("force" if force else "first")
            continue
        numbers.append(int(r.last_vintage) + 1)
        ok = r.all_success == 1
        if ok:
            good.add(d)
        reasons.append("force" if force else "retry" if not ok else
                       "model_changed" if r.model_fingerprint != model_fingerprint else
                       "input_changed" if r.input_fingerprint != inputs[d] else "incomplete")
    return Vintages([inputs[d] for d in todo], numbers, reasons), frozenset(good)
