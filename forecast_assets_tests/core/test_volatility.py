"""Filtered historical simulation (core.volatility) and what the models record about it."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from forecast_assets.core import volatility
from forecast_assets.core.calendar import ICE_SOFTS, Calendar
from forecast_assets.core.forecast import train

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _gjr_series(n=3000, seed=3):
    """A GJR-GARCH(1,1) series with t(6) shocks, in daily log-return units."""
    rng = np.random.default_rng(seed)
    w, a, g, b = 2e-6, 0.05, 0.08, 0.88
    z = rng.standard_t(6, n) / np.sqrt(6 / 4)
    eps, s2 = np.empty(n), w / (1 - a - g / 2 - b)
    for t in range(n):
        eps[t] = np.sqrt(s2) * z[t]
        s2 = w + (a + g * (eps[t] < 0)) * eps[t] ** 2 + b * s2
    return eps


@pytest.mark.parametrize("feedback", [False, True], ids=["expected-path", "path-feedback"])
def test_fhs_variance_path_matches_arch_analytic_forecast(monkeypatch, feedback):
    from arch import arch_model

    monkeypatch.setattr(volatility, "PATH_FEEDBACK", feedback)
    eps = _gjr_series()
    vol, s2 = volatility.fit(eps, "2020-01-01", "gjr_garch_t")
    assert vol.kind == "gjr_garch_t" and vol.fallback_reason is None and 0 < vol.persistence < 1
    res = arch_model(eps * 100, mean="Zero", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False).fit(disp="off")
    h = 14
    analytic = res.forecast(horizon=h, reindex=False).variance.to_numpy()[-1] / 1e4
    assert np.isclose(vol.sigma2_next, analytic[0], rtol=1e-6)  # the state at the training cutoff
    assert np.allclose(vol.expected_path(np.array([vol.sigma2_next]), h)[0], analytic, rtol=1e-6)
    # Monte Carlo: bootstrapped standardized shocks through the step-by-step recursion.
    pool = volatility.standardized_pool(eps, s2)
    rng = np.random.default_rng(0)
    z = pool[rng.integers(0, len(pool), (1, 200_000, h))]
    sim = vol.simulate(np.array([vol.sigma2_next]), z)[0]
    mc = (sim ** 2).mean(axis=0)  # E[eps_k^2] = E[sigma2_k]
    se = (sim ** 2).std(axis=0) / np.sqrt(sim.shape[0])
    assert np.all(np.abs(mc - analytic) < 4 * se + 0.01 * analytic), (mc / analytic)
    # And the spread of the 14-step sum: the summed variances (shocks are uncorrelated).
    assert abs(sim.sum(axis=1).var() / analytic.sum() - 1) < 0.03


def test_ewma_is_chosen_and_recorded_where_garch_cannot_fit():
    short = _gjr_series(100)
    vol, s2 = volatility.fit(short, "2020-01-01", "gjr_garch_t")
    assert vol.kind == "ewma" and "fewer than" in vol.fallback_reason
    assert (vol.alpha, vol.beta, vol.omega, vol.gamma) == (pytest.approx(0.06), 0.94, 0.0, 0.0)
    # A random walk of the variance itself (integrated): no stationary GARCH; EWMA, with the reason.
    rng = np.random.default_rng(1)
    sd = np.exp(np.cumsum(rng.normal(0, 0.08, 2000)) - 4.5)
    vol, _ = volatility.fit(sd * rng.standard_normal(2000), "2020-01-01", "gjr_garch_t")
    assert vol.kind in ("ewma", "gjr_garch_t")
    if vol.kind == "ewma":
        assert vol.fallback_reason
    # Constant residuals: nothing to fit.
    vol, _ = volatility.fit(np.zeros(400), "2020-01-01", "gjr_garch_t")
    assert vol.kind == "ewma" and vol.fallback_reason == "constant residuals"


def test_ewma_by_choice_and_its_monte_carlo_spread():
    eps = _gjr_series(1000)
    vol, s2 = volatility.fit(eps, "2020-01-01", "ewma", reversion=False)
    assert vol.kind == "ewma" and vol.fallback_reason is None and vol.beta == 0.94 and vol.path == "process"
    # EWMA is a martingale in the variance: without reversion every step's expected variance is today's.
    assert np.allclose(vol.expected_path(np.array([vol.sigma2_next]), 14), vol.sigma2_next)
    z = np.random.default_rng(2).standard_normal((1, 100_000, 14))
    sim = vol.simulate(np.array([vol.sigma2_next]), z)[0]
    assert abs(sim.sum(axis=1).var() / (14 * vol.sigma2_next) - 1) < 0.03


def test_filter_is_causal_and_resumes_from_the_trained_state():
    eps = _gjr_series(1500)
    vol, s2 = volatility.fit(eps[:1000], "2020-01-01", "gjr_garch_t")
    cut = np.array([999, 1100, 1400])  # rows: the training cutoff is row 999
    got = volatility.sigma2_at(vol, eps, 999, cut)
    assert got[0] == vol.sigma2_next
    changed = eps.copy()
    changed[1101:] *= 10  # after the second cutoff
    assert np.array_equal(volatility.sigma2_at(vol, changed, 999, cut[:2]), got[:2])
    assert volatility.sigma2_at(vol, changed, 999, cut)[2] != got[2]


def test_models_record_their_choices(coffee_daily):
    window = date(2024, 1, 1)
    naive = train("naive", "Coffee", coffee_daily, window, 14).doc["params"]
    assert naive["drift"] == 0.0 and naive["drift_used"] is False
    assert naive["volatility"]["kind"] in ("gjr_garch_t", "ewma")
    assert naive["volatility"]["state_date"] == "2023-12-29"
    pool = np.array(naive["std_residuals"])
    assert abs(pool.mean()) < 1e-9 and abs(pool.std() - 1) < 1e-9
    sar = train("sarimax_auto_weather", "Coffee", coffee_daily, window, 14).doc["params"]
    assert sar["d"] == sar["order"][1] and sar["d"] <= 1
    assert sar["volatility"]["kind"] in ("gjr_garch_t", "ewma")
    xgb = train("xgboost", "Coffee", coffee_daily, window, 14).doc["params"]
    assert len(xgb["mean_weight"]) == len(xgb["residual_mean"]) and all(0 <= w <= 1 for w in xgb["mean_weight"])


def test_expected_path_scales_every_path_alike():
    """Without feedback a path's variance does not depend on its own shocks: the steps are the
    expected path times z, so the 14-step sum's variance is the summed expected variances."""
    vol = volatility.Volatility("gjr_garch_t", 2e-6, 0.05, 0.08, 0.88, 6.0, None, 4e-4, "2020-01-01")
    z = np.random.default_rng(5).standard_normal((2, 50_000, 14))
    s2 = np.array([4e-4, 1e-4])
    sim = vol.simulate(s2, z)
    assert np.allclose(sim / z, np.sqrt(vol.expected_path(s2, 14))[:, None, :])


