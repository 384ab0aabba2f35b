"""The straightforward way, for the ratio target: one day at a time, the libraries' own loops.

- SARIMAX: statsmodels filters the history up to each day's cutoff and its own
  `simulate(repetitions=n_paths)` draws the paths (a Python loop over repetitions).
- XGBoost: recursive 14-step paths from a one-step booster, features rebuilt from
  each path's prices at every step.
- naive: the same bootstrap, one day at a time.
- Writes: one delete + INSERT per day.
Only for bench/perf.py: the product's fast paths are in forecast_assets.core.models.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import xgboost as xgb

from forecast_assets.runs import loading, plan
from forecast_assets.core import forecast as core_forecast
from forecast_assets.core.data import daily_series, weather_columns
from forecast_assets.core.models import get_model
from forecast_assets.core.models import sarimax as sx
from forecast_assets.core.models import xgboost_direct as xd
from forecast_assets.core.paths import day_seeds
from forecast_assets.storage.rows import distribution_rows, point_rows


def _rng(seed):
    return np.random.Generator(np.random.PCG64(int(seed)))


class NaivePerDay:
    def __init__(self):
        self.history_days = get_model("naive").history_days

    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds):
        # Unconditional reference (the FHS variance path is not part of this per-day speed baseline).
        resid = np.asarray(params["std_residuals"]) * np.sqrt(params["volatility"]["sigma2_next"])
        close = history["close"].to_numpy(dtype=np.float64)
        out = np.empty((len(cutoff_pos), n_paths, steps))
        for i, (c, s) in enumerate(zip(cutoff_pos, seeds)):
            draws = resid[_rng(s).integers(0, len(resid), size=(n_paths, steps))]
            out[i] = close[c] * np.exp(np.cumsum(draws, axis=1))
        return out


class SarimaxStatsmodels:
    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds):
        cols = params["exog"]
        y_all = np.log(history["close"].to_numpy(dtype=np.float64))
        x_all = sx._exog(history, cols, params["exog_mean"], params["exog_std"])
        out = np.empty((len(cutoff_pos), n_paths, steps))
        for i, (c, s) in enumerate(zip(cutoff_pos, seeds)):
            mod = sx._sarimax(y_all[: c + 1], None if x_all is None else x_all[: c + 1], params)
            res = mod.filter(np.array([params["params"][n] for n in mod.param_names]))
            fx = None
            if cols:
                dates = sx.step_dates(np.array([history.index.values[c]], dtype="datetime64[D]") + np.timedelta64(1, "D"), steps)[0]
                clim = np.array([params["climatology"][k] for k in cols])
                fx = pd.DataFrame(clim[:, sx._doy(dates) - 1].T, columns=[f"x{j + 1}" for j in range(len(cols))])
            sim = res.simulate(steps, repetitions=n_paths, anchor="end", exog=fx, rng=_rng(s))
            out[i] = np.exp(np.asarray(sim).reshape(steps, n_paths).T)
        return out


class XGBoostRecursive:
    """One-step booster (same features and settings as the direct model) applied 14 times per path."""

    def __init__(self, train: pd.DataFrame):
        self.weather = weather_columns(train)
        f = xd.features(train, self.weather)
        y = xd._targets(train, 1)
        ok = np.isfinite(y).all(axis=1) & np.isfinite(f[["ret_60", "vol_20"]].to_numpy()).all(axis=1)
        x, y = f.to_numpy()[ok][-xd.TRAIN_ORIGINS:], y[ok][-xd.TRAIN_ORIGINS:]
        self.names = list(f.columns)
        params = {k: v for k, v in xd.BOOST_PARAMS.items() if k != "multi_strategy"}
        split = int(len(x) * 0.8)  # the direct model's former holdout share
        early = xgb.train(params, xgb.DMatrix(x[:split], label=y[:split], feature_names=self.names), xd.N_ROUNDS)
        self.resid = y[split:, 0] - early.predict(xgb.DMatrix(x[split:], feature_names=self.names))
        self.booster = xgb.train(params, xgb.DMatrix(x, label=y, feature_names=self.names), xd.N_ROUNDS)

    def simulate(self, params, history, cutoff_pos, steps, n_paths, seeds):
        out = np.empty((len(cutoff_pos), n_paths, steps))
        for i, (c, s) in enumerate(zip(cutoff_pos, seeds)):
            rng = _rng(s)
            past = history.iloc[max(0, c - 80): c + 1]
            logp = np.tile(np.log(past["close"].to_numpy(dtype=np.float64)), (n_paths, 1))
            last = past.iloc[-1]
            day = past.index[-1]
            for k in range(steps):
                day = day + pd.offsets.BDay(1)
                r = np.diff(logp, axis=1)
                feats = {
                    **{f"ret_lag{j}": r[:, -1 - j] for j in range(4)},
                    **{f"ret_{w}": logp[:, -1] - logp[:, -1 - w] for w in (5, 10, 20, 60)},
                    "vol_5": r[:, -5:].std(axis=1, ddof=1), "vol_20": r[:, -20:].std(axis=1, ddof=1),
                    "ma_gap_20": logp[:, -1] - logp[:, -20:].mean(axis=1),
                    "doy_sin": np.full(n_paths, np.sin(2 * np.pi * day.dayofyear / 365.25)),
                    "doy_cos": np.full(n_paths, np.cos(2 * np.pi * day.dayofyear / 365.25)),
                    "dow": np.full(n_paths, day.dayofweek),
                }
                x = pd.DataFrame({n: feats.get(n, np.full(n_paths, last.get(n.split("_mean30")[0].split("_min7")[0],
                                                                             np.nan))) for n in self.names})
                step = self.booster.predict(xgb.DMatrix(x.to_numpy(np.float32), feature_names=self.names))
                step = step + self.resid[rng.integers(0, len(self.resid), size=n_paths)]
                logp = np.column_stack([logp, logp[:, -1] + step])
            out[i] = np.exp(logp[:, -steps:])
        return out


def forecast_days(store, settings, model_name: str, commodity: str, days: list[date], window: date) -> None:
    """Per day: read, simulate the straightforward way, summarize, one delete + INSERT."""
    trained = loading.load_trained(store, settings, model_name, commodity, window)
    after = timedelta(days=plan.after_days(settings.horizon))
    everything = daily_series(store.read_unified(commodity, end=days[-1] + after), commodity)
    # The same history span as the fast path (anchored at the window start).
    daily = everything[everything.index >= pd.Timestamp(window - timedelta(days=plan.lookback_days(model_name)))]
    if model_name == "naive":
        model = NaivePerDay()
    elif model_name == "sarimax_auto_weather":
        model = SarimaxStatsmodels()
    else:  # its one-step booster is fitted here, outside the timed forecasts
        model = XGBoostRecursive(everything[everything.index < pd.Timestamp(window)])
    real = core_forecast.get_model
    core_forecast.get_model = lambda _name: model  # the same forecast() around it, one day per call
    try:
        for d in days:
            seeds = day_seeds(settings.seed, commodity, model_name, settings.model_version, [d])
            b = core_forecast.forecast(trained, daily, [d], n_paths=settings.n_paths, seeds=seeds,
                                       horizon=settings.horizon, calendar=settings.calendar(commodity))
            store.replace_forecasts(commodity, model_name, settings.model_version, [d],
                                    distribution_rows(b, settings.model_version), point_rows(b, settings.model_version))
    finally:
        core_forecast.get_model = real
