"""XGBoost direct multi-horizon model with a joint residual bootstrap.

One multi-target booster predicts log(P[t+h] / P[t]) for every horizon h
from features known at t (lags, rolling statistics, calendar, weather
averaged over regions); each round grows one tree per horizon, as separate
per-horizon boosters would, but in one call that shares the data sketch
(1.5x faster to fit, 4x faster to load, one predict call). Paths
add to those predictions whole residual vectors (one value per step) drawn from
a holdout period, so the spread widens with the horizon as the real errors did,
and the steps of a path stay jointly consistent. Recursive 14-step XGBoost paths
cost ~300x more for the same distribution (docs/decisions.md).

The steps trained are the forecast horizon plus room for a cutoff up to MAX_GAP
weekdays stale (a holiday, a late feed): 20 for 14. The fitted params record
them as the length of every residual vector, so a model trained for a smaller
horizon than a forecast asks is refused (max_horizon) rather than run short.

The holdout (docs: README "Models"): the last HOLDOUT_EPISODES * horizon origins, after a gap of
horizon + MAX_GAP origins that neither the early booster's targets nor the holdout's
reach across (no target window overlaps the holdout's). 50 non-overlapping
horizon-long episodes: the 2.5% and 97.5% tails of a step-H error then rest on
independent episodes rather than on ~300 overlapping vectors from one stretch, and
the per-step mean removed (the early booster's bias, centred per horizon) has a
standard error of about a seventh of the spread. Filtered historical simulation
(core.volatility): each holdout vector is divided by the expected cumulative
sigma path at its origin (the core.volatility process of the daily returns) and
multiplied, at a forecast, by the one from the day's cutoff, so the vector's
joint shape across steps is kept and its scale follows the current volatility.
Their variance per step is shrunk toward 1 (variance_scale) as far as its noise
explains its distance from 1.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import numpy as np
import orjson
import pandas as pd


def _import_xgboost():
    """xgboost, imported without scikit-learn where this process has not imported it yet.

    xgboost's compat module imports scikit-learn (~0.8 s) only to offer its sklearn-style estimators, which
    this model never uses (xgb.train, Booster): a daily run would pay it for nothing. A None entry in
    sys.modules makes that optional import fail as if scikit-learn were absent, for this import only; the
    entry is removed right after, so pmdarima (training) imports the real scikit-learn as usual.
    """
    if "sklearn" in sys.modules or "xgboost" in sys.modules:
        import xgboost

        return xgboost
    sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        import xgboost
    finally:
        if sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]
    return xgboost


xgb = _import_xgboost()
from forecast_assets.core import volatility
from forecast_assets.core.calendar import MAX_GAP
from forecast_assets.core.data import weather_columns
from forecast_assets.core.models.base import ModelError
from forecast_assets.core.paths import bootstrap_indices

TRAIN_ORIGINS = 1500  # the most recent training origins used, for speed
HOLDOUT_EPISODES = 50  # non-overlapping horizon-long episodes in the holdout (why: module docstring)
MIN_EARLY_ORIGINS = 250  # origins the early (holdout-blind) booster needs at the least
FEATURE_WARMUP = 60  # rows before the first origin with every feature (ret_60)
BOOST_PARAMS = {
    "objective": "reg:squarederror",
    "max_depth": 3,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 5,
    "seed": 7,
    # One thread: with another process on the second core, two threads made a fit 8x slower
    # (33 s vs 4 s); on an idle machine one thread is ~20% slower (5.3 s vs 4.4 s per fit).
    "nthread": 1,
    "tree_method": "hist",
    "multi_strategy": "one_output_per_tree",
}
N_ROUNDS = 120


def features(daily: pd.DataFrame, weather: list[str]) -> pd.DataFrame:
    """Features of each trading day t from rows up to t only (trailing windows)."""
    logp = np.log(daily["close"].astype("float64"))
    r = logp.diff()
    f = pd.DataFrame(index=daily.index)
    for lag in range(4):
        f[f"ret_lag{lag}"] = r.shift(lag)
    for w in (5, 10, 20, 60):
        f[f"ret_{w}"] = logp - logp.shift(w)
    f["vol_5"] = r.rolling(5).std()
    f["vol_20"] = r.rolling(20).std()
    f["ma_gap_20"] = logp - logp.rolling(20).mean()
    doy = daily.index.dayofyear.to_numpy()
    f["doy_sin"] = np.sin(2 * np.pi * doy / 365.25)
    f["doy_cos"] = np.cos(2 * np.pi * doy / 365.25)
    f["dow"] = daily.index.dayofweek.to_numpy()
    if "vix" in daily.columns:
        f["vix"] = daily["vix"]
    for c in weather:
        f[c] = daily[c]
        f[f"{c}_mean30"] = daily[c].rolling(30, min_periods=10).mean()
    if "temp_min_c" in weather:
        f["temp_min_c_min7"] = daily["temp_min_c"].rolling(7, min_periods=3).min()
    return f.astype("float32")


def _targets(daily: pd.DataFrame, steps: int) -> np.ndarray:
    logp = np.log(daily["close"].to_numpy(dtype=np.float64))
    n = len(logp)
    y = np.full((n, steps), np.nan)
    for h in range(1, steps + 1):
        y[: n - h, h - 1] = logp[h:] - logp[: n - h]
    return y


def _train_booster(x: np.ndarray, y: np.ndarray, names: list[str]) -> xgb.Booster:
    return xgb.train(BOOST_PARAMS, xgb.DMatrix(x, label=y, feature_names=names), N_ROUNDS)


def _predict(booster: xgb.Booster, x: np.ndarray, names: list[str]) -> np.ndarray:
    """(rows, steps trained) predicted log-returns."""
    return booster.predict(xgb.DMatrix(x, feature_names=names)).reshape(len(x), -1).astype(np.float64)


def _cum_sd(vol: volatility.Volatility, sigma2_next: np.ndarray, steps: int) -> np.ndarray:
    """(n, steps) sd of the cumulative log return to step k: sqrt of the summed expected variances.

    The closed-form expectation, not a simulated path: a residual vector already carries its own
    path's randomness, only its scale is moved to the current volatility."""
    return np.sqrt(np.cumsum(vol.expected_path(sigma2_next, steps), axis=-1))