def test_sarimax_has_no_drift_on_a_trending_log_price():
    """A random walk with a strong drift: auto_arima's stepwise search takes the constant (a drift
    with d=1); the fit refits the chosen order without it, so the paths are driftless like naive."""
    from forecast_assets.core.models.sarimax import SarimaxAutoWeather

    rng = np.random.default_rng(11)
    n = 800
    idx = pd.bdate_range("2020-01-01", periods=n)
    logp = np.log(100) + np.cumsum(0.004 + 0.01 * rng.standard_normal(n))
    params = SarimaxAutoWeather().fit(pd.DataFrame({"close": np.exp(logp)}, index=idx), 14)
    assert params["d"] == 1 and params["trend"] is None


def test_naive_paths_have_no_drift_and_follow_the_volatility(coffee_daily):
    """Median path flat; a calm and a turbulent cutoff give spreads in the ratio of their sigmas."""
    from forecast_assets.core.forecast import forecast
    from forecast_assets.core.paths import day_seeds

    t = train("naive", "Coffee", coffee_daily, date(2024, 1, 1), 14)
    hist = coffee_daily[coffee_daily.index >= "2023-10-01"].copy()
    days = np.array(["2024-03-01"], dtype="datetime64[D]")
    seeds = day_seeds(1, "Coffee", "naive", "v1", days)
    b = forecast(t, hist, days, n_paths=4000, seeds=seeds, horizon=14, calendar=Calendar(ICE_SOFTS))
    lr = np.log(b.prices[0].astype(np.float64) / hist["close"][hist.index < "2024-03-01"].iloc[-1])
    assert abs(np.median(lr[:, 13])) < 0.1 * lr[:, 13].std()
    # Triple every return in the month before the cutoff: the step-1 spread grows.
    wild = hist.copy()
    m = (wild.index >= "2024-02-01") & (wild.index < "2024-03-01")
    r = np.log(wild["close"]).diff()
    r[m] *= 3
    wild["close"] = np.exp(np.log(hist["close"].iloc[0]) + r.fillna(0).cumsum())
    b2 = forecast(t, wild, days, n_paths=4000, seeds=seeds, horizon=14, calendar=Calendar(ICE_SOFTS))
    assert np.log(b2.prices[0, :, 0]).std() > 1.5 * np.log(b.prices[0, :, 0]).std()


