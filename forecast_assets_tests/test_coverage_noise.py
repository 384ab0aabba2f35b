"""bench/coverage_noise.py: the sampling interval of a coverage figure over overlapping h-step forecasts.

Checked on a forecaster that is calibrated by construction: a Gaussian random walk forecast with its
true predictive distribution, N(x_t, h) at step h, every day (so consecutive windows overlap h-1 steps).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import coverage_noise as cn  # noqa: E402


def _hits(rng, n: int, step: int, nominal: float, true: float | None = None) -> np.ndarray:
    """Hits of a central `nominal` band at `step` on a random walk; `true` < nominal makes the band too narrow."""
    x = np.cumsum(rng.standard_normal(n + step))
    move = x[step:step + n] - x[:n]
    width = norm.ppf(0.5 + (true if true is not None else nominal) / 2) * np.sqrt(step)
    return np.abs(move) <= width


def _held(n: int, step: int, nominal: float, reps: int = 200, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    held = 0
    for r in range(reps):
        lo, hi = cn.coverage_interval(_hits(rng, n, step, nominal), step, seed=r)
        held += lo <= nominal <= hi
    return held / reps


@pytest.mark.parametrize("nominal", [0.95, 0.80])
def test_the_90pct_interval_holds_a_calibrated_rate_about_90pct_of_the_time(nominal):
    # 1,000 days at step 14 (~70 independent windows); 200 replications: the held fraction's own
    # standard error is ~0.02, so a right-sized interval lands in [0.82, 0.96].
    assert 0.82 <= _held(1000, 14, nominal) <= 0.96


@pytest.mark.parametrize("nominal", [0.95, 0.80])
def test_at_one_regime_year_it_is_somewhat_too_narrow_never_too_wide(nominal):
    # 252 days at step 14 (~18 windows): measured 0.82-0.86; the bootstrap percentile interval held 0.73.
    # Too narrow means 'within noise' is, if anything, said too rarely.
    assert 0.76 <= _held(252, 14, nominal) <= 0.95


def test_a_band_too_narrow_is_found_out():
    # A nominal 95% band that truly covers 85%: over 1,000 days at step 14 the interval leaves the
    # literal target [0.92, 0.975] in most replications.
    rng = np.random.default_rng(2)
    out = sum(not cn.overlaps(cn.coverage_interval(_hits(rng, 1000, 14, 0.95, true=0.85), 14, seed=r), (0.92, 0.975))
              for r in range(50))
    assert out >= 40


def test_overlap_widens_the_interval_as_the_step_grows():
    rng = np.random.default_rng(3)
    w1 = np.diff(cn.coverage_interval(_hits(rng, 252, 1, 0.8), 1))[0]
    w14 = np.diff(cn.coverage_interval(_hits(rng, 252, 14, 0.8), 14))[0]
    assert w14 > 2 * w1  # ~sqrt(D) with D of several


def test_independent_days_give_about_wilsons_interval():
    rng = np.random.default_rng(4)
    y = rng.random(2000) < 0.8
    lo, hi = cn.coverage_interval(y, 1)
    wlo, whi = cn.wilson(y.mean(), len(y))
    assert cn.design_effect(y, 1) < 1.3
    assert lo <= wlo + 1e-12 and hi >= whi - 1e-12 and (hi - lo) < 1.15 * (whi - wlo)


def test_every_hit_equal_shows_no_variance_so_the_overlap_is_taken_as_step():
    y = np.ones(209)
    assert cn.design_effect(y, 14) == 14.0
    lo, hi = cn.coverage_interval(y, 14)
    assert hi == pytest.approx(1.0) and 0.75 < lo < 0.9  # Wilson at 209/14 ~ 15 windows, none missed
    assert cn.overlaps((lo, hi), (0.92, 0.975))


def test_overlaps_is_closed_on_both_ends():
    assert cn.overlaps((0.975, 1.0), (0.92, 0.975))
    assert cn.overlaps((0.80, 0.92), (0.92, 0.975))
    assert not cn.overlaps((0.976, 1.0), (0.92, 0.975))
    assert not cn.overlaps((0.5, 0.919), (0.92, 0.975))


@pytest.mark.parametrize("hits, step, msg", [
    ([1.0, 0.0, np.nan], 1, "hits must be 0/1"),
    ([1, 0, 2], 1, "hits must be 0/1"),
    ([1], 1, "at least 2 forecast days"),
    ([1, 0, 1], 0, "step must be >= 1"),
])
def test_bad_input_is_refused_by_name(hits, step, msg):
    with pytest.raises(ValueError, match=msg):
        cn.coverage_interval(hits, step)
