"""Pictures people would rather look at than read: fan chart, CRPS and coverage by horizon, PIT histograms
per step (steps 1, H // 2 and H: a pooled histogram hides a step-1 U under a step-14 hump).

Written as PNG files (matplotlib's Agg backend, no display needed); the
Dagster layer shows them in the UI through materialization metadata.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from datetime import timedelta  # noqa: E402

from forecast_assets.core.calendar import span_days  # noqa: E402
from forecast_assets.core.comparison import one_per_session  # noqa: E402
from forecast_assets.core.data import daily_series  # noqa: E402
from forecast_assets.core.forecast import realized  # noqa: E402
from forecast_assets.storage.base import ForecastStore  # noqa: E402
from forecast_assets.storage.schema import metadata_horizons  # noqa: E402


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def fan_chart(history: pd.Series, step_dates, paths: np.ndarray, actual: np.ndarray, title: str, path: Path) -> Path:
    """One forecast's paths as quantile bands over its steps, the history before it, and what happened."""
    x = pd.to_datetime(np.asarray(step_dates, dtype="datetime64[D]"))
    q = np.quantile(np.asarray(paths, dtype=np.float64), [0.025, 0.10, 0.25, 0.5, 0.75, 0.90, 0.975], axis=0)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(history.index, history.values, color="black", lw=1.2, label="close (known at cutoff)")
    for (lo, hi), alpha, label in (((0, 6), 0.15, "95%"), ((1, 5), 0.25, "80%"), ((2, 4), 0.35, "50%")):
        ax.fill_between(x, q[lo], q[hi], color="tab:blue", alpha=alpha, lw=0, label=f"{label} interval")
    ax.plot(x, q[3], color="tab:blue", lw=1.5, label="median path")
    for p in np.asarray(paths)[:5]:
        ax.plot(x, p, color="tab:blue", lw=0.5, alpha=0.6)
    if np.isfinite(actual).any():
        ax.plot(x, actual, color="tab:red", marker="o", ms=3, lw=1.5, label="realized")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _save(fig, path)


def crps_by_horizon(perf: pd.DataFrame, path: Path) -> Path:
    """Mean CRPS per horizon, one panel per commodity, one line per model and version."""
    commodities = sorted(perf["commodity"].unique())
    fig, axes = plt.subplots(1, len(commodities), figsize=(5.5 * len(commodities), 4), squeeze=False)
    for ax, c in zip(axes[0], commodities):
        sub = perf[perf["commodity"] == c]
        for (m, v), g in sub.groupby(["model_name", "model_version"]):
            g = g.sort_values("horizon")
            ax.plot(g["horizon"], g["crps"], marker="o", ms=3, label=f"{m} {v}")
        ax.set_title(f"{c}: CRPS by horizon (lower is better)")
        ax.set_xlabel("trading days ahead")
        ax.set_ylabel("CRPS (price units)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def coverage_by_horizon(perf: pd.DataFrame, path: Path) -> Path:
    """Coverage of the 50/80/95% bands per horizon: one column of panels per commodity, one row per band,
    one line per model and version, the nominal level dashed."""
    commodities = sorted(perf["commodity"].unique())
    bands = [(b, f"coverage_{b}") for b in (50, 80, 95) if f"coverage_{b}" in perf and perf[f"coverage_{b}"].notna().any()]
    fig, axes = plt.subplots(len(bands), len(commodities), figsize=(5.5 * len(commodities), 2.8 * len(bands)),
                             squeeze=False, sharex=True)
    for j, c in enumerate(commodities):
        sub = perf[perf["commodity"] == c]
        for i, (b, col) in enumerate(bands):
            ax = axes[i][j]
            for (m, v), g in sub.groupby(["model_name", "model_version"]):
                g = g.sort_values("horizon")
                ax.plot(g["horizon"], 100 * g[col], marker="o", ms=3, label=f"{m} {v}")
            ax.axhline(b, color="black", lw=1, ls="--")
            ax.set_title(f"{c}: {b}% band coverage", fontsize=9)
            ax.set_ylabel("% of realized closes inside")
            ax.grid(alpha=0.3)
            if i == len(bands) - 1:
                ax.set_xlabel("trading days ahead")
        axes[0][j].legend(fontsize=8)
    return _save(fig, path)


def pit_histograms(scores: pd.DataFrame, path: Path, steps, bins: int = 10) -> Path:
    """PIT histogram per commodity and model (rows) and step (columns, `steps`): flat when calibrated."""
    s = scores[scores["pit"].notna() & scores["day_ahead"].isin(steps)]
    keys = sorted(s.groupby(["commodity", "model_name", "model_version"]).groups)
    steps = sorted(set(steps))
    fig, axes = plt.subplots(max(len(keys), 1), len(steps), figsize=(3.4 * len(steps), 2.5 * max(len(keys), 1)),
                             squeeze=False, sharex=True)
    for i, (c, m, v) in enumerate(keys):
        mine = s[(s["commodity"] == c) & (s["model_name"] == m) & (s["model_version"] == v)]
        for j, h in enumerate(steps):
            ax = axes[i][j]
            ax.hist(mine.loc[mine["day_ahead"] == h, "pit"], bins=bins, range=(0, 1), density=True,
                    color="tab:blue", alpha=0.7)
            ax.axhline(1.0, color="black", lw=1, ls="--")
            ax.set_title(f"{c} {m} {v}: step {h}", fontsize=9)
            ax.set_ylim(0, max(2.5, ax.get_ylim()[1]))
    fig.suptitle("PIT histograms per step: flat = calibrated, U = too narrow, hump = too wide", fontsize=10, y=1.01)
    return _save(fig, path)


def write_pictures(store: ForecastStore, plot_dir, perf: pd.DataFrame) -> dict[str, Path]:
    """CRPS by horizon, PIT histograms, and a fan chart per commodity and model of the latest fully scored day."""
    out = {}
    if perf.empty:
        return out
    out["crps_by_horizon"] = crps_by_horizon(perf, Path(plot_dir) / "crps_by_horizon.png")
    out["coverage_by_horizon"] = coverage_by_horizon(perf, Path(plot_dir) / "coverage_by_horizon.png")
    pit = store.read_pit()
    pit = one_per_session(pit, pit)  # a weekend's or holiday's forecast is the next session's
    out["pit_histograms"] = pit_histograms(pit, Path(plot_dir) / "pit_histograms.png",
                                           metadata_horizons(store.horizon))
    for c, m, v, d in store.latest_scored_days().itertuples(index=False):
        d = pd.Timestamp(d).date()
        pts, paths = store.read_paths(c, m, v, d, d)
        if not len(pts):
            continue
        # To the last step's close, with 11 days to spare (30 days for 14 steps).
        unified = store.read_unified(c, start=d - timedelta(days=90),
                                     end=d + timedelta(days=span_days(paths.shape[2]) + 11))
        daily = daily_series(unified, c)
        steps = pts["forecast_date"].values.astype("datetime64[D]")
        hist = daily["close"][daily.index < pd.Timestamp(d)].iloc[-60:]
        out[f"fan_{c}_{m}_{v}"] = fan_chart(
            hist, steps, paths[0], realized(daily, steps[None, :])[0], f"{c} {m} {v}: forecast of {d}",
            Path(plot_dir) / f"fan_{c}_{m}_{v}.png")
    return out
