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
    vol, s2 = volatility.fit(eps, "2020-01-01", "ewma")
    assert vol.kind == "ewma" and vol.fallback_reason is None and vol.beta == 0.94
    # EWMA is a martingale in the variance: every step's expected variance is today's.
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
