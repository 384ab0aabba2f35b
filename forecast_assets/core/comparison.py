"""Model comparison over a period: scores per horizon, CRPS skill against naive, and whether it is significant.

Input is the long table of per-step scores (one row per commodity, model,
version, forecast_start_date, day_ahead). A forecast counts once per set of
sessions it forecasts: a Saturday, Sunday and Monday forecast (and, on an
exchange calendar, the forecast of a holiday and of the session after it) share
the cutoff and every step's session, and counting them thrice would weigh that
session thrice. Of the forecasts whose step 1 is the same session, the one that
starts latest (the session itself) is kept, whatever the calendar.

Significance: Diebold-Mariano on the CRPS differences to naive over the common
forecast days. Daily forecasts h steps ahead overlap, so the loss differences
are (at most) MA(h-1): the long-run variance is the sum of their
autocovariances up to lag h-1 with equal weights (the truncated, rectangular
kernel of Diebold and Mariano's paper), then the Harvey-Leybourne-Newbold
small-sample correction, which was derived for exactly that variance, and
Student t(n-1). Newey-West (Bartlett) weights at lag h-1 shrink the lags an
MA(h-1) needs in full: that rejected a true null 11.8% of the time at nominal
5% with n=500, h=14; this rejects 5-6% (the test simulates it). The
rectangular variance can come out negative in small samples; then the
Bartlett one (never negative) is used instead; dm_batch returns which rows fell back.
Still oversized with few forecasts (about 10% at n=125, h=14): read small-n
p-values with care.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASELINE = "naive"
KEYS = ["commodity", "model_name", "model_version"]


def dm_batch(d: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HLN-corrected DM statistics, two-sided p-values and whether Bartlett replaced the rectangular
    variance, for each row of d (rows: series of equal length n, no NaN).

    Hand-written (a few lines of autocovariances) rather than statsmodels' OLS HAC: that fits one series at
    a time, and the rectangular kernel needs the Bartlett fallback when its variance is not positive.
    """
    from scipy import stats

    d = np.atleast_2d(np.asarray(d, dtype=np.float64))
    n = d.shape[1]
    lags = max(min(h - 1, n - 1), 0)
    e = d - d.mean(axis=1, keepdims=True)
    gamma = np.stack([(e[:, k:] * e[:, : n - k]).sum(axis=1) / n for k in range(lags + 1)], axis=1)
    rect = gamma[:, 0] + 2 * gamma[:, 1:].sum(axis=1)
    bartlett = gamma[:, 0] + 2 * (gamma[:, 1:] * (1 - np.arange(1, lags + 1) / (lags + 1))).sum(axis=1)
    fallback = ~(rect > 0)
    lrv = np.where(fallback, bartlett, rect)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = d.mean(axis=1) / np.sqrt(lrv / n) * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return stat, 2 * stats.t.sf(np.abs(stat), df=n - 1), fallback


def diebold_mariano(d: np.ndarray, h: int) -> tuple[float, float]:
    """DM statistic (HLN-corrected) and two-sided p-value for mean(d) = 0; d = loss(model) - loss(baseline)."""
    d = np.asarray(d, dtype=np.float64)
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 10 or np.allclose(d, d[0]):
        return float("nan"), float("nan")
    stat, p, _ = dm_batch(d, h)
    return float(stat[0]), float(p[0])


def _first_steps(scores: pd.DataFrame) -> pd.DataFrame:
    """KEYS + forecast_start_date of the forecasts kept: per step-1 session, the latest start."""
    one = scores[scores["day_ahead"] == 1][[*KEYS, "forecast_start_date", "forecast_date"]]
    return (one.sort_values("forecast_start_date").drop_duplicates([*KEYS, "forecast_date"], keep="last")
            [[*KEYS, "forecast_start_date"]])