def test_xgboost_residuals_are_centred_per_step_and_held_out_with_a_gap(coffee_daily):
    from forecast_assets.core.models.xgboost_direct import HOLDOUT_EPISODES, XGBoostModel

    p = train("xgboost", "Coffee", coffee_daily, date(2024, 1, 1), 14).doc["params"]
    z = np.array(p["std_residuals"])
    assert z.shape == (HOLDOUT_EPISODES * 14, 20)
    assert np.abs(z.mean(axis=0)).max() < 1e-9  # centred at every step
    assert p["holdout"]["gap"] >= 14 + 6 and p["holdout"]["episodes"] >= 50
    assert XGBoostModel.min_history_days(14) == 1050
    assert len(p["residual_mean"]) == 20


def test_xgboost_refuses_a_short_history_with_a_clear_message(coffee_daily):
    from forecast_assets.core.models import ModelError

    with pytest.raises(ModelError, match=r"xgboost needs at least 1050 trading days of history for a horizon "
                                         r"of 14, got \d+"):
        train("xgboost", "Coffee", coffee_daily[coffee_daily.index >= "2022-09-01"], date(2024, 1, 1), 14)


def test_xgboost_mean_weight_is_the_holdout_least_squares_share_in_0_1():
    from forecast_assets.core.models.xgboost_direct import mean_weight

    rng = np.random.default_rng(4)
    pred = rng.normal(0, 0.02, (700, 3))
    y = np.column_stack([pred[:, 0],                                  # perfect: 1
                         0.5 * pred[:, 1] + rng.normal(0, 0.001, 700),  # half the move: ~0.5
                         -pred[:, 2]])                                 # the wrong sign: 0, not negative
    w = mean_weight(y, pred)
    assert w[0] == pytest.approx(1.0) and w[1] == pytest.approx(0.5, abs=0.02) and w[2] == 0.0
    # No skill: noise alone gives a weight of about +-1/sqrt(n); shrunk by its t-statistic it is 0 or
    # near it in every one of 200 draws.
    noise = [mean_weight(rng.normal(0, 0.02, (700, 1)), pred[:, :1])[0] for _ in range(200)]
    assert max(noise) < 0.1 and np.mean(np.array(noise) == 0) > 0.5
    assert mean_weight(np.ones((5, 1)), np.zeros((5, 1)))[0] == 0.0  # a flat booster: nothing to keep


