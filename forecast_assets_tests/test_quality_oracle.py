"""bench/quality_oracle.py: its forecaster must be calibrated, or its failure rates measure nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import quality_oracle as qo  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return qo.fit_wti()


def test_the_fitted_model_is_a_stationary_gjr_garch_with_fat_tails(model):
    assert 0 < model.alpha + model.gamma / 2 + model.beta < 1 and model.omega > 0
    assert 2 < model.nu < 30 and model.gamma >= 0


def test_the_variance_a_day_knows_is_the_variance_of_that_day_s_return(model):
    r, s2 = qo.simulate(model, 2000, 20, np.random.default_rng(0))
    z = (r - model.mu) / np.sqrt(s2)
    assert np.var(z) == pytest.approx(1.0, abs=0.05)
    # off by one day, the standardized returns would keep the volatility clustering
    assert abs(np.corrcoef(z[:, 1:].ravel() ** 2, z[:, :-1].ravel() ** 2)[0, 1]) < 0.03


def test_the_true_predictive_bands_cover_their_nominal_rate_on_average(model):
    h = qo.hits(model, 252, 40, 5000, np.random.default_rng(1))
    for band, (_, _, _, nominal) in qo.BANDS.items():
        assert h[band].shape == (40, 252, len(qo.STEPS))
        # 40 x 252 days, ~720 independent 14-day windows at step 14: the mean's error is ~0.01 for cov95
        assert np.abs(h[band].mean(axis=(0, 1)) - nominal).max() < 0.025

