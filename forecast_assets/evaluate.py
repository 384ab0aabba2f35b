"""Scoring runs over the storage interface: per-forecast scores, forecast_metadata, model_performance.

No Dagster here (the assets call these), and no scoring formulas either: those
are in core.scoring and core.evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa

from forecast_assets.core.data import daily_series
from forecast_assets.core.evaluation import performance
from forecast_assets.core.forecast import realized
from forecast_assets.core.scoring import score
from forecast_assets.storage.base import ForecastStore
from forecast_assets.storage.schema import METADATA_HORIZONS, SCORE_COLUMNS, columns, qualified

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
    """Score every model and version forecast on these days with the actuals known now."""
    days = sorted(set(days))
    start, end = days[0], days[-1]
    pairs = store.query(
        f"SELECT DISTINCT model_name, model_version FROM {qualified('point_forecasts')} WHERE commodity = ? "
        f"AND forecast_start_date BETWEEN ? AND ? ORDER BY 1, 2", [commodity, start, end])
    unified = store.read_unified(commodity, start=start - timedelta(days=30), end=end + timedelta(days=40))
    daily = daily_series(unified, commodity)
    wanted = np.asarray(days, dtype="datetime64[D]")
    score_rows, meta_rows = [], []
    for model_name, version in pairs.itertuples(index=False):
        pts, paths = store.read_paths(commodity, model_name, version, start, end)
        if not len(pts):
            continue
        horizon = paths.shape[2]
        fdays = pts["forecast_start_date"].values.astype("datetime64[D]")[::horizon]
        sel = np.isin(fdays, wanted)
        fdays, paths = fdays[sel], paths[sel]
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
        })
        score_rows.append(long)
        meta = pd.DataFrame({"commodity": commodity, "model_name": model_name, "model_version": version,
                             "forecast_start_date": fdays, "data_cutoff_date": cutoffs})
        for m, src in _METADATA_FROM.items():
            for h in METADATA_HORIZONS:
                meta[f"{m}_{h}d"] = s[src][:, h - 1] * (100.0 if m == "mape" else 1.0)
        meta["actuals_available"] = np.isfinite(actual).all(axis=1)
        meta["model_success"] = True
        meta["evaluated_at"] = _now()
        meta_rows.append(meta)
        # Days whose model failed: a metadata row says so, with no scores.
        failed = store.query(
            f"SELECT DISTINCT forecast_start_date, data_cutoff_date FROM {qualified('point_forecasts')} "
            f"WHERE commodity = ? AND model_name = ? AND model_version = ? AND NOT model_success "
            f"AND forecast_start_date BETWEEN ? AND ?", [commodity, model_name, version, start, end])
        if len(failed):
            meta_rows.append(failed.assign(commodity=commodity, model_name=model_name, model_version=version,
                                           actuals_available=False, model_success=False, evaluated_at=_now()))
    scores = pd.concat(score_rows, ignore_index=True) if score_rows else pd.DataFrame(columns=columns("forecast_scores"))
    meta = pd.concat(meta_rows, ignore_index=True) if meta_rows else pd.DataFrame(columns=columns("forecast_metadata"))
    store.replace_scores(commodity, days, _arrow(scores, "forecast_scores"), _arrow(meta, "forecast_metadata"))
    complete = int(meta["actuals_available"].sum()) if len(meta) else 0
    log(f"scored {commodity}: {len(meta)} forecasts on {len(days)} days ({len(pairs)} model versions), "
        f"{complete} with all 14 actuals")
    return ScoreResult(len(days), len(meta), complete)


def _arrow(df: pd.DataFrame, table: str) -> pa.Table:
    df = df.reindex(columns=columns(table))
    for c in df.columns:
        if c.endswith("_date") or c in ("forecast_start_date", "forecast_date"):
            df[c] = pd.to_datetime(df[c]).dt.date
    return pa.Table.from_pandas(df, preserve_index=False)


def model_performance(store: ForecastStore, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Comparison over [start, end] (default: every scored forecast), stored in model_performance."""
    where, params = ["crps IS NOT NULL"], []
    if start:
        where.append("forecast_start_date >= ?")
        params.append(start)
    if end:
        where.append("forecast_start_date <= ?")
        params.append(end)
    scores = store.query(f"SELECT * FROM {qualified('forecast_scores')} WHERE {' AND '.join(where)}", params)
    perf = performance(scores)
    if perf.empty:
        return perf
    perf = perf.rename(columns={"first_day": "period_start", "last_day": "period_end"})
    perf["evaluated_at"] = _now()
    store.replace_performance(_arrow(perf, "model_performance"))
    return perf



