"""Scoring runs over the storage interface: per-forecast scores, forecast_metadata, model_performance.

No Dagster here (the assets call these), and no scoring formulas either: those
are in core.scoring and core.comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa

from forecast_assets.core.data import daily_series
from forecast_assets.core.comparison import performance
from forecast_assets.core.forecast import realized
from forecast_assets.core.scoring import path_scores, score
from forecast_assets.storage.base import ForecastStore
from forecast_assets.runs.plan import after_days
from forecast_assets.storage.schema import SCORE_COLUMNS, columns, metadata_horizons

# forecast_metadata metric -> per-step score it is taken from
_METADATA_FROM = {"mae": "abs_error", "rmse": "abs_error", "mape": "ape", "crps": "crps", "coverage_80": "in_80",
                  "coverage_95": "in_95", "sharpness_80": "width_80", "sharpness_95": "width_95",
                  "directional_accuracy": "direction_hit"}


@dataclass
class ScoreResult:
    days: int
    forecasts_scored: int
    forecasts_complete: int


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def score_days(store: ForecastStore, commodity: str, days: list[date], log=lambda _: None) -> ScoreResult:
    """Score every model and version forecast on these days with the actuals known now (the store's horizon)."""
    days = sorted(set(days))
    start, end, steps_scored = days[0], days[-1], store.horizon
    pairs = store.model_versions(commodity, start, end)
    unified = store.read_unified(commodity, start=start - timedelta(days=30),
                                 end=end + timedelta(days=after_days(steps_scored)))
    daily = daily_series(unified, commodity)
    wanted = np.asarray(days, dtype="datetime64[D]")
    score_rows, meta_rows = [], []
    scored: dict[tuple, set] = {}  # (day, vintage) pairs scored as the latest, per model and version
    for model_name, version, vintage in ((m, v, w) for m, v in pairs.itertuples(index=False)
                                         for w in ("latest", "first")):
        pts, paths = store.read_paths(commodity, model_name, version, start, end, vintage=vintage)
        if not len(pts):
            continue
        horizon = paths.shape[2]
        fdays = pts["forecast_start_date"].values.astype("datetime64[D]")[::horizon]
        vintages = pts["vintage"].to_numpy()[::horizon]
        sel = np.isin(fdays, wanted)
        seen = scored.setdefault((model_name, version), set())
        if vintage == "first":  # scored again only where the latest (scored above) is a later vintage
            sel &= np.array([(d, v) not in seen for d, v in zip(fdays.tolist(), vintages.tolist())])
        else:
            seen.update(zip(fdays.tolist(), vintages.tolist()))
        fdays, paths, vintages = fdays[sel], paths[sel], vintages[sel]
        pts = pts[np.repeat(sel, horizon)]
        steps = pts["forecast_date"].values.astype("datetime64[D]").reshape(-1, horizon)
        cutoffs = pts["data_cutoff_date"].values.astype("datetime64[D]")[::horizon]
        actual = realized(daily, steps)
        close0 = realized(daily, cutoffs[:, None])[:, 0]
        s = score(paths, actual, close0, mean=pts["forecast_mean"].to_numpy().reshape(-1, horizon))
        n = len(fdays)
        long = pd.DataFrame({
            "commodity": commodity, "model_name": model_name, "model_version": version,
            "forecast_start_date": np.repeat(fdays, horizon), "day_ahead": np.tile(np.arange(1, horizon + 1), n),
            "forecast_date": steps.reshape(-1), "actual_close": actual.reshape(-1),
            "close_day0": np.repeat(close0, horizon), **{k: s[k].reshape(-1) for k in SCORE_COLUMNS},
            "vintage": np.repeat(vintages, horizon),
        })
        score_rows.append(long)
        meta = pd.DataFrame({"commodity": commodity, "model_name": model_name, "model_version": version,
                             "forecast_start_date": fdays, "data_cutoff_date": cutoffs, "vintage": vintages})
        for m, src in _METADATA_FROM.items():
            for h in metadata_horizons(steps_scored):
                meta[f"{m}_{h}d"] = s[src][:, h - 1] * (100.0 if m == "mape" else 1.0)
        meta = meta.assign(**path_scores(paths, actual))  # whole H-step paths: NaN until all steps are known
        meta["actuals_available"] = np.isfinite(actual).all(axis=1)
        meta["model_success"] = True
        meta["evaluated_at"] = _now()
        meta_rows.append(meta)
        # Days whose model failed (no good vintage): a metadata row says so, with no scores.
        failed = store.failed_days(commodity, model_name, version, start, end) if vintage == "latest" else []
        if len(failed):
            meta_rows.append(failed.assign(commodity=commodity, model_name=model_name, model_version=version,
                                           actuals_available=False, model_success=False, evaluated_at=_now()))
    meta_cols = columns("forecast_metadata", steps_scored)
    scores = pd.concat(score_rows, ignore_index=True) if score_rows else pd.DataFrame(columns=columns("forecast_scores"))
    meta = pd.concat(meta_rows, ignore_index=True) if meta_rows else pd.DataFrame(columns=meta_cols)
    store.replace_scores(commodity, days, _arrow(scores, columns("forecast_scores")), _arrow(meta, meta_cols))
    complete = int(meta["actuals_available"].sum()) if len(meta) else 0
    log(f"scored {commodity}: {len(meta)} forecasts on {len(days)} days ({len(pairs)} model versions), "
        f"{complete} with all {steps_scored} actuals")
    return ScoreResult(len(days), len(meta), complete)


def _arrow(df: pd.DataFrame, cols: list[str]) -> pa.Table:
    df = df.reindex(columns=cols)
    for c in df.columns:
        if c.endswith("_date") or c in ("forecast_start_date", "forecast_date"):
            df[c] = pd.to_datetime(df[c]).dt.date
    return pa.Table.from_pandas(df, preserve_index=False)


def model_performance(store: ForecastStore, start: date | None = None, end: date | None = None,
                      scored_as: str = "latest") -> pd.DataFrame:
    """Comparison over [start, end] (default: every scored forecast), stored in model_performance with
    scored_as: each day's latest vintage, or its first ("as first published", what a trader saw)."""
    perf = performance(store.read_scores(start, end, scored_as), store.read_path_scores(start, end, scored_as))
    if perf.empty:
        return perf
    perf = perf.rename(columns={"first_day": "period_start", "last_day": "period_end"})
    perf["scored_as"] = scored_as
    perf["evaluated_at"] = _now()
    store.replace_performance(_arrow(perf, columns("model_performance")))
    return perf