def test_xgboost_variance_scale_shrinks_noise_to_one_and_keeps_a_real_difference():
    """The holdout vectors' variance per step is kept only as far as it differs from 1 beyond its noise."""
    from forecast_assets.core.models.xgboost_direct import variance_scale

    rng = np.random.default_rng(8)
    n, steps = 700, 14
    # Cumulative sums of unit-variance shocks, standardized by sqrt(k): variance 1 at every step, the
    # estimate's noise growing with the step (n / k independent episodes), as in a real holdout.
    unit = np.cumsum(rng.standard_t(5, (n, steps)) / np.sqrt(5 / 3), axis=1) / np.sqrt(np.arange(1, steps + 1))
    unit -= unit.mean(axis=0)
    scaled = unit * np.sqrt(variance_scale(unit))
    v = scaled.var(axis=0)
    assert np.all(np.abs(v - 1) <= np.abs(unit.var(axis=0) - 1) + 1e-12)  # never further from 1
    assert np.abs(v - 1).max() < 0.05  # noise of the order of its standard error is taken back to 1
    # A real difference, far beyond the noise (half the variance at step 1, 700 episodes): mostly kept.
    half = unit * np.sqrt(0.5)
    kept = (half * np.sqrt(variance_scale(half))).var(axis=0)
    assert kept[0] == pytest.approx(0.5, abs=0.05) and np.all(kept < 1)
    # Deterministic, finite, and a constant column (variance 0) is left alone.
    flat = np.zeros((n, 3))
    assert np.array_equal(variance_scale(flat), np.ones(3))
    np.testing.assert_array_equal(variance_scale(unit), variance_scale(unit.copy()))


# -- the reverting expected variance path of an EWMA level (PATH_REVERSION) ---------------------------

def _validate_vol(doc):
    import jsonschema

    jsonschema.validators.validator_for(volatility.SCHEMA)(volatility.SCHEMA).validate(doc)


@pytest.mark.parametrize("feedback", [False, True], ids=["expected-path", "path-feedback"])
def test_reverting_path_is_the_closed_form_and_simulate_follows_it(monkeypatch, feedback):
    monkeypatch.setattr(volatility, "PATH_FEEDBACK", feedback)
    eps = _gjr_series()
    vol, _ = volatility.fit(eps, "2020-01-01", "ewma", reversion=True)
    assert vol.kind == "ewma" and vol.path == "reverting" and vol.path_persistence_from == "gjr_garch_t"
    # phi is the persistence of the GJR-GARCH-t fitted on the same residuals; long_run their mean square.
    gjr, _ = volatility.fit_series(eps, "gjr_garch_t")
    assert vol.path_persistence == pytest.approx(gjr.persistence) and 0.9 < vol.path_persistence < 1
    assert vol.long_run == pytest.approx(np.mean(eps ** 2))
    _validate_vol(vol.to_json())
    s1 = np.array([vol.long_run / 4, vol.long_run, 5 * vol.long_run])  # calm, average, a crash
    k = np.arange(1, 15)
    closed = vol.long_run + vol.path_persistence ** (k - 1) * (s1[:, None] - vol.long_run)
    got = vol.expected_path(s1, 14)
    assert np.allclose(got, closed, rtol=1e-12)
    assert np.all(np.diff(got[0]) > 0) and np.all(np.diff(got[2]) < 0) and np.allclose(got[1], vol.long_run)
    # Monte Carlo: the simulated residuals' variance per step is the closed form (with feedback, on average).
    z = np.random.default_rng(0).standard_normal((3, 100_000, 14))
    sim = vol.simulate(s1, z)
    mc = (sim ** 2).mean(axis=1)
    se = (sim ** 2).std(axis=1) / np.sqrt(sim.shape[1])
    assert np.all(np.abs(mc - closed) < 4 * se + 0.01 * closed), mc / closed
    if not feedback:  # every path scaled alike: exactly sqrt of the expected path
        assert np.allclose(sim / z, np.sqrt(closed)[:, None, :], rtol=1e-6)
    # The level at the cutoff is EWMA's, untouched by the path: the same filter as without reversion.
    flat, _ = volatility.fit(eps, "2020-01-01", "ewma", reversion=False)
    assert flat.path == "process" and flat.sigma2_next == vol.sigma2_next
    assert np.array_equal(volatility.sigma2_at(vol, eps, 100, np.array([500, 2000])),
                          volatility.sigma2_at(flat, eps, 100, np.array([500, 2000])))


