"""Scores against closed forms and hand-made cases."""

import math

import numpy as np
import scoringrules as sr
import pytest
from scipy import stats

from forecast_assets.core.scoring import score


def gaussian_crps(y, mu, sigma):
    """Closed form (Gneiting & Raftery 2007), written out here to check the library against."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


def test_ensemble_crps_matches_the_analytic_gaussian_crps():
    rng = np.random.default_rng(0)
    mu, sigma = 100.0, 2.0
    paths = (mu + sigma * rng.standard_normal((1, 20000, 3)))
    y = np.array([[100.0, 103.0, 95.0]])
    s = score(paths, y, close0=np.array([100.0]))
    expected = gaussian_crps(y[0], mu, sigma)
    assert np.allclose(s["crps"][0], expected, rtol=0.01)
    # The spread term is there: E|X-y| exceeds the CRPS by E|X-X'|/2 = sigma/sqrt(pi), the term
    # whose omission overstated CRPS in the system this replaces.
    gap = np.abs(paths[0] - y[0]).mean(axis=0) - s["crps"][0]
    assert np.allclose(gap, sigma / math.sqrt(math.pi), rtol=0.02)


def test_coverage_of_a_known_distribution():
    rng = np.random.default_rng(1)
    n, p = 4000, 2000
    paths = rng.standard_normal((n, p, 1)) + 50
    y = rng.standard_normal((n, 1)) + 50  # the truth comes from the forecast distribution
    s = score(paths, y, close0=np.full(n, 50.0))
    assert s["in_95"].mean() == pytest.approx(0.95, abs=0.01)
    assert s["in_80"].mean() == pytest.approx(0.80, abs=0.015)
    assert s["width_95"].mean() == pytest.approx(2 * 1.959964, rel=0.01)
    assert s["width_80"].mean() == pytest.approx(2 * 1.281552, rel=0.01)
    assert s["in_50"].mean() == pytest.approx(0.50, abs=0.02)
    assert s["width_50"].mean() == pytest.approx(2 * 0.674490, rel=0.01)
    hist, _ = np.histogram(s["pit"], bins=10, range=(0, 1))
    assert hist.min() > 0.8 * n / 10  # calibrated: a flat PIT histogram


def test_direction_is_measured_from_day_zero():
    # Last known close 100. Forecast means 101, 99, 102; realized 102, 98, 99.
    paths = np.array([[101.0, 99.0, 102.0]]) + np.zeros((1, 5, 3))
    s = score(paths, np.array([[102.0, 98.0, 99.0]]), close0=np.array([100.0]))
    assert s["direction_hit"][0].tolist() == [1.0, 1.0, 0.0]
    # Measured from step 1 instead (the old system's mistake), step 2 would have been a miss.


def test_interval_score_and_unknown_actuals():
    paths = np.linspace(90, 110, 1001)[None, :, None].repeat(2, axis=2)
    s = score(paths, np.array([[120.0, np.nan]]), close0=np.array([100.0]))
    lo, hi = np.quantile(paths[0, :, 0], [0.025, 0.975])
    assert s["interval_score_95"][0, 0] == pytest.approx((hi - lo) + 2 / 0.05 * (120 - hi))
    for k, v in s.items():
        assert np.isnan(v[0, 1]) or k.startswith("width"), k  # nothing scored before the price is known
    assert s["ape"][0, 0] == pytest.approx(abs(100 - 120) / 120, rel=1e-3)


def test_direction_comes_from_the_median_not_the_mean():
    # Last close 100: most paths end at 99, a few far up pull the mean to 105. The median says down.
    paths = np.array([99.0] * 7 + [120.0] * 3)[None, :, None]
    assert paths.mean() > 100
    s = score(paths, np.array([[98.0]]), close0=np.array([100.0]))
    assert s["direction_hit"][0, 0] == 1.0


def test_direction_ties_flat_forecast_and_flat_price():
    from forecast_assets.core.scoring import direction_hit

    c0 = np.array([100.0, 100.0, 100.0, 100.0])
    median = np.array([[100.0], [100.0], [101.0], [99.0]])
    actual = np.array([[100.0], [100.5], [100.0], [100.0]])
    # flat/flat hit; flat forecast, price up: miss; up or down forecast, price unchanged: miss.
    assert direction_hit(median, actual, c0)[:, 0].tolist() == [1.0, 0.0, 0.0, 0.0]
    paths = np.full((1, 9, 1), 100.0)
    paths[0, :4] = 90.0
    paths[0, 5:] = 110.0  # median exactly the last close
    s = score(paths, np.array([[100.0]]), close0=np.array([100.0]))
    assert s["direction_hit"][0, 0] == 1.0


def test_energy_and_variogram_scores_by_hand():
    from forecast_assets.core.scoring import energy_score, path_scores

    # Two paths of two steps, (1, 0) and (0, 2), realized (0, 0). By hand, E||X - y|| = (1 + 2) / 2 and
    # E||X - X'|| over the 4 ordered pairs = 2 sqrt(5) / 4: ES = 1.5 - sqrt(5) / 4.
    x = np.array([[[1.0, 0.0], [0.0, 2.0]]])
    y = np.zeros((1, 2))
    nrg = 1.5 - np.sqrt(5) / 4
    assert sr.es_ensemble(y, x, backend="numpy")[0] == pytest.approx(nrg)
    # VS_0.5 = sum_ij (mean_m |x_mi - x_mj|^0.5 - |y_i - y_j|^0.5)^2 = 2 * ((1 + sqrt 2)/2)^2.
    vs = 2 * ((1 + np.sqrt(2)) / 2) ** 2
    got = path_scores(x, y)
    assert got["variogram_score"][0] == pytest.approx(vs)
    assert sr.vs_ensemble(y, x, backend="numpy")[0] == pytest.approx(vs)
    # Our energy score with every shift is scoringrules' 'fair' estimator (pairs m != j), on a bigger ensemble.
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((3, 41, 14)).cumsum(axis=-1)
    ys = rng.standard_normal((3, 14)).cumsum(axis=-1)
    np.testing.assert_allclose(energy_score(xs, ys, shifts=40), sr.es_ensemble(ys, xs, estimator="fair",
                                                                               backend="numpy"), rtol=1e-12)
    # With the default 16 shifts: within 1% of the all-pairs estimator.
    xb = rng.standard_normal((2, 600, 14)).cumsum(axis=-1)
    yb = rng.standard_normal((2, 14)).cumsum(axis=-1)
    np.testing.assert_allclose(energy_score(xb, yb), sr.es_ensemble(yb, xb, estimator="fair", backend="numpy"),
                               rtol=0.01)
    # Not all steps known: no whole-path score.
    ys[1, 5] = np.nan
    out = path_scores(xs, ys)
    assert np.isnan(out["energy_score"][1]) and np.isnan(out["variogram_score"][1])
    assert np.isfinite(out["energy_score"][[0, 2]]).all()
