"""A forecast batch as contract rows, in Arrow, for one bulk write per batch."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from forecast_assets.core.forecast import ForecastBatch
from forecast_assets.storage.schema import DAY_COLUMNS

_D = pa.date32()
_TS = pa.timestamp("us")


def _dates(a) -> pa.Array:
    return pa.array(np.asarray(a, dtype="datetime64[D]"), type=_D)


def distribution_rows(b: ForecastBatch, model_version: str, generated_at: datetime | None = None) -> pa.Table:
    """path 1..N for every successful day, plus path 0 (actuals) where all steps are known."""
    ts = generated_at or datetime.now(timezone.utc).replace(tzinfo=None)
    ok = np.flatnonzero(b.ok)
    n_paths, horizon = b.prices.shape[1], b.prices.shape[2]
    known = ok[np.isfinite(b.actuals[ok]).all(axis=1)]
    sim = b.prices[ok].reshape(-1, horizon)  # day-major, then path
    values = np.concatenate([b.actuals[known].astype(np.float32), sim]) if len(known) else sim
    day_idx = np.concatenate([known, np.repeat(ok, n_paths)])
    path_id = np.concatenate([np.zeros(len(known), np.int32), np.tile(np.arange(1, n_paths + 1, dtype=np.int32), len(ok))])
    n = len(day_idx)
    cols = {
        "path_id": pa.array(path_id),
        "forecast_start_date": _dates(b.days[day_idx]),
        "data_cutoff_date": _dates(b.cutoffs[day_idx]),
        "generation_timestamp": pa.array(np.full(n, np.datetime64(ts, "us")), type=_TS),
        "commodity": pa.array(np.full(n, b.commodity, dtype=object), type=pa.string()),
        "model_name": pa.array(np.full(n, b.model_name, dtype=object), type=pa.string()),
        "model_version": pa.array(np.full(n, model_version, dtype=object), type=pa.string()),
    }
    for k, c in enumerate(DAY_COLUMNS):
        cols[c] = pa.array(np.ascontiguousarray(values[:, k]), type=pa.float32())
    cols["is_actuals"] = pa.array(path_id == 0)
    cols["has_data_leakage"] = pa.array(b.leakage[day_idx])
    cols["training_cutoff_date"] = _dates(np.full(n, np.datetime64(b.training_cutoff, "D")))
    cols["model_fingerprint"] = pa.array(np.full(n, b.model_fingerprint, dtype=object), type=pa.string())
    return pa.table(cols)


def point_rows(b: ForecastBatch, model_version: str, generated_at: datetime | None = None) -> pa.Table:
    """14 rows per day, successful or not (model_success says which)."""
    ts = generated_at or datetime.now(timezone.utc).replace(tzinfo=None)
    n_days, horizon = b.step_dates.shape
    rep = np.repeat(np.arange(n_days), horizon)
    n = len(rep)

    def flat(a):
        return np.asarray(a, dtype=np.float64).reshape(-1)

    actual = flat(b.actuals)
    reasons = np.array(b.reasons, dtype=object)[rep]
    return pa.table({
        "forecast_start_date": _dates(b.days[rep]),
        "forecast_date": _dates(b.step_dates.reshape(-1)),
        "data_cutoff_date": _dates(b.cutoffs[rep]),
        "generation_timestamp": pa.array(np.full(n, np.datetime64(ts, "us")), type=_TS),
        "day_ahead": pa.array(np.tile(np.arange(1, horizon + 1, dtype=np.int32), n_days)),
        **{k: pa.array(flat(b.points[k]), from_pandas=True) for k in ("forecast_mean", "forecast_std", "lower_95", "upper_95")},
        "commodity": pa.array(np.full(n, b.commodity, dtype=object), type=pa.string()),
        "model_name": pa.array(np.full(n, b.model_name, dtype=object), type=pa.string()),
        "model_version": pa.array(np.full(n, model_version, dtype=object), type=pa.string()),
        "model_success": pa.array(b.ok[rep]),
        "actual_close": pa.array(actual, from_pandas=True),
        "has_data_leakage": pa.array(b.leakage[rep]),
        "failure_reason": pa.array(reasons, type=pa.string()),
        "training_cutoff_date": _dates(np.full(n, np.datetime64(b.training_cutoff, "D"))),
        "model_fingerprint": pa.array(np.full(n, b.model_fingerprint, dtype=object), type=pa.string()),
    })
