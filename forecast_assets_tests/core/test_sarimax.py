"""SarimaxAutoWeather: JSON params, paths that match statsmodels' forecast, no leakage, determinism."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from forecast_assets.core.models.base import ModelError
from forecast_assets.core.models.sarimax import MAX_TRAIN, SarimaxAutoWeather

N_DAYS = 900
STEPS = 14
MODEL = SarimaxAutoWeather()


def _synthetic(weather: bool, seed: int = 1) -> pd.DataFrame:
    """ARIMA(1,1,0) log price; with weather, a seasonal temperature moves the price level."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2019-01-01", periods=N_DAYS, name="date")
    season = np.sin(2 * np.pi * idx.dayofyear.to_numpy() / 365.25)
    tmax = 20 + 10 * season + 2 * rng.standard_normal(N_DAYS)
    ret = 0.012 * rng.standard_normal(N_DAYS)
    for t in range(1, N_DAYS):  # AR(1) returns, so the chosen order has state dynamics
        ret[t] += 0.35 * ret[t - 1]
    logp = 4 + np.cumsum(0.002 + ret) + 0.01 * (tmax - 20)
    df = pd.DataFrame({"close": np.exp(logp), "volume": 1e4}, index=idx)
    if weather:
        df["temp_max_c"] = tmax
        df["temp_min_c"] = tmax - 8 + rng.standard_normal(N_DAYS)
        df.loc[df.index[rng.choice(N_DAYS, 40, replace=False)], "temp_max_c"] = np.nan  # gaps
        df["humidity_mean_pct"] = 60.0  # not a candidate regressor
        df["precipitation_mm"] = np.nan  # present but empty: not used
    return df


@pytest.fixture(scope="module")
def weather_case():
    df = _synthetic(True)
    train, rest = df.iloc[:800], df
    return MODEL.fit(train, 14), rest


@pytest.fixture(scope="module")
def plain_case():
    df = _synthetic(False, seed=2)
    return MODEL.fit(df.iloc[:800], 14), df


def _exog(params, df):
    cols = params["exog"]
    if not cols:
        return None
    raw = df[cols].ffill().fillna(params["exog_mean"])
    return ((raw - pd.Series(params["exog_mean"])) / pd.Series(params["exog_std"]))[cols].to_numpy()


def _future_exog(params, cutoff_date, steps):
    if not params["exog"]:
        return None
    dates = pd.bdate_range(cutoff_date + pd.Timedelta(days=1), periods=steps)
    doy = np.array([d.replace(year=2000).dayofyear for d in dates])  # 2000 is a leap year
    return np.column_stack([np.asarray(params["climatology"][c])[doy - 1] for c in params["exog"]])


def _sm(params, df):
    return SARIMAX(np.log(df["close"].to_numpy()), exog=_exog(params, df), order=params["order"], trend=params["trend"])


def _values(params):
    return np.array(list(params["params"].values()))


@pytest.mark.parametrize("case, used", [("weather_case", True), ("plain_case", False)])
def test_fit_params_are_json_and_valid(case, used, request):
    params, df = request.getfixturevalue(case)
    params = json.loads(json.dumps(params))  # plain JSON round trip
    jsonschema.Draft202012Validator.check_schema(MODEL.params_schema)
    jsonschema.validate(params, MODEL.params_schema, cls=jsonschema.Draft202012Validator)
    assert params["weather_used"] is used
    assert params["exog"] == (["temp_min_c", "temp_max_c"] if used else [])
    assert params["n_train"] == min(800, MAX_TRAIN)
    # Rebuilt statsmodels model on the same training rows gives pmdarima's likelihood:
    # same construction, same parameter order.
    train = df.iloc[:800].iloc[-MAX_TRAIN:]
    mod = _sm(params, train)
    assert list(params["params"]) == mod.param_names
    assert mod.filter(_values(params)).llf == pytest.approx(params["llf"], rel=1e-9)
    bad = dict(params, extra=1)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, MODEL.params_schema)


def test_too_few_rows():
    with pytest.raises(ModelError, match="at least 60"):
        MODEL.fit(_synthetic(True).iloc[:59], 14)


