"""A forecast batch as contract rows, in Arrow, for one bulk write per batch.

Built column by column without Python objects per row: the day columns are
slices of one transposed copy of the paths, constant columns are Arrow
repeats (a numpy array of Python strings costs more than the forecast itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from forecast_assets.core.forecast import ForecastBatch
from forecast_assets.storage.schema import POINT_BANDS, day_columns

_D = pa.date32()
_TS = pa.timestamp("us")


def _dates(a) -> pa.Array:
    return pa.array(np.asarray(a, dtype="datetime64[D]"), type=_D)


def _const(value, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type=type_), n)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Vintages:
    """Per day of a batch (in its order): the input fingerprint, the vintage number and why it was made."""

    input_fingerprint: list[str]
    vintage: list[int]
    reason: list[str]

    @classmethod
    def first(cls, b: ForecastBatch) -> "Vintages":
        """Vintage 1 of every day, no fingerprint recorded (rows built outside a plan, e.g. in tests)."""
        n = len(b.days)
        return cls([None] * n, [1] * n, ["first"] * n)

    def columns(self, day_idx: np.ndarray, only_number: bool = False) -> dict[str, pa.Array]:
        """Per row of day day_idx[i]; only `vintage` for distributions (schema.ADDED says why)."""
        number = np.asarray(self.vintage, dtype=np.int32)[np.asarray(day_idx, dtype=np.int64)]
        if only_number:
            return {"vintage": pa.array(number)}
        idx = pa.array(np.asarray(day_idx, dtype=np.int64))  # Arrow take: no Python object per row
        return {"input_fingerprint": pa.array(self.input_fingerprint, type=pa.string()).take(idx),
                "vintage": pa.array(number),
                "vintage_reason": pa.array(self.reason, type=pa.string()).take(idx)}


def distribution_rows(b: ForecastBatch, model_version: str, generated_at: datetime | None = None,
                      vintages: Vintages | None = None) -> pa.Table:
    """path 1..N for every successful day, plus path 0 (actuals) where all steps are known."""
    ts = generated_at or _now()
    ok = np.flatnonzero(b.ok)
    n_paths, horizon = b.prices.shape[1], b.prices.shape[2]
    known = ok[np.isfinite(b.actuals[ok]).all(axis=1)]
    # (horizon, rows): each day column is one contiguous row; rows are day-major, then path.
    sim = np.ascontiguousarray(b.prices[ok].transpose(2, 0, 1)).reshape(horizon, -1)
    values = np.concatenate([b.actuals[known].T.astype(np.float32), sim], axis=1) if len(known) else sim
    day_idx = np.concatenate([known, np.repeat(ok, n_paths)])
    path_id = np.concatenate([np.zeros(len(known), np.int32),
                              np.tile(np.arange(1, n_paths + 1, dtype=np.int32), len(ok))])
    n = len(day_idx)
    cols = {
        "path_id": pa.array(path_id),
        "forecast_start_date": _dates(b.days[day_idx]),
        "data_cutoff_date": _dates(b.cutoffs[day_idx]),
        "generation_timestamp": _const(ts, n, _TS),
        "commodity": _const(b.commodity, n, pa.string()),
        "model_name": _const(b.model_name, n, pa.string()),
        "model_version": _const(model_version, n, pa.string()),
    }
    for k, c in enumerate(day_columns(horizon)):  # the batch's own horizon: every step becomes a column
        cols[c] = pa.array(values[k], type=pa.float32())
    cols["is_actuals"] = pa.array(path_id == 0)
    cols["has_data_leakage"] = pa.array(b.leakage[day_idx])
    cols["training_cutoff_date"] = _const(b.training_cutoff, n, _D)
    cols["model_fingerprint"] = _const(b.model_fingerprint, n, pa.string())
    cols.update((vintages or Vintages.first(b)).columns(day_idx, only_number=True))
    return pa.table(cols)


def point_rows(b: ForecastBatch, model_version: str, generated_at: datetime | None = None,
               vintages: Vintages | None = None) -> pa.Table:
    """One row per day and step (horizon rows a day), successful or not (model_success says which)."""
    ts = generated_at or _now()
    n_days, horizon = b.step_dates.shape
    rep = np.repeat(np.arange(n_days), horizon)
    n = len(rep)

    def flat(a):
        return np.asarray(a, dtype=np.float64).reshape(-1)

    reasons = np.array(b.reasons, dtype=object)[rep]
    return pa.table({
        "forecast_start_date": _dates(b.days[rep]),
        "forecast_date": _dates(b.step_dates.reshape(-1)),
        "data_cutoff_date": _dates(b.cutoffs[rep]),
        "generation_timestamp": _const(ts, n, _TS),
        "day_ahead": pa.array(np.tile(np.arange(1, horizon + 1, dtype=np.int32), n_days)),
        **{k: pa.array(flat(b.points[k]), from_pandas=True)
           for k in ("forecast_mean", "forecast_std", "lower_95", "upper_95")},
        "commodity": _const(b.commodity, n, pa.string()),
        "model_name": _const(b.model_name, n, pa.string()),
        "model_version": _const(model_version, n, pa.string()),
        "model_success": pa.array(b.ok[rep]),
        "actual_close": pa.array(flat(b.actuals), from_pandas=True),
        "has_data_leakage": pa.array(b.leakage[rep]),
        "failure_reason": pa.array(reasons, type=pa.string()),
        "training_cutoff_date": _const(b.training_cutoff, n, _D),
        "model_fingerprint": _const(b.model_fingerprint, n, pa.string()),
        **{k: pa.array(flat(b.points[k]), from_pandas=True) for k in POINT_BANDS},
        **(vintages or Vintages.first(b)).columns(rep),
    })