def mean_weight(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per step, the least-squares weight w in [0, 1] of the holdout-blind booster's predicted
    log return: y ~ w * pred (no intercept: the random walk's zero is the alternative).

    Why: on real prices the booster's 14-day mean is mostly noise (make quality: CRPS 1.03-1.37x the
    driftless random walk's on WTI and the S&P 500), and a forecast that adds noise to the mean loses
    to one that does not. The weight is the classic shrinkage toward the random walk (a forecast-
    encompassing regression) estimated where the booster did not train; 0 where it has no skill
    there, 1 at most (never amplified), and shrunk by its own noise (below). On WTI and the
    S&P 500 it is mostly 0-0.3.
    """
    num = np.einsum("ij,ij->j", y, pred)
    den = np.einsum("ij,ij->j", pred, pred)
    w = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    # Positive-part James-Stein: w * (1 - 1/t^2), t the weight's t-statistic with the h-step targets'
    # overlap counted (about n/h independent errors at step h), so a weight that noise alone
    # would give is pulled to 0 instead of kept.
    n, steps = y.shape
    resid2 = ((y - w * pred) ** 2).sum(axis=0) / max(n - 1, 1)
    overlap = np.minimum(np.arange(1, steps + 1), n)
    se2 = np.divide(resid2 * overlap, den, out=np.full_like(num, np.inf), where=den > 0)
    t2 = np.divide(w * w, se2, out=np.where(w != 0, np.inf, 0.0), where=se2 > 0)  # no error at all: certain
    shrink = np.clip(1 - np.divide(1.0, t2, out=np.zeros_like(num), where=t2 > 0), 0.0, 1.0)
    return np.clip(w * shrink, 0.0, 1.0)


def variance_scale(z: np.ndarray) -> np.ndarray:
    """Per step, the factor that takes the variance of the standardized holdout vectors z (origins x
    steps, centred) to a shrunk estimate: toward 1, the volatility model's own spread, as far as the
    estimate's noise explains its distance from 1.

    Why: a vector standardized by the expected cumulative sd at its origin has variance 1 where the
    volatility model is right, and the holdout's estimate of it rests on few independent episodes
    (n / k at step k: 50 at step 14), so its standard error there is ~0.25 with fat tails. Kept whole,
    that noise set each window's band: 0.82 at step 14 in WTI's 2008-07 window made the crash's 80%
    band too narrow (coverage 0.70), 0.60-0.75 in several S&P 500 windows. The estimate's variance is
    (kurtosis - 1) v^2 / n_eff; positive-part James-Stein, as mean_weight() does for the mean.
    """
    n, steps = z.shape
    v = z.var(axis=0)
    m4 = (z ** 4).mean(axis=0)
    kurt = np.divide(m4, v * v, out=np.full(steps, 3.0), where=v > 0)
    n_eff = np.maximum(n / np.arange(1, steps + 1), 2.0)  # a k-step vector overlaps the next k - 1
    se2 = np.maximum(kurt - 1, 0.0) * v * v / n_eff
    d2 = (v - 1) ** 2
    keep = np.clip(1 - np.divide(se2, d2, out=np.zeros(steps), where=d2 > 0), 0.0, 1.0)
    target = 1 + (v - 1) * keep
    return np.divide(target, v, out=np.ones(steps), where=v > 0)


class XGBoostModel:
    name: ClassVar[str] = "xgboost"
    history_days: ClassVar[int] = 90
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["feature_names", "weather", "booster", "std_residuals", "residual_mean", "volatility",
                     "holdout"],
        "additionalProperties": False,
        "properties": {
            "feature_names": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "weather": {"type": "array", "items": {"type": "string"}},
            "booster": {"type": "object", "required": ["learner"]},
            # standardized, centred holdout residual vectors: horizon + MAX_GAP values each; equal lengths
            "std_residuals": {"type": "array", "minItems": 20,
                              "items": {"type": "array", "minItems": MAX_GAP + 1, "items": {"type": "number"}}},
            # the per-step mean removed (the early booster's bias), in standardized units
            "residual_mean": {"type": "array", "items": {"type": "number"}},
            # per step, the share of the booster's predicted move the paths keep (mean_weight());
            # absent in models trained before it: 1, the booster's whole prediction
            "mean_weight": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}},
            "volatility": volatility.SCHEMA,
            "holdout": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }

    @staticmethod
    def min_history_days(horizon: int) -> int:
        """Trading days before a window that fit() needs: the feature warm-up, the early booster's
        origins, the holdout's episodes, and a gap of horizon + MAX_GAP origins twice (between the
        early targets and the holdout, and the last holdout origin's targets). 1,050 for 14."""
        steps = horizon + MAX_GAP
        return FEATURE_WARMUP + MIN_EARLY_ORIGINS + HOLDOUT_EPISODES * horizon + 2 * steps

    def fit(self, train: pd.DataFrame, horizon: int) -> dict[str, Any]:
        need = self.min_history_days(horizon)
        if len(train) < need:
            raise ModelError(f"xgboost needs at least {need} trading days of history for a horizon of {horizon}, "
                             f"got {len(train)}")
        steps = horizon + MAX_GAP
        weather = weather_columns(train)
        f = features(train, weather)
        y = _targets(train, steps)
        ok = np.isfinite(y).all(axis=1) & np.isfinite(f[["ret_60", "vol_20"]].to_numpy()).all(axis=1)
        rows = np.flatnonzero(ok)[-TRAIN_ORIGINS:]  # origins are consecutive trading days
        x, y = f.to_numpy()[rows], y[rows]
        n_hold = HOLDOUT_EPISODES * horizon
        n_early = len(x) - n_hold - steps  # the gap: the early targets end before the first holdout origin
        if n_early < MIN_EARLY_ORIGINS:
            raise ModelError(f"xgboost needs at least {need} trading days of history for a horizon of {horizon}: "
                             f"{len(x)} training origins leave {n_early} before the holdout, "
                             f"fewer than {MIN_EARLY_ORIGINS}")
        names = list(f.columns)
        # Residuals of a model that did not see the holdout: honest spread.
        early = _train_booster(x[:n_early], y[:n_early], names)
        pred = _predict(early, x[-n_hold:], names)
        weight = mean_weight(y[-n_hold:], pred)
        resid = y[-n_hold:] - weight * pred
        # Volatility of the daily log returns over the span of the training origins; sd at each origin.
        logp = np.log(train["close"].to_numpy(dtype=np.float64))
        first = max(min(int(rows[0]) - 1, len(logp) - 1 - volatility.FIT_DAYS), 0)
        vol, s2 = volatility.fit(np.diff(logp[first:]), train.index[-1])  # s2[j]: variance of row first+1+j
        origin_rows = rows[-n_hold:]
        z = resid / _cum_sd(vol, s2[origin_rows - first], steps)
        centre = z.mean(axis=0)  # per step: the early booster's bias would shift every path
        z -= centre
        z *= np.sqrt(variance_scale(z))
        booster = _train_booster(x, y, names)
        return {
            "feature_names": names,
            "weather": weather,
            # orjson: ~3 MB of XGBoost's JSON, parsed to the same values as the stdlib's in a third of its time.
            "booster": orjson.loads(booster.save_raw(raw_format="json")),
            "std_residuals": [[float(v) for v in row] for row in z],
            "residual_mean": [float(v) for v in centre],
            "mean_weight": [float(v) for v in weight],
            "volatility": vol.to_json(),
            "holdout": {"origins": int(n_hold), "episodes": HOLDOUT_EPISODES, "gap": int(steps),
                        "early_origins": int(n_early)},
        }

    def __init__(self):
        self._loaded: tuple[dict, xgb.Booster] | None = None

    def _booster(self, params) -> xgb.Booster:
        # forecast() calls simulate once per distinct cutoff gap with the same params: load once.
        if self._loaded is None or self._loaded[0] is not params:
            booster = xgb.Booster()
            # orjson: the booster is ~2.6 MB of JSON; the stdlib encoder took longer than XGBoost's load.
            booster.load_model(bytearray(orjson.dumps(params["booster"])))
            self._loaded = (params, booster)
        return self._loaded[1]

    @staticmethod
    def steps_trained(params) -> int:
        lengths = {len(row) for row in params["std_residuals"]}
        if len(lengths) != 1:
            raise ModelError(f"xgboost residual vectors differ in length ({sorted(lengths)}): the model is corrupt")
        return lengths.pop()

    def max_horizon(self, params) -> int:
        """The horizon the model was trained for: its steps less the room kept for a stale cutoff."""
        return self.steps_trained(params) - MAX_GAP

    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds) -> np.ndarray:
        covered = self.steps_trained(params)
        if steps > covered:
            raise ModelError(f"xgboost covers {covered} steps from the cutoff; {steps} were asked")
        booster = self._booster(params)
        names = params["feature_names"]
        weather = [c for c in params["weather"] if c in history.columns]
        f = features(history, weather).reindex(columns=names)  # missing weather -> NaN, which xgboost handles
        x = f.to_numpy()[cutoff_pos]
        mean = _predict(booster, x, names)[:, :steps]  # (n_days, steps)
        if "mean_weight" in params:
            mean *= np.asarray(params["mean_weight"], dtype=np.float64)[:steps]
        resid = np.asarray(params["std_residuals"], dtype=np.float64)[:, :steps]
        idx = bootstrap_indices(seeds, n_paths, 1, len(resid))[:, :, 0]  # one residual vector per path
        logp_all = np.log(history["close"].to_numpy(dtype=np.float64))
        vol = volatility.Volatility.from_json(params["volatility"])
        s2 = volatility.sigma2_at(vol, np.diff(logp_all, prepend=np.nan),
                                  volatility.state_position(vol, history.index.values), cutoff_pos)
        out = resid[idx]  # (n_days, n_paths, steps)
        out *= _cum_sd(vol, s2, steps)[:, None, :]
        out += (logp_all[cutoff_pos][:, None] + mean)[:, None, :]
        return np.exp(out, out=out)