@pytest.mark.parametrize("case", ["weather_case", "plain_case"])
def test_paths_match_statsmodels_forecast(case, request):
    params, df = request.getfixturevalue(case)
    history = df.iloc[700:]
    c = 150  # cutoff position inside history
    n = 20000
    fc = _sm(params, history.iloc[: c + 1]).filter(_values(params)).get_forecast(
        STEPS, exog=_future_exog(params, history.index[c], STEPS)
    )
    sm_mean, sm_se = fc.predicted_mean, fc.se_mean

    # Exact moments of the linear map.
    mean, B = MODEL.moments(params, history, np.array([c]), STEPS)
    np.testing.assert_allclose(mean[0], sm_mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.sqrt((B[0] ** 2).sum(axis=0)), sm_se, rtol=1e-6)

    # Monte Carlo moments of the paths.
    logp = np.log(MODEL.simulate(params, history, np.array([c]), STEPS, n, np.array([12345], dtype=np.uint64))[0])
    z = (logp.mean(axis=0) - sm_mean) / (sm_se / np.sqrt(n))
    assert np.abs(z).max() < 4
    # Filtered historical simulation: the shocks carry the volatility at the cutoff, not the model's
    # constant sigma2. Step k's variance is the linear map's, each shock's column rescaled from the
    # model's own sd to the expected variance path: step 1's shocks to the cutoff's s2, the shock of
    # step j+1 to the path's step j+1.
    from forecast_assets.core import volatility

    vol = volatility.Volatility.from_json(params["volatility"])
    assert vol.kind == "ewma" and vol.path == "reverting"
    innov = MODEL.moments(params, history, np.array([c]), STEPS, innovations=True)[2]
    s2 = volatility.sigma2_at(vol, innov, volatility.state_position(vol, history.index.values), np.array([c]))[0]
    m = B.shape[1] - (STEPS - 1)
    f1 = (B[0, :m, 0] ** 2).sum()
    path = vol.expected_path(np.array([s2]), STEPS)[0]
    want = s2 / f1 * (B[0, :m] ** 2).sum(axis=0) + (path[1:, None] / B[0, m, 1] ** 2 * B[0, m:] ** 2).sum(axis=0)
    np.testing.assert_allclose(logp.std(axis=0, ddof=1), np.sqrt(want), rtol=0.04)
    # A model stored before the path fields (flat EWMA path: every step's expected variance is the
    # cutoff's): statsmodels' se scaled by sigma_cutoff / se_1 (se_1: the Gaussian model's step-1 sd).
    old = {**params, "volatility": {k: v for k, v in params["volatility"].items()
                                    if k not in ("path", "long_run", "path_persistence", "path_persistence_from",
                                                 "path_reason")}}
    logp = np.log(MODEL.simulate(old, history, np.array([c]), STEPS, n, np.array([12345], dtype=np.uint64))[0])
    np.testing.assert_allclose(logp.std(axis=0, ddof=1), sm_se * np.sqrt(s2) / sm_se[0], rtol=0.04)
    assert not np.allclose(np.sqrt(want), sm_se * np.sqrt(s2) / sm_se[0], rtol=0.04)  # the two differ here


def test_no_leakage(weather_case):
    params, df = weather_case
    history = df.iloc[700:].copy()
    cut = np.array([120, 150])
    seeds = np.array([7, 8], dtype=np.uint64)
    before = MODEL.simulate(params, history, cut, STEPS, 500, seeds)
    changed = history.copy()
    rows = changed.index[151:]
    changed.loc[rows, "close"] *= 3.0
    changed.loc[rows, "temp_max_c"] = 45.0
    changed.loc[rows[::3], "temp_min_c"] = np.nan
    after = MODEL.simulate(params, changed, cut, STEPS, 500, seeds)
    assert np.array_equal(before, after)
    # Control: a change at the cutoff row itself does move the forecast.
    changed.loc[history.index[150], "close"] *= 1.1
    assert not np.array_equal(before[1], MODEL.simulate(params, changed, cut, STEPS, 500, seeds)[1])


def test_deterministic_and_batch_equals_single(weather_case):
    params, df = weather_case
    history = df.iloc[700:]
    cut = np.array([90, 91, 120, 180])
    seeds = np.array([11, 12, 13, 14], dtype=np.uint64)
    batch = MODEL.simulate(params, history, cut, STEPS, 1000, seeds)
    assert batch.shape == (4, 1000, STEPS) and batch.dtype == np.float64 and (batch > 0).all()
    assert np.array_equal(batch, MODEL.simulate(params, history, cut, STEPS, 1000, seeds))
    for i in range(len(cut)):
        alone = MODEL.simulate(params, history, cut[i : i + 1], STEPS, 1000, seeds[i : i + 1])
        assert np.array_equal(batch[i], alone[0])


@pytest.mark.parametrize("case", ["weather_case", "plain_case"])
def test_spread_grows_with_step(case, request):
    params, df = request.getfixturevalue(case)
    history = df.iloc[700:]
    paths = MODEL.simulate(params, history, np.array([100, 190]), 20, 4000, np.array([1, 2], dtype=np.uint64))
    sd = np.log(paths).std(axis=1)
    assert (np.diff(sd, axis=1) > 0).all()


# -- the numpy filter (core.models.state_space) against statsmodels' own -----------------------------
def _random_case(rng, plain: bool = False):
    """A random order, trend, price series and regressors; `plain`: none of them, no missing price,
    d = 1 (a time-invariant system: statsmodels' steady-state shortcut applies)."""
    p, d, q = (int(v) for v in rng.integers(0, 4, 3))
    d = 1 if plain else min(d, 1)
    trend = "c" if d == 0 and rng.random() < 0.5 else None
    k = 0 if plain else int(rng.integers(0, 4))
    n = 300
    y = np.cumsum(rng.normal(0, 0.01, n)) + 4 if d else rng.normal(4, 0.02, n)
    if not plain and rng.random() < 0.4:
        y[rng.integers(0, n, 3)] = np.nan  # missing prices: the update is skipped
    x = pd.DataFrame(rng.normal(size=(n, k)), columns=[f"x{j + 1}" for j in range(k)]) if k else None
    return (p, d, q), trend, y, x