def test_reverting_path_default_persistence_where_gjr_cannot_fit():
    vol, _ = volatility.fit(_gjr_series(100), "2020-01-01", "ewma", reversion=True)
    assert vol.path == "reverting" and vol.path_persistence == volatility.DEFAULT_PATH_PERSISTENCE
    assert vol.path_persistence_from == "default" and "fewer than" in vol.path_reason
    _validate_vol(vol.to_json())
    # A GJR fallback to EWMA (method gjr_garch_t): the same default, the fallback's reason.
    vol, _ = volatility.fit(_gjr_series(100), "2020-01-01", "gjr_garch_t", reversion=True)
    assert vol.kind == "ewma" and vol.path_persistence_from == "default" and vol.path_reason == vol.fallback_reason
    # A fitted GJR-GARCH keeps its own reverting path.
    vol, _ = volatility.fit(_gjr_series(), "2020-01-01", "gjr_garch_t", reversion=True)
    assert vol.kind == "gjr_garch_t" and vol.path == "process" and vol.long_run is None


def test_models_stored_before_the_path_fields_load_with_their_flat_path():
    """An EWMA state stored without path/long_run/...: valid, and its path is the flat one it was trained with."""
    old = {"kind": "ewma", "omega": 0.0, "alpha": 0.06, "gamma": 0.0, "beta": 0.94, "nu": None,
           "fallback_reason": None, "sigma2_next": 4e-4, "state_date": "2020-01-01"}
    _validate_vol(old)
    vol = volatility.Volatility.from_json(old)
    assert vol.path == "process"
    assert np.allclose(vol.expected_path(np.array([4e-4]), 14), 4e-4)


@pytest.mark.parametrize("change", [
    {"path": "reverting"},                                             # no long_run, no phi
    {"path": "reverting", "long_run": 1e-4, "path_persistence": 1.0, "path_persistence_from": "default"},
    {"path": "reverting", "long_run": 0.0, "path_persistence": 0.98, "path_persistence_from": "default"},
    {"path": "sideways"},
])
def test_schema_and_constructor_refuse_a_broken_path(change):
    import jsonschema

    doc = {"kind": "ewma", "omega": 0.0, "alpha": 0.06, "gamma": 0.0, "beta": 0.94, "nu": None,
           "fallback_reason": None, "sigma2_next": 4e-4, "state_date": "2020-01-01", **change}
    with pytest.raises(jsonschema.ValidationError):
        _validate_vol(doc)
    with pytest.raises((ValueError, TypeError)):
        volatility.Volatility.from_json(doc)


def test_reverting_path_is_refused_on_a_garch_level():
    import jsonschema

    doc = {"kind": "gjr_garch_t", "omega": 2e-6, "alpha": 0.05, "gamma": 0.08, "beta": 0.88, "nu": 6.0,
           "fallback_reason": None, "sigma2_next": 4e-4, "state_date": "2020-01-01", "path": "reverting",
           "long_run": 1e-4, "path_persistence": 0.98, "path_persistence_from": "default", "path_reason": None}
    with pytest.raises(jsonschema.ValidationError):
        _validate_vol(doc)
    with pytest.raises(ValueError, match="needs an EWMA level"):
        volatility.Volatility.from_json(doc)
