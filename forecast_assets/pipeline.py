"""What a run does, over the storage interface: train windows, forecast days, attach actuals.

No Dagster here: the assets call these with the partitions they were given,
the benchmark and the tests call them directly. Writes go one window at a
time, each in one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from forecast_assets import artifacts
from forecast_assets.config import Settings
from forecast_assets.core import calendar
from forecast_assets.core.data import cutoff_positions, daily_series
from forecast_assets.core.forecast import TrainedModel, forecast, realized, train
from forecast_assets.core.input_rules import check_history
from forecast_assets.core.models import get_model
from forecast_assets.core.paths import day_seeds
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.rows import distribution_rows, point_rows

Log = Callable[[str], None]


class PipelineError(RuntimeError):
    """A run cannot proceed; the message says what to do."""


def _noop(_: str) -> None:
    pass


def lookback_days(model_name: str) -> int:
    """Calendar days of input before a window's first day, from the model's trading-day need."""
    return int(get_model(model_name).history_days * 1.5) + 14


# -- training ----------------------------------------------------------------
@dataclass
class TrainResult:
    window_start: date
    training_cutoff_date: date
    n_train_rows: int
    size_bytes: int
    location: str
    seconds: float


def train_windows(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                  windows: list[date], created_by: str, log: Log = _noop) -> list[TrainResult]:
    windows = sorted(windows)
    unified = store.read_unified(commodity, end=windows[-1] - timedelta(days=1))
    daily = daily_series(unified, commodity)
    if daily.empty:
        raise PipelineError(f"unified_data has no trading days for {commodity!r}: load data first "
                            "(`forecast-assets load-sample` or `forecast-assets import PATH`)")
    out = []
    for w in windows:
        t0 = time.perf_counter()
        check_history(int((daily.index < pd.Timestamp(w)).sum()), commodity, "unified_data", before=w)
        trained = train(model_name, commodity, daily, w)
        text = trained.text
        row = {
            "commodity": commodity, "model_name": model_name, "model_version": settings.model_version,
            "training_start_date": trained.training_start_date,
            "training_cutoff_date": trained.training_cutoff_date,
            "fitted_model_json": None, "fitted_model_s3_path": None,
            "created_at": datetime.now(timezone.utc).replace(tzinfo=None), "created_by": created_by,
            "year": trained.training_cutoff_date.year, "month": trained.training_cutoff_date.month,
            "window_start": w, "model_fingerprint": trained.fingerprint,
        }
        size = len(text.encode())
        path = None
        if size >= artifacts.INLINE_LIMIT:
            path = artifacts.artifact_path(settings.artifact_dir, settings.model_version, commodity, model_name, w,
                                           trained.fingerprint)
            row["fitted_model_s3_path"] = artifacts.write_text(path, text)
        else:
            row["fitted_model_json"] = text
        store.write_trained_model(row)
        if path is not None:  # only now does no row name the window's previous file
            artifacts.remove_superseded(path, w)
        r = TrainResult(w, trained.training_cutoff_date, trained.doc["n_train_rows"], size,
                        row["fitted_model_s3_path"] or "inline", time.perf_counter() - t0)
        log(f"trained {model_name} {commodity} window {w}: {r.n_train_rows} days to {r.training_cutoff_date}, "
            f"{size / 1e3:.0f} kB ({r.location}), {r.seconds:.1f}s")
        out.append(r)
    return out


def _trained_from_row(row: dict | None, model_name: str, commodity: str, window: date, version: str) -> TrainedModel:
    if row is None:
        raise PipelineError(
            f"no trained {model_name} model {version} for {commodity} window {window}: "
            f"materialize trained_models/{model_name} partition '{commodity}|{window}' first")
    text = row.get("fitted_model_json")
    if not isinstance(text, str):
        text = artifacts.read_text(row["fitted_model_s3_path"])
    trained = TrainedModel.from_json(text)
    named = row.get("model_fingerprint")
    if isinstance(named, str) and named and trained.fingerprint != named:
        raise PipelineError(
            f"trained_models names {model_name} model {named} for {commodity} window {window}, "
            f"but {row.get('fitted_model_s3_path') or 'its fitted_model_json'} holds model {trained.fingerprint}: "
            f"materialize trained_models/{model_name} partition '{commodity}|{window}' again")
    if trained.training_cutoff_date >= window:
        raise PipelineError(f"trained model for window {window} saw data up to {trained.training_cutoff_date}")
    return trained


def load_trained(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                 window: date) -> TrainedModel:
    row = store.read_trained_model(commodity, model_name, settings.model_version, window)
    return _trained_from_row(row, model_name, commodity, window, settings.model_version)


def load_trained_windows(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                         windows: list[date]) -> dict[date, TrainedModel]:
    rows = store.read_trained_models(commodity, model_name, settings.model_version, windows)
    return {w: _trained_from_row(rows.get(w), model_name, commodity, w, settings.model_version) for w in windows}


# -- forecasting -------------------------------------------------------------
@dataclass
class ForecastResult:
    days_asked: int
    days_written: int
    days_skipped: int
    days_failed: int
    rows_distributions: int
    rows_points: int
    seconds: float


def complete_days(status: pd.DataFrame, settings: Settings, days: list[date], fingerprint: str,
                  daily: pd.DataFrame) -> set[date]:
    """Days stored complete (per `status`, sql.forecast_status), from the same trained model and input.

    A day forecast before its last input day arrived (a late feed) is not
    complete: its cutoff is older than the one the data allows now.
    """
    if status.empty:
        return set()
    pos = cutoff_positions(daily.index, days)
    trading = daily.index.values.astype("datetime64[D]")
    expected = {d: (trading[p] if p >= 0 else None) for d, p in zip(days, pos)}
    good = status[(status["n_paths"] == settings.n_paths) & (status["n_points"] == settings.horizon)
                  & (status["all_success"] == 1) & (status["model_fingerprint"] == fingerprint)]
    out = set()
    for d, cut in zip(good["forecast_start_date"], good["data_cutoff_date"]):
        d = pd.Timestamp(d).date()
        if expected.get(d) is not None and np.datetime64(pd.Timestamp(cut).date(), "D") == expected[d]:
            out.add(d)
    return out


# Rows per write transaction: big enough for DuckDB's bulk path (~1M rows/s and up),
# small enough that a killed run loses little; a write always holds whole windows.
WRITE_ROWS = 1_500_000


def forecast_days(store: ForecastStore, settings: Settings, model_name: str, commodity: str, days: list[date],
                  *, force: bool = False, log: Log = _noop, write_rows: int = WRITE_ROWS) -> ForecastResult:
    """Forecast every day in `days`, window by window; skip days already complete from the same model.

    One read of the input, the models and the stored status for the whole
    range, then one write per ~write_rows rows (whole windows, one transaction each).
    """
    t0 = time.perf_counter()
    days = sorted(set(days))
    by_window: dict[date, list[date]] = {}
    for d in days:
        by_window.setdefault(calendar.window_start(d), []).append(d)
    windows = list(by_window)
    models = load_trained_windows(store, settings, model_name, commodity, windows)
    lookback = timedelta(days=lookback_days(model_name))
    unified = store.read_unified(commodity, start=windows[0] - lookback, end=days[-1] + timedelta(days=40))
    daily_all = daily_series(unified, commodity)
    status = pd.DataFrame() if force else store.forecast_status(
        commodity, model_name, settings.model_version, days[0], days[-1])
    res = ForecastResult(len(days), 0, 0, 0, 0, 0, 0.0)
    pending: list[tuple[list[date], pa.Table, pa.Table]] = []
    done = 0

    def flush():
        if not pending:
            return
        todo = [d for p in pending for d in p[0]]
        store.replace_forecasts(commodity, model_name, settings.model_version, todo,
                                pa.concat_tables([p[1] for p in pending]), pa.concat_tables([p[2] for p in pending]))
        pending.clear()
        el = time.perf_counter() - t0
        log(f"{model_name} {commodity}: {done}/{len(days)} days, written to {todo[-1]}, {el:.1f}s, "
            f"{done / max(el, 1e-9):.0f} days/s")

    for w, wdays in by_window.items():
        trained = models[w]
        # History anchored at the window's start, so a day's numbers never depend on how days were batched.
        idx = daily_all.index
        daily = daily_all[(idx >= pd.Timestamp(w - lookback)) & (idx <= pd.Timestamp(wdays[-1] + timedelta(days=40)))]
        todo = wdays if force else sorted(set(wdays) - complete_days(
            status, settings, wdays, trained.fingerprint, daily[daily.index < pd.Timestamp(wdays[-1])]))
        res.days_skipped += len(wdays) - len(todo)
        done += len(wdays) - len(todo)
        if not todo:
            continue
        seeds = day_seeds(settings.seed, commodity, model_name, settings.model_version, todo)
        batch = forecast(trained, daily, todo, n_paths=settings.n_paths, seeds=seeds, horizon=settings.horizon)
        dist, pts = distribution_rows(batch, settings.model_version), point_rows(batch, settings.model_version)
        pending.append((todo, dist, pts))
        res.days_written += int(batch.ok.sum())
        res.days_failed += int((~batch.ok).sum())
        res.rows_distributions += dist.num_rows
        res.rows_points += pts.num_rows
        done += len(todo)
        if sum(p[1].num_rows for p in pending) >= write_rows:
            flush()
    flush()
    if res.days_skipped:
        log(f"{model_name} {commodity}: {res.days_skipped} of {len(days)} days already complete from the same model")
    res.seconds = time.perf_counter() - t0
    return res


# -- actuals -----------------------------------------------------------------
def attach_actuals(store: ForecastStore, commodity: str, days: list[date], log: Log = _noop) -> tuple[int, int]:
    """Realized closes for the 14 steps of each day's forecasts: fills actual_close and path-0 rows.

    Returns (days with every step known, days with some step known).
    """
    days = sorted(set(days))
    unified = store.read_unified(commodity, start=days[0], end=days[-1] + timedelta(days=40))
    daily = daily_series(unified, commodity)
    steps = calendar.step_dates(days)
    closes = realized(daily, steps)
    horizon = steps.shape[1]
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
