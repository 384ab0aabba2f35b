"""ARIMA on log prices with regional-average weather regressors, order picked by pmdarima.

Fit: target log(close) over the last MAX_TRAIN trading days (about three
years; auto_arima's stepwise search costs grow with the length and older
prices say little about the next 14 days). Regressors are those of
temp_min_c / temp_max_c / precipitation_mm that have values, gaps filled by
forward fill then the training mean, standardized with training stats.
pmdarima's auto_arima picks (p, d, q) and the intercept; the statsmodels
SARIMAX it fitted is stored as its order, trend and constrained params.

Future weather: a day-of-year climatology of the standardized regressors.
Each training day maps to its day of a leap year (1..366, so 1 March is 61 in
every year); the observed (not gap-filled) values are averaged per day of
year, then smoothed with a circular CLIMATOLOGY_WINDOW-day moving average over
the days that have data (days with none in the window get 0, the training
mean). The regressor at a future step date is the climatology at its day of
year.

Simulate: the state-space system statsmodels filtered with at training (stored
as `state_space`) is filtered once on the history by core.models.state_space, in
numpy, so forecasting does not import statsmodels; a model stored without it is
rebuilt in statsmodels with the stored params (same constructor arguments as
pmdarima: statsmodels defaults) and filtered there.
For a cutoff at position c, the state at c+1 given rows <= c is N(a, P)
(predicted_state / predicted_state_cov). The mean path iterates the
state-space mean equations with the climatology as future exog; the
deviations are one linear map B of standard normals,
    dev_k = Z T^(k-1) L z0 + sum_{j<k} Z T^(k-1-j) R chol(Q) z_j,   P = L L',
so the paths have exactly statsmodels' forecast mean and variance when z is standard normal.

Filtered historical simulation (core.volatility): the order is searched with d at most 1
(a doubly integrated log price has a spread that explodes with the horizon; d is
recorded). The volatility process of core.volatility (EWMA 0.94 by default,
GJR-GARCH-t selectable, recorded) is fitted on the model's one-step innovations; z is bootstrapped from the standardized innovations and the
shock of step k is scaled by sigma_k / sqrt(sigma2) before it goes through the
impulse responses, sigma_k each path's own variance path from the state at the
cutoff (the filter run forward over the one Kalman pass's innovations).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from forecast_assets.core import volatility
from forecast_assets.core.calendar import step_dates
from forecast_assets.core.data import weather_columns
from forecast_assets.core.models import state_space
from forecast_assets.core.models.base import ModelError
from forecast_assets.core.paths import bootstrap_indices

MAX_TRAIN = 756  # trading days used by fit: ~3 years, keeps auto_arima to seconds
MIN_ROWS = 60
EXOG_CANDIDATES = ["temp_min_c", "temp_max_c", "precipitation_mm"]
CLIMATOLOGY_WINDOW = 15
MAX_D = 1  # on log prices: d=2 would integrate the returns twice
BURN_IN = 20  # first innovations of the training filter: diffuse start, not model errors
# Day-of-year offsets of a leap year, so every calendar date maps to one of 1..366.
_MONTH_START = np.cumsum([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30])

_number = {"type": "number"}
_per_exog = {"type": "object", "propertyNames": {"enum": EXOG_CANDIDATES}}


def _doy(dates) -> np.ndarray:
    idx = pd.DatetimeIndex(np.asarray(dates, dtype="datetime64[D]").ravel())
    return (_MONTH_START[idx.month - 1] + idx.day).to_numpy().reshape(np.shape(dates))


def _log_close(df: pd.DataFrame) -> np.ndarray:
    close = df["close"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(close > 0, np.log(close), np.nan)


def _exog(df: pd.DataFrame, cols: list[str], mean: dict, std: dict) -> np.ndarray | None:
    """Standardized regressors; forward fill is causal, so row t uses rows <= t only."""
    if not cols:
        return None
    raw = df.reindex(columns=cols).astype("float64").ffill().fillna(mean)
    return ((raw - pd.Series(mean)) / pd.Series(std))[cols].to_numpy()


def _climatology(z: pd.Series, window: int) -> list[float]:
    """Circular moving average over days 1..366 of the per-day-of-year mean of z (one column)."""
    per_day = z.groupby(_doy(z.index.values)).mean()
    vals = np.zeros(366)
    have = np.zeros(366)
    vals[per_day.index.to_numpy() - 1] = per_day.to_numpy()
    have[per_day.index.to_numpy() - 1] = 1.0
    half = window // 2
    kernel = np.ones(2 * half + 1)
    wrap = lambda a: np.convolve(np.concatenate([a[-half:], a, a[:half]]), kernel, "valid")  # noqa: E731
    s, n = wrap(vals), wrap(have)
    return [float(x) for x in np.where(n > 0, s / np.maximum(n, 1), 0.0)]


def _sarimax(y: np.ndarray, x: np.ndarray | None, params: dict):
    # Same construction as pmdarima's ARIMA._fit (empty sarimax_kwargs: statsmodels defaults).
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if x is not None:  # named like pmdarima's numpy exog; unnamed, a constant column would become 'const'
        x = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(x.shape[1])])
    return SARIMAX(y, exog=x, order=tuple(params["order"]), trend=params["trend"])


def _filter_numpy(params: dict, y: np.ndarray, x: np.ndarray | None):
    """The stored system's filter (core.models.state_space), as _filter_statsmodels returns it; None where
    the series needs a path of statsmodels' filter that it does not take."""
    try:
        system = state_space.System.from_json(params["state_space"], None if x is None else x.shape[1])
    except ValueError as e:  # a system whose matrices do not fit together
        raise ModelError(f"sarimax_auto_weather: stored state-space system: {e}") from e
    try:
        a_pred, P_pred, innov = state_space.run(system, y, x)
    except state_space.NotCovered:
        return None
    RQ = system.selection @ np.linalg.cholesky(np.atleast_2d(system.state_cov))
    return (a_pred, P_pred, innov, system.design, system.transition, RQ, system.state_intercept, system.exog_beta)


