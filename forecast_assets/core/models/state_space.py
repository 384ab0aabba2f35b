"""The Kalman filter of a fitted SARIMAX, in numpy, so that forecasting does not import statsmodels.

Importing statsmodels' SARIMAX costs ~0.8 s (it imports scipy.stats), the largest single cost of a
daily run's SARIMAX step (issue 17); the filter itself is a few milliseconds. Training still fits
through pmdarima/statsmodels and records the system its filter used (`system`): the time-invariant
matrices, the initial state and covariance (approximate diffuse for the integrated states,
stationary for the ARMA ones, as statsmodels initializes them) and the regression coefficients of the
exogenous columns (the observation intercept). `run` is statsmodels' conventional filter for one
observed series: forecast, update, predict, with the predicted covariance made symmetric each step
(its default STABILITY_FORCE_SYMMETRY), a missing observation skipping the update, and its forecast
error NaN as in statsmodels' results. The tests compare it with statsmodels' filter_results.

A model stored without `state_space` (trained before it) is filtered by statsmodels as before.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

_matrix = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
_vector = {"type": "array", "items": {"type": "number"}}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["design", "transition", "selection", "state_cov", "state_intercept", "exog_beta",
                 "initial_state", "initial_state_cov", "steady_state"],
    "properties": {
        "design": _vector,  # Z: the one observed series' row
        "transition": _matrix,  # T
        "selection": _matrix,  # R
        "state_cov": _matrix,  # Q
        "state_intercept": _vector,  # c (a 'c' trend; zeros without one)
        "exog_beta": _vector,  # observation intercept = standardized exog row . beta
        "initial_state": _vector,
        "initial_state_cov": _matrix,
        # statsmodels stops updating the covariance at a steady state only for a time-invariant system
        # (no exog, no trend: their intercepts are stored per period)
        "steady_state": {"type": "boolean"},
    },
}


# statsmodels' KalmanFilter.time_invariant: every system array has one period
_SYSTEM = ("design", "obs_intercept", "obs_cov", "transition", "state_intercept", "selection", "state_cov")


def system(fr, beta: np.ndarray, exog: np.ndarray | None) -> dict[str, Any] | None:
    """The JSON system of statsmodels filter results `fr` of a univariate SARIMAX with exog regression
    coefficients `beta` (in the exog's column order). None where the system is not time-invariant
    (a time-varying trend), which the numpy filter does not cover: those models keep statsmodels."""
    for name in ("design", "transition", "selection", "state_cov", "state_intercept"):  # obs_intercept: below
        arr = getattr(fr, name)
        if arr.shape[-1] > 1 and not np.array_equal(arr, np.broadcast_to(arr[..., :1], arr.shape)):
            return None
    obs = np.asarray(fr.obs_intercept[0], dtype=np.float64)
    expected = exog @ beta if exog is not None else np.zeros(1)
    if not np.allclose(np.broadcast_to(obs, np.shape(expected)), expected, rtol=1e-12, atol=1e-12):
        return None  # something else sits in the observation intercept
    return {
        "design": [float(v) for v in fr.design[0, :, -1]],
        "transition": fr.transition[:, :, -1].tolist(),
        "selection": fr.selection[:, :, -1].tolist(),
        "state_cov": fr.state_cov[:, :, -1].tolist(),
        "state_intercept": [float(v) for v in fr.state_intercept[:, -1]],
        "exog_beta": [float(v) for v in beta],
        "initial_state": [float(v) for v in fr.initial_state],
        "initial_state_cov": np.asarray(fr.initial_state_cov).tolist(),
        "steady_state": all(getattr(fr, name).shape[-1] == 1 for name in _SYSTEM),
    }


@dataclass(frozen=True)
class System:
    """A stored system as float arrays, converted and shape-checked once (from_json)."""
    design: np.ndarray  # Z (m,)
    transition: np.ndarray  # T (m, m)
    selection: np.ndarray  # R (m, r)
    state_cov: np.ndarray  # Q (r, r)
    state_intercept: np.ndarray  # c (m,)
    exog_beta: np.ndarray  # (k,)
    initial_state: np.ndarray  # (m,)
    initial_state_cov: np.ndarray  # (m, m)
    steady_state: bool

    @classmethod
    def from_json(cls, ss: dict[str, Any], k_exog: int | None) -> "System":
        """ValueError unless the arrays have the shapes of one m-state system with k_exog regressors."""
        arr = {f.name: np.asarray(ss[f.name], dtype=np.float64) for f in fields(cls) if f.name != "steady_state"}
        m = len(arr["design"])
        sel = arr["selection"].shape
        r = sel[1] if len(sel) == 2 else -1
        want = {"transition": (m, m), "selection": (m, r), "state_cov": (r, r), "state_intercept": (m,),
                "initial_state": (m,), "initial_state_cov": (m, m)}
        bad = [f"{name} {arr[name].shape} (expected {shape})" for name, shape in want.items()
               if arr[name].shape != shape]
        if len(arr["exog_beta"]) != (k_exog or 0):
            bad.append(f"{len(arr['exog_beta'])} exog coefficients for {k_exog or 0} regressors")
        if bad or m == 0 or r < 1:
            raise ValueError(f"state-space arrays do not fit a {m}-state system: {'; '.join(bad) or 'no states'}")
        return cls(**arr, steady_state=bool(ss["steady_state"]))


class NotCovered(Exception):
    """The series needs a path of statsmodels' filter that `run` does not take (the univariate fallback
    for a forecast error variance below 1e-12): the caller filters with statsmodels instead."""


# statsmodels' defaults: steady state when the squared change of the predicted covariance sums below it
TOLERANCE = 1e-19
MIN_VARIANCE = 1e-12  # statsmodels falls back to its univariate filter below this forecast variance


def run(system: "System | dict[str, Any]", y: np.ndarray, exog: np.ndarray | None):
    """Predicted states (n+1, m), their covariances (n+1, m, m) and the one-step forecast errors (n,)
    of observations y (NaN: missing) with the standardized exog rows (n, k) or None; `system` a System
    or the stored JSON.

    Row t of the predictions is the state at t given y[:t]; the last row the state after the last
    observation. A loop over time, as the recursion is sequential; the matrices are a few states wide.
    Steady state as statsmodels has it: once the predicted covariance stops moving (TOLERANCE), the
    covariance, forecast variance and filtered covariance of that period are reused until a missing
    observation; its P then differs from the exact recursion's by up to ~1e-6 relatively, so this
    follows it rather than iterating on.
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    if not isinstance(system, System):
        system = System.from_json(system, None if exog is None else np.shape(exog)[1])
    Z, T, R, c, beta = system.design, system.transition, system.selection, system.state_intercept, system.exog_beta
    RQR = R @ system.state_cov @ R.T
    d = exog @ beta if exog is not None and len(beta) else np.zeros(n)
    m = len(Z)
    a_out = np.empty((n + 1, m))
    P_out = np.empty((n + 1, m, m))
    v_out = np.full(n, np.nan)
    a, P = system.initial_state, system.initial_state_cov
    Tt = T.T
    steady = system.steady_state
    converged = False
    P_conv = f_conv = Pf_conv = None
    missing_before = False
    for t in range(n):
        missing = not y[t] == y[t]
        if missing:
            converged = False
        a_out[t] = a
        P_out[t] = P
        if missing:
            a_f, P_f = a, P
        else:
            PZ = P @ Z
            if converged:
                f, P_f = f_conv, Pf_conv
            else:
                f = Z @ PZ
                if f < MIN_VARIANCE:
                    raise NotCovered(f"forecast error variance {f:.3g} at period {t}")
            v = v_out[t] = y[t] - (d[t] + Z @ a)
            inv = 1.0 / f  # statsmodels' order of operations: it multiplies by 1/F
            a_f = a + PZ * (inv * v)
            if not converged:
                P_f = P - np.outer(P @ (Z * inv), PZ)
        a = T @ a_f + c
        if converged:
            P_next = P_conv
        else:
            P_next = T @ P_f @ Tt + RQR
            P_next = (P_next + P_next.T) / 2
            if steady and t >= 1 and not missing and not missing_before:
                diff = P - P_next
                if float(np.sum(diff * diff)) < TOLERANCE:
                    converged, P_conv, f_conv, Pf_conv = True, P, f, P_f
        missing_before = missing
        P = P_next
    a_out[n] = a
    P_out[n] = P
    return a_out, P_out, v_out
