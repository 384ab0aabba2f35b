"""The rows of the explorer's tables: the day's steps, and the model comparison."""

from __future__ import annotations

import math

import pandas as pd

# model_performance columns shown in the comparison grid, in order (the rest stay in the table).
COMPARISON_COLUMNS = ["model_name", "model_version", "horizon", "n_forecasts", "crps", "crps_skill_vs_naive",
                      "dm_pvalue", "mae", "rmse", "mape", "coverage_50", "coverage_80", "coverage_95",
                      "sharpness_80", "sharpness_95", "directional_accuracy", "energy_score", "energy_skill_vs_naive"]


def money(x) -> str:
    """A price as the page shows it: two decimals, "—" when unknown."""
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else f"{float(x):.2f}"


def _band(lo, hi) -> str:
    return f"{money(lo)} – {money(hi)}"


def _hit(actual, lo, hi) -> str:
    if pd.isna(actual):
        return "—"
    return "hit" if lo <= actual <= hi else "miss"


def step_rows(points: pd.DataFrame) -> list[dict]:
    """One row per model and step: session date, median, mean, 80% and 95% bands, realized, and whether
    the realized close fell inside each band (hit) or not (miss); "—" until the close is known. A failed
    model's steps say why instead of numbers."""
    out = []
    for r in points.sort_values(["model_name", "day_ahead"]).itertuples(index=False):
        row = {"model": r.model_name, "step": int(r.day_ahead),
               "session": pd.Timestamp(r.forecast_date).date().isoformat()}
        if not r.model_success:
            row.update(median=f"failed: {r.failure_reason or 'no reason recorded'}", mean="", band_80="",
                       band_95="", realized=money(r.actual_close), hit_80="", hit_95="")
        else:
            row.update(median=money(r.forecast_median), mean=money(r.forecast_mean),
                       band_80=_band(r.lower_80, r.upper_80), band_95=_band(r.lower_95, r.upper_95),
                       realized=money(r.actual_close), hit_80=_hit(r.actual_close, r.lower_80, r.upper_80),
                       hit_95=_hit(r.actual_close, r.lower_95, r.upper_95))
        out.append(row)
    return out


STEP_HEADERS = {"model": "model", "step": "step", "session": "session date", "median": "median", "mean": "mean",
                "band_80": "80% band", "band_95": "95% band", "realized": "realized", "hit_80": "in 80%",
                "hit_95": "in 95%"}


def comparison_rows(perf: pd.DataFrame) -> list[dict]:
    """model_performance rows for the grid: the columns above that the table has, numbers rounded for
    reading (the grid sorts them as numbers), NaN as empty."""
    cols = [c for c in COMPARISON_COLUMNS if c in perf.columns]
    df = perf[cols].copy()
    num = df.select_dtypes("number").columns
    df[num] = df[num].astype(float).round(4)
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in df.to_dict("records")]