@pytest.mark.parametrize("seed", range(6))
def test_numpy_filter_matches_statsmodels(seed):
    """Every order the search can pick (p, q <= 3, d <= 1), with and without a trend, regressors and
    missing prices: the same predicted states, covariances and forecast errors as statsmodels' filter,
    to rounding (its order of operations is followed; its steady-state shortcut included)."""
    import warnings

    from forecast_assets.core.models import state_space

    rng = np.random.default_rng(seed)
    converged = 0
    for i in range(12):
        order, trend, y, x = _random_case(rng, plain=i < 4)
        mod = SARIMAX(y, exog=x, order=order, trend=trend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = mod.start_params
        fr = mod.filter(start).filter_results
        converged += bool(fr.converged)
        named = dict(zip(mod.param_names, start))
        beta = np.array([named[n] for n in mod.exog_names]) if x is not None else np.zeros(0)
        xs = None if x is None else x.to_numpy()
        system = state_space.system(fr, beta, xs)
        jsonschema.validate(json.loads(json.dumps(system)), state_space.SCHEMA)
        a, P, v = state_space.run(system, y, xs)
        want_P = fr.predicted_state_cov.transpose(2, 0, 1)
        scale = np.abs(want_P[1:]).max()
        np.testing.assert_allclose(P[1:], want_P[1:], rtol=0, atol=1e-12 * scale, err_msg=str((order, trend)))
        np.testing.assert_allclose(a, fr.predicted_state.T, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(v, fr.forecasts_error[0], rtol=0, atol=1e-12)  # NaN where y is
    assert converged  # the steady-state shortcut was exercised


def test_fitted_model_forecasts_as_statsmodels_does(weather_case, plain_case):
    """A model trained now carries its system; its forecasts are those of the statsmodels filter (the
    path of models stored without it) to rounding, and a malformed system is a ModelError."""
    for params, df in (weather_case, plain_case):
        assert "state_space" in params
        old = {k: v for k, v in params.items() if k != "state_space"}
        history = df.iloc[700:]
        cut = np.array([90, 150, 199])
        new_m, new_B, new_i = MODEL.moments(params, history, cut, STEPS, innovations=True)
        old_m, old_B, old_i = MODEL.moments(old, history, cut, STEPS, innovations=True)
        np.testing.assert_allclose(new_m, old_m, rtol=1e-12)
        # B itself is a square root of the state covariance (eigh): a near-zero eigenvalue's rounding
        # (1e-20) shows as 1e-10 in its column, so the covariances B implies are compared.
        cov = lambda b: np.einsum("dik,dij->dkj", b, b)  # noqa: E731
        np.testing.assert_allclose(cov(new_B), cov(old_B), rtol=1e-9, atol=1e-12 * np.abs(cov(old_B)).max())
        np.testing.assert_allclose(new_i, old_i, rtol=0, atol=1e-12)
        seeds = np.array([3, 4, 5], dtype=np.uint64)
        np.testing.assert_allclose(MODEL.simulate(params, history, cut, STEPS, 500, seeds),
                                   MODEL.simulate(old, history, cut, STEPS, 500, seeds), rtol=1e-8)
    params, df = weather_case
    bad = {**params, "state_space": {**params["state_space"], "exog_beta": [1.0]}}
    with pytest.raises(ModelError, match="exog coefficients"):
        MODEL.moments(bad, df.iloc[700:], np.array([90]), STEPS)


def test_statsmodels_filters_what_the_numpy_filter_does_not_cover(weather_case, monkeypatch):
    from forecast_assets.core.models import state_space

    params, df = weather_case
    history = df.iloc[700:]
    want = MODEL.moments(params, history, np.array([120]), STEPS)[0]

    def not_covered(*a, **k):
        raise state_space.NotCovered("forecast error variance below 1e-12")

    monkeypatch.setattr(state_space, "run", not_covered)
    np.testing.assert_allclose(MODEL.moments(params, history, np.array([120]), STEPS)[0], want, rtol=1e-12)


def test_forecasting_does_not_import_statsmodels(weather_case, tmp_path):
    """The point of the numpy filter: a forecast from a stored model never imports statsmodels (and
    with it scipy.stats), ~0.8 s of every daily run."""
    import subprocess
    import sys

    params, df = weather_case
    (tmp_path / "params.json").write_text(json.dumps(params))
    df.iloc[700:].to_parquet(tmp_path / "history.parquet")
    code = (
        "import json, sys, numpy as np, pandas as pd\n"
        "from forecast_assets.core.models.sarimax import SarimaxAutoWeather\n"
        f"p = json.loads(open({str(tmp_path / 'params.json')!r}).read())\n"
        f"h = pd.read_parquet({str(tmp_path / 'history.parquet')!r})\n"
        "out = SarimaxAutoWeather().simulate(p, h, np.array([150]), 14, 100, np.array([1], dtype=np.uint64))\n"
        "assert out.shape == (1, 100, 14)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('statsmodels', 'pmdarima')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