class SarimaxAutoWeather:
    name: ClassVar[str] = "sarimax_auto_weather"
    # Filter burn-in before the first cutoff: the diffuse level states settle in
    # a few steps and ARMA(3,3) memory fades in far fewer than 90 days.
    history_days: ClassVar[int] = 90
    params_schema: ClassVar[dict[str, Any]] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": [
            "order", "d", "trend", "params", "volatility", "std_innovations", "exog", "weather_used", "exog_mean", "exog_std",
            "climatology", "climatology_window", "n_train", "train_start", "train_end", "aic", "llf",
        ],
        "properties": {
            "order": {
                "type": "array", "minItems": 3, "maxItems": 3,
                "prefixItems": [{"type": "integer", "minimum": 0, "maximum": 3},
                                {"type": "integer", "minimum": 0, "maximum": MAX_D},
                                {"type": "integer", "minimum": 0, "maximum": 3}],
            },
            "d": {"type": "integer", "minimum": 0, "maximum": MAX_D},
            "trend": {"enum": ["c", None]},
            "volatility": volatility.SCHEMA,
            # the system statsmodels filtered with at training, for forecasting without statsmodels
            # (core.models.state_space); absent in models trained before it: statsmodels filters
            "state_space": state_space.SCHEMA,
            "std_innovations": {"type": "array", "minItems": 20, "items": _number},
            # statsmodels param name -> constrained value, in the model's param_names order
            "params": {"type": "object", "minProperties": 1, "additionalProperties": _number},
            "exog": {"type": "array", "uniqueItems": True, "items": {"enum": EXOG_CANDIDATES}},
            "weather_used": {"type": "boolean"},
            "exog_mean": {**_per_exog, "additionalProperties": _number},
            "exog_std": {**_per_exog, "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
            "climatology": {
                **_per_exog,
                "additionalProperties": {"type": "array", "minItems": 366, "maxItems": 366, "items": _number},
            },
            "climatology_window": {"type": "integer", "minimum": 1},
            "n_train": {"type": "integer", "minimum": MIN_ROWS},
            "train_start": {"type": "string", "format": "date"},
            "train_end": {"type": "string", "format": "date"},
            "aic": _number,
            "llf": _number,
        },
    }

    def fit(self, train: pd.DataFrame, horizon: int) -> dict[str, Any]:  # any horizon: the filter runs on at simulate
        import pmdarima as pm

        y_all = _log_close(train)
        df = train[np.isfinite(y_all)].iloc[-MAX_TRAIN:]
        if len(df) < MIN_ROWS:
            raise ModelError(f"{self.name} needs at least {MIN_ROWS} trading days with a positive close, got {len(df)}")
        y = _log_close(df)
        present = set(weather_columns(df))
        raw = df.reindex(columns=[c for c in EXOG_CANDIDATES if c in present]).ffill()
        mean = raw.mean()
        std = raw.fillna(mean).std(ddof=0)
        cols = [c for c in raw.columns if np.isfinite(std[c]) and std[c] > 0]  # a constant column is not a regressor
        mean = {c: float(mean[c]) for c in cols}
        std = {c: float(std[c]) for c in cols}
        x = _exog(df, cols, mean, std)
        with threadpool_limits(1, user_api="blas"):
            try:
                arima = pm.auto_arima(
                    y, X=x, seasonal=False, stepwise=True, information_criterion="aic",
                    # Stepwise from ARMA(1,1), not pmdarima's default (2,2): that first fit alone was
                    # ~40% of a training here; the search still walks up to (3,3) when the AIC asks.
                    start_p=1, start_q=1,
                    max_p=3, max_q=3, max_d=MAX_D, suppress_warnings=True, error_action="ignore",
                )
                if arima.order[1] == 1 and arima.with_intercept:
                    # With d=1 the intercept is a drift: the three-year mean return, which the naive
                    # model dropped (issue 12: not significant, it fixes the sign of every direction
                    # call). The stepwise search toggles the constant on its own, so the order it
                    # chose is refitted without it. With d=0 the intercept is the level the log
                    # price reverts to, and stays.
                    arima = pm.ARIMA(arima.order, with_intercept=False, suppress_warnings=True).fit(y, X=x)
            except Exception as e:  # pmdarima raises ValueError when no candidate fits
                raise ModelError(f"{self.name}: auto_arima found no model: {e}") from e
        res = arima.arima_res_
        mod = res.model
        values = [float(v) for v in np.asarray(res.params)]
        if not all(math.isfinite(v) for v in values) or not math.isfinite(res.llf):
            raise ModelError(f"{self.name}: fitted parameters are not finite: {values}")
        beta = np.array([dict(zip(mod.param_names, values))[n] for n in mod.exog_names]) if cols else np.zeros(0)
        system = state_space.system(res.filter_results, beta, x)
        z = (df[cols] - pd.Series(mean)) / pd.Series(std)  # observed values only, for the climatology
        innov = np.asarray(res.filter_results.forecasts_error[0], dtype=np.float64)[BURN_IN:]
        # The volatility's parameters from up to FIT_DAYS innovations: one more Kalman pass, fixed params.
        long = train[np.isfinite(y_all)].iloc[-(volatility.FIT_DAYS + BURN_IN):]
        if len(long) > len(df):
            lm = _sarimax(_log_close(long), _exog(long, cols, mean, std), {"order": mod.order, "trend": "c" if mod.k_trend > 0 else None})
            with threadpool_limits(1, user_api="blas"):
                long_innov = lm.filter(np.asarray(res.params)).filter_results.forecasts_error[0][BURN_IN:]
        else:
            long_innov = innov
        long_innov = np.asarray(long_innov, dtype=np.float64)
        vol, s2 = volatility.fit(long_innov, df.index[-1])
        innov, s2 = long_innov[-len(innov):], s2[-len(innov) - 1:]  # the last MAX_TRAIN days make the pool
        return {
            "order": [int(v) for v in mod.order],
            "d": int(mod.order[1]),
            "volatility": vol.to_json(),
            "std_innovations": [float(v) for v in volatility.standardized_pool(innov, s2)],
            "trend": "c" if mod.k_trend > 0 else None,  # pmdarima passes trend='c' when with_intercept
            "params": dict(zip(mod.param_names, values)),
            "exog": cols,
            "weather_used": bool(cols),
            "exog_mean": mean,
            "exog_std": std,
            "climatology": {c: _climatology(z[c].dropna(), CLIMATOLOGY_WINDOW) for c in cols},
            "climatology_window": CLIMATOLOGY_WINDOW,
            "n_train": len(df),
            "train_start": str(df.index[0].date()),
            "train_end": str(df.index[-1].date()),
            "aic": float(res.aic),
            "llf": float(res.llf),
            **({"state_space": system} if system is not None else {}),
        }

    def moments(self, params: dict[str, Any], history: pd.DataFrame, cutoff_pos, steps: int, innovations=False):
        """Mean log price (n_days, steps) and the map B (n_days, m + (steps-1)*r, steps)
        from standard normals to log-price deviations, for each cutoff (and, if asked, the
        filter's one-step innovations over the history)."""
        cutoff_pos = np.asarray(cutoff_pos, dtype=np.int64)
        if len(cutoff_pos) and (cutoff_pos.min() < 0 or cutoff_pos.max() >= len(history)):
            raise ModelError(f"{self.name}: cutoff positions outside the history (0..{len(history) - 1})")
        cols = params["exog"]
        y, x = _log_close(history), _exog(history, cols, params["exog_mean"], params["exog_std"])
        filtered = _filter_numpy(params, y, x) if "state_space" in params else None
        if filtered is None:
            filtered = self._filter_statsmodels(params, y, x)
        a_pred, P_pred, innov, Z, T, RQ, state_c, beta = filtered
        m, r = RQ.shape

        # Mean: a_{c+1|c} then a_{t+1} = T a_t + c; y = Z a + beta . x_future.
        a = a_pred[cutoff_pos + 1]  # (n_days, m)
        dates = step_dates(history.index.values[cutoff_pos].astype("datetime64[D]") + np.timedelta64(1, "D"), steps)
        obs_c = np.zeros((len(cutoff_pos), steps))
        if cols:
            clim = np.array([params["climatology"][c] for c in cols])  # (k, 366)
            obs_c = clim[:, _doy(dates) - 1].transpose(1, 2, 0) @ beta
        mean = np.empty((len(cutoff_pos), steps))
        for k in range(steps):  # loop over steps only
            mean[:, k] = a @ Z + obs_c[:, k]
            a = a @ T.T + state_c

        # Deviations: ZT[k] = Z T^k.
        ZT = np.empty((steps, m))
        ZT[0] = Z
        for k in range(1, steps):
            ZT[k] = ZT[k - 1] @ T
        P = P_pred[cutoff_pos + 1]
        w, V = np.linalg.eigh((P + P.transpose(0, 2, 1)) / 2)  # eigh + clip: P may be singular
        L = V * np.sqrt(np.clip(w, 0, None))[:, None, :]
        B = np.zeros((len(cutoff_pos), m + (steps - 1) * r, steps))
        B[:, :m, :] = (ZT @ L).transpose(0, 2, 1)
        G = ZT @ RQ  # (steps, r): effect of a shock on the log price k steps later
        for j in range(1, steps):  # shock between step j and j+1 moves steps j+1..
            B[:, m + (j - 1) * r: m + j * r, j:] = G[: steps - j].T
        if innovations:
            return mean, B, innov
        return mean, B

    def _filter_statsmodels(self, params, y, x):
        """The filter of a model stored without its state-space system (trained before it was recorded)."""
        mod = _sarimax(y, x, params)
        if set(mod.param_names) != set(params["params"]):
            raise ModelError(f"{self.name}: params {list(params['params'])} do not match model {mod.param_names}")
        with threadpool_limits(1, user_api="blas"):
            fr = mod.filter(np.array([params["params"][n] for n in mod.param_names])).filter_results
        # SARIMAX system matrices are time-invariant apart from the intercepts; a
        # 'c' trend makes the state intercept a constant column.
        Z, T, R = fr.design[0, :, -1], fr.transition[:, :, -1], fr.selection[:, :, -1]
        RQ = R @ np.linalg.cholesky(np.atleast_2d(fr.state_cov[:, :, -1]))  # (m, r)
        beta = np.array([params["params"][n] for n in mod.exog_names or ()])
        return (fr.predicted_state.T, fr.predicted_state_cov.transpose(2, 0, 1),
                np.asarray(fr.forecasts_error[0], dtype=np.float64), Z, T, RQ, fr.state_intercept[:, -1], beta)

    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds) -> np.ndarray:
        if len(seeds) != len(cutoff_pos):
            raise ModelError(f"{self.name}: {len(seeds)} seeds for {len(cutoff_pos)} forecast days")
        cutoff_pos = np.asarray(cutoff_pos, dtype=np.int64)
        mean, B, innov = self.moments(params, history, cutoff_pos, steps, innovations=True)
        m = B.shape[1] - (steps - 1)
        if m < 1:
            raise ModelError(f"{self.name}: {B.shape[1]} shocks for {steps} steps: one shock per step expected")
        vol = volatility.Volatility.from_json(params["volatility"])
        s2 = volatility.sigma2_at(vol, innov, volatility.state_position(vol, history.index.values), cutoff_pos)
        pool = np.asarray(params["std_innovations"], dtype=np.float64)
        z = pool[bootstrap_indices(np.asarray(seeds), n_paths, B.shape[1], len(pool))]
        # Step 1: its innovation is Z L z0 (variance Z P Z'); later steps: one shock each, whose effect on
        # the log price at its own step is g = Z R chol(Q) (= the model's innovation sd for an ARIMA).
        f1 = np.sqrt(np.einsum("dk,dk->d", B[:, :m, 0], B[:, :m, 0]))
        g = B[:, m, 1] if steps > 1 else np.ones(len(cutoff_pos))
        ratio = np.sqrt(s2) / np.where(f1 > 0, f1, 1.0)
        z[:, :, :m] *= ratio[:, None, None]
        e = np.einsum("dpk,dk->dp", z[:, :, :m], B[:, :m, 0])  # each path's step-1 innovation
        s2p = np.broadcast_to(s2[:, None], e.shape)
        for k in range(1, steps):  # the variance recursion, step by step; vectorized over days and paths
            s2p = vol.next_variance(s2p, e)
            sd = np.sqrt(s2p)
            e = sd * z[:, :, m + k - 1]
            z[:, :, m + k - 1] *= sd / np.where(g != 0, g, 1.0)[:, None]
        with threadpool_limits(1, user_api="blas"):  # one thread also keeps batch == per-day bit for bit
            out = z @ B
        out += mean[:, None, :]
        return np.exp(out, out=out)