def one_per_session(df: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of `df` (any table keyed by KEYS + forecast_start_date) of the forecasts kept, judged on
    `scores`' step-1 sessions (df itself when it is the scores)."""
    return df.merge(_first_steps(scores), on=[*KEYS, "forecast_start_date"], how="inner")


def performance(scores: pd.DataFrame, path_scores: pd.DataFrame | None = None, baseline: str = BASELINE
                ) -> pd.DataFrame:
    """One row per commodity, model, version and horizon over the forecasts in `scores`.

    `path_scores` (forecast_metadata's energy_score and variogram_score per forecast) adds their means
    and the energy score's skill against the baseline on common days: whole-path scores, the same on
    every horizon row of a model and version.
    """
    s = one_per_session(scores, scores)
    s = s[s["crps"].notna()].copy()
    for c in ("in_50", "width_50"):  # scored before the 50% band existed: NULL until scored again
        if c not in s:
            s[c] = np.nan
    if s.empty:
        return pd.DataFrame()
    g = s.groupby([*KEYS, "day_ahead"])
    perf = g.agg(
        n_forecasts=("crps", "size"), first_day=("forecast_start_date", "min"), last_day=("forecast_start_date", "max"),
        mae=("abs_error", "mean"), rmse=("sq_error", "mean"), mape=("ape", "mean"), crps=("crps", "mean"),
        coverage_50=("in_50", "mean"), sharpness_50=("width_50", "mean"),
        coverage_80=("in_80", "mean"), coverage_95=("in_95", "mean"), sharpness_80=("width_80", "mean"),
        sharpness_95=("width_95", "mean"), interval_score_80=("interval_score_80", "mean"),
        interval_score_95=("interval_score_95", "mean"), directional_accuracy=("direction_hit", "mean"),
    ).reset_index()
    perf = perf.merge(_pit_fifths(s), on=[*KEYS, "day_ahead"], how="left")
    perf["rmse"] = np.sqrt(perf["rmse"])
    perf["mape"] *= 100.0

    # Skill and DM against the baseline of the same commodity and version, on common days only.
    base = s[s["model_name"] == baseline][["commodity", "model_version", "forecast_start_date", "day_ahead", "crps"]]
    both = s.merge(base, on=["commodity", "model_version", "forecast_start_date", "day_ahead"], suffixes=("", "_base"))
    rows = []
    for key, grp in both.groupby([*KEYS, "day_ahead"]):
        h = int(key[-1])
        skill = 1.0 - grp["crps"].mean() / grp["crps_base"].mean()
        stat, p = diebold_mariano((grp.sort_values("forecast_start_date")["crps"]
                                   - grp.sort_values("forecast_start_date")["crps_base"]).to_numpy(), h)
        rows.append((*key, len(grp), skill, stat, p))
    cmp = pd.DataFrame(rows, columns=[*KEYS, "day_ahead", "n_common", "crps_skill_vs_naive", "dm_stat", "dm_pvalue"])
    perf = perf.merge(cmp, on=[*KEYS, "day_ahead"], how="left")
    is_base = perf["model_name"] == baseline
    perf.loc[is_base, ["dm_stat", "dm_pvalue"]] = np.nan
    if path_scores is not None and len(path_scores):
        perf = perf.merge(_path_performance(one_per_session(path_scores, scores), baseline), on=KEYS, how="left")
    return perf.rename(columns={"day_ahead": "horizon"})


def _pit_fifths(s: pd.DataFrame) -> pd.DataFrame:
    """Per model and step, the PIT histogram in fifths as text ("20/20/20/20/20" in % when calibrated;
    high ends = too narrow, high middle = too wide). For the report only: model_performance does not
    store it (coverage at 50/80/95% is its stored form)."""
    if "pit" not in s:
        return pd.DataFrame(columns=[*KEYS, "day_ahead", "pit_fifths"])
    p = s[s["pit"].notna()]
    fifth = np.minimum((p["pit"].to_numpy() * 5).astype(int), 4)
    counts = pd.crosstab([p[k] for k in [*KEYS, "day_ahead"]], fifth).reindex(columns=range(5), fill_value=0)
    shares = (100 * counts.div(counts.sum(axis=1), axis=0)).round().astype(int)
    text = shares.astype(str).agg("/".join, axis=1).rename("pit_fifths")
    return text.reset_index()


def _path_performance(path_scores: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per commodity, model and version: mean energy and variogram scores (one forecast per session), and
    the energy score's skill against the baseline of the same version on the days both scored."""
    ps = path_scores.dropna(subset=["energy_score"])
    out = ps.groupby(KEYS)[["energy_score", "variogram_score"]].mean().reset_index()
    base = ps[ps["model_name"] == baseline][["commodity", "model_version", "forecast_start_date", "energy_score"]]
    both = ps.merge(base, on=["commodity", "model_version", "forecast_start_date"], suffixes=("", "_base"))
    g = both.groupby(KEYS)[["energy_score", "energy_score_base"]].mean()
    skill = (1.0 - g["energy_score"] / g["energy_score_base"]).rename("energy_skill_vs_naive").reset_index()
    return out.merge(skill, on=KEYS, how="left")


def comparison_table(perf: pd.DataFrame, horizons) -> str:
    """The comparison as text: per commodity and horizon (those in `horizons`, e.g. the steps
    forecast_metadata scores), every model and version side by side, with coverage at 50/80/95% and the
    PIT histogram of that step (not pooled over steps); then the whole-path scores per model."""
    if perf.empty:
        return "(no scored forecasts yet: materialize forecast_metadata after forecasts and actuals)"
    p = perf[perf["horizon"].isin(horizons)].copy()
    p["skill"] = (100 * p["crps_skill_vs_naive"]).map(lambda v: f"{v:+.1f}%" if np.isfinite(v) else "")
    p["dm_p"] = p["dm_pvalue"].map(lambda v: f"{v:.3f}" if np.isfinite(v) else "-")
    def pct(col):
        return (100 * p[col]).map(lambda v: f"{v:.1f}%" if np.isfinite(v) else "-") if col in p else "-"

    p["cov50"], p["cov80"], p["cov95"], p["dir"] = pct("coverage_50"), pct("coverage_80"), pct("coverage_95"), \
        pct("directional_accuracy")
    if "pit_fifths" not in p:
        p["pit_fifths"] = "-"
    cols = ["commodity", "horizon", "model_name", "model_version", "n_forecasts", "crps", "skill", "dm_p", "mae",
            "rmse", "mape", "cov50", "cov80", "cov95", "pit_fifths", "sharpness_95", "dir"]
    p = p.sort_values(["commodity", "horizon", "crps"])[cols]
    p = p.rename(columns={"model_name": "model", "model_version": "version", "n_forecasts": "n",
                          "skill": "crps_skill_vs_naive", "dm_p": "dm_pvalue", "mape": "mape_%",
                          "cov50": "coverage_50", "cov80": "coverage_80", "cov95": "coverage_95",
                          "pit_fifths": "pit_%_by_fifth", "dir": "direction"})
    text = p.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    return text + _path_table(perf)


def _path_table(perf: pd.DataFrame) -> str:
    """The whole-path scores, one line per commodity, model and version (they do not vary by horizon)."""
    if "energy_score" not in perf or perf["energy_score"].isna().all():
        return ""
    w = perf.drop_duplicates(KEYS).dropna(subset=["energy_score"]).copy()
    w["es_skill"] = (100 * w["energy_skill_vs_naive"]).map(lambda v: f"{v:+.1f}%" if np.isfinite(v) else "")
    w = w.sort_values(["commodity", "energy_score"])[[*KEYS, "energy_score", "es_skill", "variogram_score"]]
    w = w.rename(columns={"model_name": "model", "model_version": "version", "es_skill": "energy_skill_vs_naive"})
    return ("\n\nWhole-path scores of the H-step paths (lower is better; variogram score p = 0.5):\n"
            + w.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def miscalibrated(perf: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    """Commodity, model and version whose 95% coverage over all horizons of the period is outside [low, high]."""
    if perf.empty:
        return perf
    w = perf.assign(hits=perf["coverage_95"] * perf["n_forecasts"])
    g = w.groupby(["commodity", "model_name", "model_version"])[["hits", "n_forecasts"]].sum().reset_index()
    g["coverage_95"] = g["hits"] / g["n_forecasts"]
    return g[(g["coverage_95"] < low) | (g["coverage_95"] > high)]