def write_pictures(store: ForecastStore, plot_dir, perf: pd.DataFrame) -> dict[str, Path]:
    """CRPS by horizon, PIT histograms, and a fan chart per commodity and model of the latest fully scored day."""
    from forecast_assets import plots

    out = {}
    if perf.empty:
        return out
    out["crps_by_horizon"] = plots.crps_by_horizon(perf, Path(plot_dir) / "crps_by_horizon.png")
    pit = store.query(f"SELECT commodity, model_name, model_version, forecast_start_date, pit "
                      f"FROM {qualified('forecast_scores')} WHERE pit IS NOT NULL")
    pit = pit[pd.to_datetime(pit["forecast_start_date"]).dt.dayofweek < 5]  # one forecast per cutoff
    out["pit_histograms"] = plots.pit_histograms(pit, Path(plot_dir) / "pit_histograms.png")
    latest = store.query(
        f"SELECT commodity, model_name, model_version, MAX(forecast_start_date) AS d FROM {qualified('forecast_metadata')} "
        f"WHERE actuals_available GROUP BY ALL ORDER BY ALL")
    for c, m, v, d in latest.itertuples(index=False):
        d = pd.Timestamp(d).date()
        pts, paths = store.read_paths(c, m, v, d, d)
        if not len(pts):
            continue
        unified = store.read_unified(c, start=d - timedelta(days=90), end=d + timedelta(days=30))
        daily = daily_series(unified, c)
        steps = pts["forecast_date"].values.astype("datetime64[D]")
        hist = daily["close"][daily.index < pd.Timestamp(d)].iloc[-60:]
        out[f"fan_{c}_{m}_{v}"] = plots.fan_chart(
            hist, steps, paths[0], realized(daily, steps[None, :])[0], f"{c} {m} {v}: forecast of {d}",
            Path(plot_dir) / f"fan_{c}_{m}_{v}.png")
    return out


def comparison_table(perf: pd.DataFrame, horizons=(1, 7, 14)) -> str:
    """The comparison as text: per commodity and horizon, every model and version side by side."""
    if perf.empty:
        return "(no scored forecasts yet: materialize forecast_metadata after forecasts and actuals)"
    p = perf[perf["horizon"].isin(horizons)].copy()
    p["skill"] = (100 * p["crps_skill_vs_naive"]).map(lambda v: f"{v:+.1f}%" if np.isfinite(v) else "")
    p["dm_p"] = p["dm_pvalue"].map(lambda v: f"{v:.3f}" if np.isfinite(v) else "-")
    p["cov95"] = (100 * p["coverage_95"]).map("{:.1f}%".format)
    p["cov80"] = (100 * p["coverage_80"]).map("{:.1f}%".format)
    p["dir"] = (100 * p["directional_accuracy"]).map("{:.1f}%".format)
    cols = ["commodity", "horizon", "model_name", "model_version", "n_forecasts", "crps", "skill", "dm_p", "mae",
            "rmse", "mape", "cov80", "cov95", "sharpness_95", "dir"]
    p = p.sort_values(["commodity", "horizon", "crps"])[cols]
    p = p.rename(columns={"model_name": "model", "model_version": "version", "n_forecasts": "n",
                          "skill": "crps_skill_vs_naive", "dm_p": "dm_pvalue", "mape": "mape_%",
                          "cov80": "coverage_80", "cov95": "coverage_95", "dir": "direction"})
    return p.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def miscalibrated(perf: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    """Commodity, model and version whose 95% coverage over all horizons of the period is outside [low, high]."""
    if perf.empty:
        return perf
    w = perf.assign(hits=perf["coverage_95"] * perf["n_forecasts"])
    g = w.groupby(["commodity", "model_name", "model_version"])[["hits", "n_forecasts"]].sum().reset_index()
    g["coverage_95"] = g["hits"] / g["n_forecasts"]
    return g[(g["coverage_95"] < low) | (g["coverage_95"] > high)]


def leaking_scored(store: ForecastStore, commodity: str, start: date, end: date) -> int:
    """Scored forecasts (metadata rows) whose stored rows flag data leakage."""
    q = store.query(
        f"SELECT COUNT(*) AS n FROM {qualified('forecast_metadata')} m WHERE m.commodity = ? "
        f"AND m.forecast_start_date BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM {qualified('point_forecasts')} p "
        f"WHERE p.commodity = m.commodity AND p.model_name = m.model_name AND p.model_version = m.model_version "
        f"AND p.forecast_start_date = m.forecast_start_date AND p.has_data_leakage)", [commodity, start, end])
    return int(q["n"].iloc[0])


def missing_scored_days(store: ForecastStore, commodity: str, start: date, end: date) -> pd.DataFrame:
    """Successful forecasts whose 14 actuals are all stored but which have no complete score row."""
    return store.query(
        f"SELECT p.model_name, p.model_version, p.forecast_start_date FROM {qualified('point_forecasts')} p "
        f"LEFT JOIN {qualified('forecast_metadata')} m ON m.commodity = p.commodity AND m.model_name = p.model_name "
        f"AND m.model_version = p.model_version AND m.forecast_start_date = p.forecast_start_date "
        f"AND m.actuals_available AND m.crps_14d IS NOT NULL "
        f"WHERE p.commodity = ? AND p.forecast_start_date BETWEEN ? AND ? AND p.model_success "
        f"GROUP BY p.model_name, p.model_version, p.forecast_start_date "
        f"HAVING COUNT(p.actual_close) = 14 AND COUNT(m.forecast_start_date) = 0", [commodity, start, end])
