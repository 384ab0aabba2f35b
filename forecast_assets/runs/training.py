"""Training: fit a model per semiannual window on the data before it, and store it (JSON, a file when large)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pandas as pd

from forecast_assets.config import Settings
from forecast_assets.core.data import daily_series
from forecast_assets.core.forecast import train
from forecast_assets.core.input_rules import MIN_TRADING_DAYS, InputDataError, check_history
from forecast_assets.core.models import ModelError, get_model
from forecast_assets.runs import artifacts
from forecast_assets.runs.loading import PipelineError
from forecast_assets.runs.plan import Log, noop
from forecast_assets.storage.base import ForecastStore


@dataclass
class TrainResult:
    window_start: date
    training_cutoff_date: date
    n_train_rows: int
    size_bytes: int
    location: str
    seconds: float


class WindowsFailed(PipelineError):
    """Some windows could not be trained; the others were trained and written."""

    def __init__(self, failures: dict[str, str], trained: list[TrainResult]):
        self.failures, self.trained = failures, trained
        lines = "\n".join(f"  {k}: {v}" for k, v in failures.items())
        super().__init__(f"{len(failures)} window{'s' if len(failures) > 1 else ''} could not be trained "
                         f"({len(trained)} other{' was' if len(trained) == 1 else 's were'} written):\n{lines}")


def min_history_days(model_name: str, horizon: int) -> int:
    """Trading days a window needs before it: the 60-day rule, or more for a model that says so."""
    model = get_model(model_name)
    own = model.min_history_days(horizon) if hasattr(model, "min_history_days") else 0
    return max(MIN_TRADING_DAYS, own)


def train_windows(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                  windows: list[date], created_by: str, log: Log = noop) -> list[TrainResult]:
    """Train and write every window that can be; raise WindowsFailed naming the others afterwards.

    A window without enough history (or whose fit fails) does not take the other windows of the run down.
    The rows are written together once every window is trained (one transaction: a connection per
    window cost ~4% of a training run); a process killed before then leaves model files no row names,
    which the window's next training removes."""
    windows = sorted(windows)
    if settings.env != "databricks":  # a model of 1 MB or more goes there: refuse before training anything
        artifacts.check_writable(settings.artifact_dir)
    unified = store.read_unified(commodity, end=windows[-1] - timedelta(days=1))
    daily = daily_series(unified, commodity)
    if daily.empty:
        raise PipelineError(f"unified_data has no trading days for {commodity!r}: load data first "
                            "(`forecast-assets load-sample` or `forecast-assets import PATH`)")
    out, failures, written = [], {}, []
    need = min_history_days(model_name, settings.horizon)
    for w in windows:
        t0 = time.perf_counter()
        try:
            check_history(int((daily.index < pd.Timestamp(w)).sum()), commodity, "unified_data", before=w,
                          needed=need, model=model_name if need > MIN_TRADING_DAYS else None)
            trained = train(model_name, commodity, daily, w, settings.horizon)
        except (InputDataError, ModelError) as exc:
            failures[f"{commodity}|{w}"] = str(exc)
            log(f"window {commodity}|{w} of {model_name} not trained: {exc}")
            continue
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
        written.append((row, path))
        r = TrainResult(w, trained.training_cutoff_date, trained.doc["n_train_rows"], size,
                        row["fitted_model_s3_path"] or "inline", time.perf_counter() - t0)
        log(f"trained {model_name} {commodity} window {w}: {r.n_train_rows} days to {r.training_cutoff_date}, "
            f"{size / 1e3:.0f} kB ({r.location}), {r.seconds:.1f}s")
        out.append(r)
    if written:
        store.write_trained_models([row for row, _ in written])
    for (row, path) in written:
        if path is not None:  # only now does no row name the window's previous file
            artifacts.remove_superseded(path, row["window_start"])
    if failures:
        raise WindowsFailed(failures, out)
    return out
