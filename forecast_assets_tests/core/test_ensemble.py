"""core.ensemble alone: the CRPS objectives against scoringrules, the weights' fit, the two combinations, the JSON."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
import scoringrules as sr

from forecast_assets.core import ensemble as ens

RNG = np.random.default_rng(7)


def _members(n=80, p=60, h=3, spreads=(1.0, 1.0, 1.0), shifts=(0.0, 0.0, 0.0), seed=1):
    rng = np.random.default_rng(seed)
    y = 100 + rng.standard_normal((n, h))
    paths = [100 + s + sd * rng.standard_normal((n, p, h)) for sd, s in zip(spreads, shifts)]
    return paths, y


def test_training_range_is_the_two_windows_before():
    assert ens.training_range(date(2024, 7, 1)) == (date(2023, 7, 1), date(2024, 6, 30))
    assert ens.training_range(date(2024, 1, 1)) == (date(2023, 1, 1), date(2023, 12, 31))


def test_trainable_refuses_days_whose_last_step_is_in_the_window():
    w = date(2024, 7, 1)
    days = [date(2023, 6, 30), date(2023, 7, 3), date(2024, 6, 10), date(2024, 6, 27), date(2024, 7, 1)]
    last = [d + timedelta(days=20) for d in days]
    assert ens.trainable(days, last, w).tolist() == [False, True, True, False, False]


def test_mean_abs_diff_is_exact():
    x, y = RNG.standard_normal((5, 7)), RNG.standard_normal((5, 4)) + 0.3
    brute = np.abs(x[:, :, None] - y[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(ens._mean_abs_diff(x, y), brute, rtol=1e-12)
    # Ties within and across the samples (float32 prices tie), and a sample against itself.
    x, y = np.round(x, 1), np.round(y, 1)
    brute = np.abs(x[:, :, None] - y[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(ens._mean_abs_diff(x, y), brute, rtol=1e-12, atol=1e-14)
    self_pairs = np.abs(x[:, :, None] - x[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(2 * ens._pair_sums(np.sort(x, axis=1)) / x.shape[1] ** 2, self_pairs, rtol=1e-12)


@pytest.mark.parametrize("w", [(1, 0, 0), (0.5, 0.25, 0.25), (0.25, 0.25, 0.5)])
def test_linear_pool_objective_is_the_crps_of_the_pooled_sample(w):
    paths, y = _members(n=10, p=40, spreads=(0.5, 1.0, 2.0))
    obj = ens.objective(paths, y, "linear_pool")
    # The mixture with weights k_i/40 is the sample made of k_i copies of each member's whole sample.
    k = np.rint(np.array(w) * 4).astype(int)
    pooled = np.concatenate([np.repeat(p, c, axis=1) for p, c in zip(paths, k) if c], axis=1)
    want = sr.crps_ensemble(y, pooled, m_axis=1, estimator="nrg").mean()
    assert obj(np.array(w)) == pytest.approx(float(want), rel=1e-9)


@pytest.mark.parametrize("w", [(1, 0, 0), (0.5, 0.25, 0.25), (0.2, 0.3, 0.5)])
def test_quantile_average_objective_is_the_crps_of_the_averaged_sample(w):
    paths, y = _members(n=10, p=40, spreads=(0.5, 1.0, 2.0))
    obj = ens.objective(paths, y, "quantile_average")
    z = ens.quantile_average(paths, np.array(w))
    want = sr.crps_ensemble(y, z.astype(np.float64), m_axis=1, estimator="nrg").mean()
    assert obj(np.array(w)) == pytest.approx(float(want), rel=1e-5)  # z is float32


def test_a_days_pool_terms_do_not_depend_on_the_other_days():
    # 300 days: three chunks of pool_terms; a day's terms alone or among others, bit for bit.
    paths, y = _members(n=300, p=40, h=3, spreads=(0.5, 1.0, 2.0))
    every = ens.pool_terms(paths, y)
    some = [5, 17, 200, 299]
    alone = ens.pool_terms([p[some] for p in paths], y[some])
    np.testing.assert_array_equal(every.a[some], alone.a)
    np.testing.assert_array_equal(every.b[some], alone.b)
    assert every.objective(some).a.tolist() == alone.objective().a.tolist()


def test_fit_finds_the_calibrated_member():
    # Member 1 is calibrated, 0 too sharp, 2 biased: the weights go to member 1.
    paths, y = _members(spreads=(0.2, 1.0, 1.0), shifts=(0, 0, 2.0))
    for method in ens.METHODS:
        obj = ens.objective(paths, y, method)
        w = ens.fit_weights(obj)
        assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
        assert w[1] > 0.5, (method, w)
        assert obj(w) <= obj(np.full(3, 1 / 3)) + 1e-12
        assert obj(w) <= obj.member_crps().min() + 1e-9


def test_linear_pool_beats_every_member_when_they_disagree():
    # Two members each too sharp and off in opposite directions: a mixture covers both.
    paths, y = _members(spreads=(0.6, 0.6, 0.6), shifts=(-0.8, 0.8, 5.0))
    obj = ens.objective(paths, y, "linear_pool")
    w = ens.fit_weights(obj)
    assert obj(w) < obj.member_crps().min()
    assert w[2] < 0.01


def test_linear_pool_takes_paths_in_proportion_and_keeps_them_whole():
    paths, _ = _members(n=4, p=50, h=5, shifts=(0, 1000, 2000))
    out = ens.linear_pool(paths, np.array([0.5, 0.3, 0.2]), np.arange(4, dtype=np.uint64), 50)
    assert out.shape == (4, 50, 5)
    counts = np.stack([(np.abs(out[:, :, 0] - c) < 100).sum(axis=1) for c in (100, 1100, 2100)], axis=1)
    assert (counts == [25, 15, 10]).all()
    # every output path is one whole member path
    whole = np.concatenate([p[0] for p in paths])  # (150, 5)
    assert all(np.abs(whole - r).max(axis=1).min() < 1e-3 for r in out[0])
    again = ens.linear_pool(paths, np.array([0.5, 0.3, 0.2]), np.arange(4, dtype=np.uint64), 50)
    np.testing.assert_array_equal(out, again)


def test_linear_pool_takes_each_members_first_paths_and_none_of_a_member_without_weight():
    paths, _ = _members(n=3, p=40, h=4, shifts=(0, 1000, 2000))
    w = np.array([0.25, 0.75, 0.0])
    np.testing.assert_array_equal(ens.paths_needed("linear_pool", w, 40), [10, 30, 0])
    seeds = np.arange(3, dtype=np.uint64)
    out = ens.linear_pool([paths[0][:, :10], paths[1][:, :30], None], w, seeds, 40)  # only what is needed
    np.testing.assert_array_equal(out, ens.linear_pool(paths, w, seeds, 40))  # the same as from every path
    for d in range(3):  # the day's paths are exactly those first ones, shuffled
        got = out[d][np.lexsort(out[d].T[::-1])]
        want = np.concatenate([paths[0][d, :10], paths[1][d, :30]]).astype(np.float32)
        np.testing.assert_array_equal(got, want[np.lexsort(want.T[::-1])])
    assert not np.array_equal(out[0], np.concatenate([paths[0][0, :10], paths[1][0, :30]]).astype(np.float32))
    with pytest.raises(ens.EnsembleError, match="member 1 has 20 paths, the pool needs 30"):
        ens.linear_pool([paths[0], paths[1][:, :20], None], w, seeds, 40)


def test_quantile_average_needs_every_path_of_the_members_with_weight():
    paths, _ = _members(n=2, p=30, h=3)
    w = np.array([0.4, 0.0, 0.6])
    np.testing.assert_array_equal(ens.paths_needed("quantile_average", w, 30), [30, 0, 30])
    np.testing.assert_array_equal(ens.combine("quantile_average", [paths[0], None, paths[2]], w, None, 30),
                                  ens.quantile_average(paths, w))


def test_quantile_average_keeps_the_top_members_ranks():
    paths, _ = _members(n=3, p=30, h=4)
    w = np.array([0.2, 0.5, 0.3])
    out = ens.quantile_average(paths, w)
    ranks = lambda a: np.argsort(np.argsort(a, axis=1), axis=1)  # noqa: E731
    np.testing.assert_array_equal(ranks(out), ranks(paths[1]))
    want = sum(wi * np.sort(p, axis=1) for wi, p in zip(w, paths))
    np.testing.assert_allclose(np.sort(out, axis=1), want, rtol=1e-6)


def test_quantile_average_refuses_unequal_path_counts():
    paths, _ = _members(n=2, p=10)
    with pytest.raises(ens.EnsembleError, match="same number of paths"):
        ens.quantile_average([paths[0], paths[1][:, :5]], np.array([0.5, 0.5]))


def _days(window, n):
    first, _ = ens.training_range(window)
    return [first + timedelta(days=i) for i in range(n)]


def test_learn_equal_weights_without_history_says_so():
    w = ens.learn("Coffee", date(2024, 7, 1), list(ens.MEMBERS), _days(date(2024, 7, 1), 12), None, None)
    assert w.doc["equal_weights"] and w.doc["reason"] == "not enough history (12 days, 60 needed)"
    np.testing.assert_allclose(w.vector, 1 / 3)
    assert w.training_cutoff_date < date(2024, 7, 1)


def test_learn_round_trips_as_json_with_its_days():
    paths, y = _members(n=70)
    days = _days(date(2024, 7, 1), 70)
    w = ens.learn("Coffee", date(2024, 7, 1), list(ens.MEMBERS), days, paths, y, method="quantile_average")
    again = ens.Weights.from_json(w.text)
    assert again.doc == w.doc and again.fingerprint == w.fingerprint
    assert again.doc["training_days"] == [str(d) for d in days] and again.method == "quantile_average"
    assert again.vector.sum() == pytest.approx(1.0)


def test_learn_refuses_a_day_of_the_window():
    with pytest.raises(ens.EnsembleError, match="training days"):
        ens.learn("Coffee", date(2024, 7, 1), list(ens.MEMBERS), [date(2024, 7, 2)], None, None)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["weights"].update(naive=0.9), "sum to"),
    (lambda d: d.update(method="median"), "method"),
    (lambda d: d["weights"].pop("naive"), "name"),
    (lambda d: d.update(window_start="2024-13-45"), "window_start"),
])
def test_loads_refuses_bad_weights(edit, match):
    w = ens.learn("Coffee", date(2024, 7, 1), list(ens.MEMBERS), [], None, None)
    doc = json.loads(w.text)
    edit(doc)
    with pytest.raises(ens.EnsembleError, match=match):
        ens.loads(json.dumps(doc))
    with pytest.raises(ens.EnsembleError, match="not valid JSON"):
        ens.loads(w.text[:-3])
