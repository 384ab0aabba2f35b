import numpy as np
import pandas as pd
import pytest

from forecast_assets.core.comparison import diebold_mariano, performance


def test_dm_finds_a_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(500)
    stat, p = diebold_mariano(-0.3 + noise, h=1)
    assert stat < 0 and p < 0.001
    _, p = diebold_mariano(rng.standard_normal(500), h=1)
    assert p > 0.01
    assert np.isnan(diebold_mariano(np.zeros(50), h=7)[1])


def test_dm_variance_accounts_for_overlapping_horizons():
    # An MA(13) loss differential, as 14-step forecasts made daily produce: ignoring the
    # autocorrelation (lag 0) overstates significance.
    rng = np.random.default_rng(4)
    e = rng.standard_normal(600)
    d = 0.1 + np.convolve(e, np.ones(14), mode="valid") / 4
    _, p_hac = diebold_mariano(d, h=14)
    _, p_naive = diebold_mariano(d, h=1)
    assert p_hac > p_naive


def _scores(model, crps_scale, days, version="v1.0", holidays=()):
    rng = np.random.default_rng(abs(hash(model)) % 2**32)
    n = len(days)
    start = np.repeat(np.asarray(days, dtype="datetime64[D]"), 2)
    step = np.tile([1, 2], n)
    # Step k: the k-th session at or after the start (weekdays, less `holidays`).
    target = np.busday_offset(start, step - 1, roll="forward", holidays=list(holidays))
    return pd.DataFrame({
        "commodity": "Coffee", "model_name": model, "model_version": version,
        "forecast_start_date": start, "day_ahead": step, "forecast_date": target,
        "abs_error": 1.0, "sq_error": 1.0, "ape": 0.01, "crps": crps_scale * (1 + 0.1 * rng.random(2 * n)),
        "in_80": 1.0, "in_95": 1.0, "width_80": 1.0, "width_95": 2.0, "interval_score_80": 1.0,
        "interval_score_95": 2.0, "direction_hit": 1.0,
    })


def test_performance_table_skill_and_weekday_starts():
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    s = pd.concat([_scores("naive", 1.0, days), _scores("xgboost", 0.8, days), _scores("xgboost", 1.0, days, "v2.0")])
    p = performance(s)
    assert set(p["horizon"]) == {1, 2}
    weekdays = int((days.dayofweek < 5).sum())
    assert (p["n_forecasts"] == weekdays).all()  # weekend starts share Monday's sessions: counted once
    x = p[(p.model_name == "xgboost") & (p.model_version == "v1.0") & (p.horizon == 1)].iloc[0]
    assert x.crps_skill_vs_naive == pytest.approx(0.2, abs=0.02) and x.dm_pvalue < 0.001
    # Versions side by side (A/B) from one table; v2.0 has no naive v2.0 to compare with.
    assert set(p[p.model_name == "xgboost"]["model_version"]) == {"v1.0", "v2.0"}
    assert p[(p.model_version == "v2.0")]["crps_skill_vs_naive"].isna().all()
    assert p[p.model_name == "naive"]["dm_pvalue"].isna().all()


def test_dm_size_is_right_for_overlapping_14_step_losses():
    # Under the null (zero-mean MA(13) loss differences, as daily 14-step forecasts give), the test at
    # nominal 5% must reject 3-7% of the time with n=500. 4000 replications: the rate's standard error
    # is 0.34 points, so [3%, 7%] is ~6 standard errors wide. Newey-West weights rejected ~11.8% here.
    from forecast_assets.core.comparison import dm_batch

    rng = np.random.default_rng(20261202)
    n, h, reps = 500, 14, 4000
    eps = rng.standard_normal((reps, n + h - 1))
    theta = rng.uniform(0.2, 1.0, h)  # MA weights of one fixed, arbitrary MA(13)
    d = np.lib.stride_tricks.sliding_window_view(eps, h, axis=1) @ theta
    stat, p, fallback = dm_batch(d, h)
    rate = float((p < 0.05).mean())
    assert 0.03 <= rate <= 0.07, rate
    assert fallback.mean() < 0.01  # the rectangular variance is positive almost always at n=500
    # The scalar entry point agrees with the batch.
    assert diebold_mariano(d[0], h) == pytest.approx((stat[0], p[0]))


def test_dm_falls_back_to_bartlett_when_the_rectangular_variance_is_not_positive():
    from forecast_assets.core.comparison import dm_batch

    # Alternating series: strongly negative odd autocovariances make the equal-weight sum negative.
    d = np.tile([1.0, -1.0], 20) + 0.01 * np.arange(40) / 40
    _, p, fallback = dm_batch(d, 2)
    assert fallback[0] and np.isfinite(p[0])


def test_coverage_pit_per_horizon_and_whole_path_scores_in_the_report():
    from forecast_assets.core.comparison import comparison_table

    days = pd.date_range("2024-01-01", periods=60, freq="B")
    n = len(days)
    s = pd.concat([_scores("naive", 1.0, days), _scores("xgboost", 0.8, days)])
    s["in_50"] = 0.5
    s["width_50"] = 0.4
    # Step 1's PIT uniform, step 2's all in the top fifth (too narrow, biased low): not pooled.
    rng = np.random.default_rng(1)
    s["pit"] = np.where(s["day_ahead"] == 1, rng.random(len(s)), 0.95)
    ps = pd.DataFrame({"commodity": "Coffee", "model_name": np.repeat(["naive", "xgboost"], n),
                       "model_version": "v1.0", "forecast_start_date": np.tile(days, 2),
                       "energy_score": np.repeat([2.0, 1.5], n), "variogram_score": np.repeat([10.0, 12.0], n)})
    p = performance(s, ps)
    x = p[(p.model_name == "xgboost")].set_index("horizon")
    assert (x["coverage_50"] == 0.5).all() and (x["sharpness_50"] == 0.4).all()
    assert x.loc[2, "pit_fifths"] == "0/0/0/0/100"
    assert x["energy_score"].tolist() == [1.5, 1.5] and x["energy_skill_vs_naive"].iloc[0] == pytest.approx(0.25)
    assert p[p.model_name == "naive"]["energy_skill_vs_naive"].tolist() == [0.0, 0.0]
    text = comparison_table(p, [1, 2])
    assert "coverage_50" in text and "pit_%_by_fifth" in text and "0/0/0/0/100" in text
    assert "Whole-path scores" in text and "+25.0%" in text
    # Without path scores (nothing fully scored yet) the report still renders, without that part.
    assert "Whole-path" not in comparison_table(performance(s), [1, 2])


def test_a_holiday_forecast_counts_once_with_the_next_session():
    """On an exchange calendar a holiday's forecast has the same steps as the next session's: one."""
    days = pd.date_range("2024-01-08", "2024-01-19", freq="D")  # Mon 8th .. Fri 19th; 15th a holiday
    hol = ["2024-01-15"]
    s = pd.concat([_scores("naive", 1.0, days, holidays=hol), _scores("xgboost", 0.8, days, holidays=hol)])
    p = performance(s)
    assert (p["n_forecasts"] == 9).all()  # 10 weekdays less the holiday
    kept = s.merge(p[["model_name"]].drop_duplicates(), on="model_name")
    from forecast_assets.core.comparison import one_per_session

    starts = set(pd.to_datetime(one_per_session(kept, kept)["forecast_start_date"]).dt.strftime("%m-%d"))
    assert "01-15" not in starts and "01-16" in starts and "01-13" not in starts
