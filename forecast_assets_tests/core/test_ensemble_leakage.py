"""No leakage into the ensemble's weights, as a property (issue 15), like the models' in test_forecast_properties.

Changing any price (actual) dated on or after a window's start, any member forecast made on or after it, or
anything of a forecast whose last step is on or after it (its actuals are not all known before the window),
leaves that window's weights, the whole stored JSON, unchanged. The weights are learned by
core.ensemble.learn_from, on every day given, and by learn_from_terms (what runs/ensemble.py trains the linear
pool with: each day's objective terms computed once for every window of a run): the property holds because
both read only the days they may, whatever the others hold.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast_assets.core import ensemble as ens

WINDOW = date(2024, 7, 1)
H, P = 5, 24
DAYS = np.arange(np.datetime64("2023-07-03"), np.datetime64("2024-08-30")).astype("datetime64[D]")
DAYS = DAYS[np.is_busday(DAYS)]
STEPS = np.stack([np.busday_offset(DAYS, k, roll="forward") for k in range(1, H + 1)], axis=1)
LATE_DAY = STEPS[:, -1] >= np.datetime64(WINDOW)  # not all actuals known before the window (made in it, or before)
LATE_PRICE = STEPS >= np.datetime64(WINDOW)  # (day, step) actuals dated on or after the window's start


def _world(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = 100 + np.cumsum(rng.standard_normal((len(DAYS), H)), axis=1)
    # Three different members: sharp and biased, calibrated, wide: the weights are not trivial.
    paths = [y[:, None, :] + b + s * rng.standard_normal((len(DAYS), P, H)) * np.sqrt(np.arange(1, H + 1))
             for b, s in ((0.8, 0.5), (0.0, 1.0), (0.0, 3.0))]
    return paths, y


PATHS, ACTUAL = _world()


TERMS = "linear_pool from terms"
VARIANTS = (*ens.METHODS, TERMS)


def _weights(paths, actual, variant):
    if variant == TERMS:  # the terms of every day, the late ones included: computed, never read
        terms = ens.pool_terms([ens.subsample(p) for p in paths], actual)
        return ens.learn_from_terms("Coffee", WINDOW, list(ens.MEMBERS), DAYS, STEPS[:, -1], terms, actual)
    return ens.learn_from("Coffee", WINDOW, list(ens.MEMBERS), DAYS, STEPS[:, -1], paths, actual, method=variant)


BASE = {v: _weights(PATHS, ACTUAL, v) for v in VARIANTS}


def test_terms_learn_the_same_weights_as_the_paths_bit_for_bit():
    assert BASE[TERMS].text == BASE["linear_pool"].text


def test_the_base_case_learns_from_enough_days_and_not_equal_weights():
    for w in BASE.values():
        assert not w.doc["equal_weights"] and w.doc["n_train_rows"] >= ens.MIN_TRAINING_DAYS
        assert max(w.doc["training_days"]) < str(WINDOW) and not np.allclose(w.vector, 1 / 3)
    # and the property below is not vacuous: changing a training day's actual does move the weights
    act = ACTUAL.copy()
    act[~LATE_DAY] += 3.0
    assert _weights(PATHS, act, "linear_pool").text != BASE["linear_pool"].text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(VARIANTS), seed=st.integers(0, 2**31 - 1),
       what=st.sampled_from(["prices", "member forecasts", "late forecasts", "all of it"]),
       scale=st.sampled_from([0.0, 1e-6, 0.5, 10.0, 1e6]))
def test_nothing_on_or_after_the_window_start_changes_its_weights(method, seed, what, scale):
    rng = np.random.default_rng(seed)
    paths = [p.copy() for p in PATHS]
    actual = ACTUAL.copy()
    if what in ("prices", "all of it"):  # any price dated on or after the window's start
        pick = LATE_PRICE & (rng.random(LATE_PRICE.shape) < 0.7)
        actual[pick] = 100 + scale * rng.standard_normal(int(pick.sum()))
    if what in ("member forecasts", "late forecasts", "all of it"):
        rows = DAYS >= np.datetime64(WINDOW) if what == "member forecasts" else LATE_DAY
        for p in paths:
            if rng.random() < 0.8:
                p[rows] = 100 + scale * rng.standard_normal(p[rows].shape)
    got = _weights(paths, actual, method)
    assert got.text == BASE[method].text


@pytest.mark.parametrize("method", ens.METHODS)
def test_days_of_the_window_and_after_may_be_missing_or_added(method):
    keep = ~LATE_DAY
    got = ens.learn_from("Coffee", WINDOW, list(ens.MEMBERS), DAYS[keep], STEPS[keep, -1],
                         [p[keep] for p in PATHS], ACTUAL[keep], method=method)
    assert got.text == BASE[method].text
    if method == "linear_pool":
        terms = ens.pool_terms([ens.subsample(p[keep]) for p in PATHS], ACTUAL[keep])
        got = ens.learn_from_terms("Coffee", WINDOW, list(ens.MEMBERS), DAYS[keep], STEPS[keep, -1], terms,
                                   ACTUAL[keep])
        assert got.text == BASE[TERMS].text
