"""The fast summaries equal numpy's straightforward ones."""

import numpy as np

from forecast_assets.core.paths import QUANTILE_COLUMNS, summarize


def test_summary_equals_numpys_quantile_mean_and_std():
    rng = np.random.default_rng(3)
    paths = rng.lognormal(4.0, 0.05, size=(9, 2000, 14)).astype(np.float32)
    paths[4] = np.nan  # a failed day
    got = summarize(paths)
    p = paths.astype(np.float64)
    q = np.quantile(p, [0.025, 0.975], axis=1)
    np.testing.assert_array_equal(got["lower_95"], q[0])
    np.testing.assert_array_equal(got["upper_95"], q[1])
    for name, level in QUANTILE_COLUMNS.items():  # the median and the 50/80% bands too
        np.testing.assert_array_equal(got[name], np.quantile(p, level, axis=1), err_msg=name)
    assert set(QUANTILE_COLUMNS) >= {"forecast_median", "lower_80", "upper_80", "lower_50", "upper_50"}
    np.testing.assert_allclose(got["forecast_mean"], p.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(got["forecast_std"], p.std(axis=1, ddof=1), rtol=1e-9)
    assert all(np.isnan(got[k][4]).all() for k in got)


def test_summary_of_odd_path_counts():
    paths = np.random.default_rng(4).normal(size=(3, 37, 5)).astype(np.float32)
    q = np.quantile(paths.astype(np.float64), [0.025, 0.975], axis=1)
    got = summarize(paths)
    np.testing.assert_allclose(got["lower_95"], q[0], rtol=1e-12)
    np.testing.assert_allclose(got["upper_95"], q[1], rtol=1e-12)
    for name, level in QUANTILE_COLUMNS.items():
        np.testing.assert_allclose(got[name], np.quantile(paths.astype(np.float64), level, axis=1), rtol=1e-12)
