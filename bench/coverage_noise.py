"""How far a coverage figure can move by sampling alone: a 90% interval from the 0/1 hit series.

Step-h forecasts of consecutive days share h-1 of their h steps, so their hits (actual inside the
band or not) come in runs: a one-year regime holds only ~n/h independent h-step windows, and a
coverage over it is far noisier than n independent days would make it.

The interval (`coverage_interval`) is a Wilson score interval at an effective sample size n/D,
where D, the design effect, is the variance of the hit rate measured by a circular block
bootstrap (arch.bootstrap.CircularBlockBootstrap) divided by its variance if the days were
independent. Why this and not the bootstrap's own percentiles:
  - blocks of 2h: under a calibrated forecaster, hits h or more days apart are uncorrelated
    (the later forecast knows the earlier window's outcome), so blocks must be at least h long.
    A block bootstrap's variance is a Bartlett-weighted sum of autocovariances up to the block
    length, which with blocks of exactly h drops about a third of the overlap's variance;
    blocks of 2h lose less. Circular, not moving: every day weighs the same, so the bootstrap
    mean is the sample mean. Fixed length, not stationary (random lengths): fewer very short blocks.
  - Wilson at n/D, not bootstrap percentiles: with ~18 blocks a year, a rate near 0.95 is skewed
    and the sample that happens to miss less also shows less variance; the percentile interval
    then held a calibrated rate only 73% of the time (n=252, h=14, nominal 90%; measured on a
    Gaussian random walk, 200 replications). Wilson uses the variance at the rate it tests.
  - a series with every hit equal (a coverage of 1.000 or 0.000) shows no variance to resample:
    D is then taken as h, the number of forecasts each h-step window is shared by.
  - Student's t quantile with n/(2h) - 1 degrees of freedom instead of the normal one: D is itself
    estimated from only ~n/(2h) block means (9 in a year at step 14); this lifted the held rate
    at n=252, h=14 from 0.79-0.81 to 0.82-0.86.
Measured share of replications whose 90% interval holds the calibrated rate (200 each, Gaussian
random walk, forecast_assets_tests/test_coverage_noise.py): 0.82-0.86 at 252 or 419 days and step
14, 0.87 at 1,000 days, 0.91-0.95 at step 1. Too narrow if anything: 'within noise' is said a little
too rarely, never too often. bench/quality_oracle.py measures the same on GJR-GARCH-t prices.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm
from scipy.stats import t as t_dist

LEVEL = 0.90
REPS = 500  # bootstrap replications: the design effect's own noise is then ~6%, small beside the interval's width


def design_effect(hits: np.ndarray, step: int, reps: int = REPS, seed: int = 0) -> float:
    """The hit rate's variance over what independent days would give (>= 1), by a circular block bootstrap of 2*step.

    Never below 1: forecasts of overlapping windows carry no more information than independent days.
    """
    from arch.bootstrap import CircularBlockBootstrap

    y = _hits(hits)
    p = y.mean()
    if p in (0.0, 1.0):
        return float(step)
    block = min(2 * step, len(y))
    boot = CircularBlockBootstrap(block, y, seed=seed).apply(np.mean, reps)
    return max(1.0, float(np.var(boot)) * len(y) / (p * (1 - p)))


def coverage_interval(hits, step: int, level: float = LEVEL, reps: int = REPS, seed: int = 0) -> tuple[float, float]:
    """A `level` sampling interval for the coverage of step-`step` forecasts, from their hits over consecutive days.

    hits: 0/1 (or bool) per forecast day, in date order. Returns (low, high) within [0, 1].
    """
    if int(step) < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    y = _hits(hits)
    n_eff = len(y) / design_effect(y, int(step), reps, seed)
    blocks = len(y) / min(2 * int(step), len(y))
    return wilson(float(y.mean()), n_eff, level, df=max(1.0, blocks - 1))


def wilson(p: float, n: float, level: float = LEVEL, df: float | None = None) -> tuple[float, float]:
    """Wilson's score interval for a rate p seen over n (possibly fractional) independent trials.

    df: use Student's t quantile with df degrees of freedom (None: the normal's).
    """
    z = norm.ppf(0.5 + level / 2) if df is None else t_dist.ppf(0.5 + level / 2, df)
    a = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / a
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / a
    return max(0.0, centre - half), min(1.0, centre + half)


def overlaps(interval: tuple[float, float], band: tuple[float, float]) -> bool:
    """Whether an interval and a target band (both closed) share a point: the miss can be sampling noise."""
    return bool(interval[0] <= band[1] and interval[1] >= band[0])


def _hits(hits) -> np.ndarray:
    y = np.asarray(hits, dtype=float).ravel()
    if y.size < 2:
        raise ValueError(f"need at least 2 forecast days for a coverage interval, got {y.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        bad = y[~np.isin(y, (0.0, 1.0))][:3]
        raise ValueError(f"hits must be 0/1 (a missing actual is not a hit or a miss: drop it first); got {bad}")
    return y
