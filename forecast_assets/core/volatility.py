"""Conditional volatility for filtered historical simulation (FHS), shared by every model.

In the spirit of the `arch` package the pieces are separate: a model supplies its
residual series (its mean), this module fits the volatility process on it and
keeps the standardized residuals (residual / conditional sigma) as the
distribution, which the model bootstraps. At training: GJR-GARCH(1,1) with
Student-t innovations through `arch` (returns rescaled to percent for its
optimizer), or EWMA by choice (METHOD: EWMA is the default, measured better calibrated on
real prices; see METHOD); when GJR-GARCH does not converge, is not covariance-stationary, or the
series is too short to estimate it, EWMA (RiskMetrics, lambda 0.94), and the
choice and its reason are recorded. Both are the same recursion

    sigma2[t+1] = omega + (alpha + gamma * 1[eps[t] < 0]) * eps[t]^2 + beta * sigma2[t]

(EWMA: omega 0, alpha 1 - lambda, gamma 0, beta lambda), so inference has one code path.

At inference the parameters are fixed: `filter` runs the recursion forward from the
state stored at the training cutoff through the history, so the sigma of a day uses
only residuals up to its cutoff; `simulate` scales each step's shocks by the expected variance path from the day's
state (or, with PATH_FEEDBACK, by each path's own simulated variance path).

The level (step 1) and the path (steps 2..H) are separate choices. EWMA's own expected path is
flat; with PATH_REVERSION an EWMA state's path reverts toward a long-run variance instead,

    sigma2_k = long_run + phi^(k-1) * (sigma2_1 - long_run),

long_run the mean squared residual and phi the persistence of a GJR-GARCH-t, both fitted at training
on the same FIT_DAYS residuals and recorded (`path`, `long_run`, `path_persistence`,
`path_persistence_from`, `path_reason`). A fitted model stored without them has the flat path it
was trained with.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

EWMA_LAMBDA = 0.94  # RiskMetrics (1996) daily decay
# The process the models use. Measured on real daily prices (bench/quality_real.py --quick: WTI and
# S&P 500, 2008-09 crash and a calm year), EWMA 0.94 passed 5 of 16 lines against GJR-GARCH-t's 3
# (2 with 3-year fits): the fitted GARCH mean-reverts toward a long-run variance that is too high in
# calm years (95% coverage 0.98-1.00 at step 1) and reacts too slowly in a crash (0.88-0.91).
# "gjr_garch_t" selects GJR-GARCH(1,1)-t with EWMA as its recorded fallback. EWMA sets the level at
# each cutoff (step 1); the path beyond it reverts (PATH_REVERSION), with the GJR's persistence only.
METHOD = "ewma"
MIN_GARCH_OBS = 250  # fewer residuals than about a year: the GJR-t likelihood is too flat to trust
# Residuals the parameters are fitted on (about ten years where there are): on three years the
# GJR-t estimates swung from window to window (gamma 0.12 -> 0.45, beta 0.93 -> 0.76 on the S&P 500)
# and the bands with them; the bootstrap pool stays the models' recent residuals.
FIT_DAYS = 2520
# Whether a simulated path's own shocks feed its variance (the textbook FHS) or every path follows
# the expected variance path from the cutoff. Measured on real prices (make quality --quick, WTI and
# S&P 500, crash and calm): with EWMA's unit persistence the feedback makes the 14-step sum a wide
# scale mixture, too peaked in the middle: 80% coverage at step 14 was 0.70-0.73 on three of four
# regimes; without it 0.72-0.77, the 95% band unchanged (0.92-0.97) (measured with the flat path,
# before PATH_REVERSION). The shocks are still drawn from the fat-tailed standardized residuals, so
# each step keeps its own tails. With a reverting path the feedback is EWMA's update pulled toward
# the long-run variance (next_variance).
PATH_FEEDBACK = False
# Whether an EWMA state's expected variance path over steps 2..H reverts toward the long-run variance
# (see the module docstring) instead of staying flat: EWMA carries today's variance unchanged for 14
# steps, so step-14 coverage followed the regime (too low when calm, too high in a crash). Measured
# (make quality --no-synthetic --n-paths 500, WTI and S&P 500, 7 regimes x 3 models, same machine):
# step 1 unchanged (the level is still EWMA's); mean |cov95 - 0.95| at step 14 0.026 -> 0.020, at
# step 7 0.019 -> 0.016; WTI calm 2013 cov80@14 0.738-0.762 -> 0.774-0.825, S&P calm 2017 cov95@14
# 0.884-0.908 -> 0.916-0.972, WTI crash cov95@14 0.956-0.980 -> 0.937-0.960; mean CRPS -0.25% (xgboost),
# -0.04% (naive, sarimax); 13 of 28 lines PASS against 11. Worse: cov80@14 in the WTI crash (0.738-0.778 -> 0.698-0.750).
PATH_REVERSION = True
# phi where no GJR-GARCH-t can be fitted (short or gappy residuals, no convergence, not stationary):
# a half-life of about 34 sessions. The GJR-t fitted on ten years of returns gave 0.963-0.998 (median
# 0.982) on WTI and 0.987-0.999 (median 0.993) on the S&P 500 across make quality's windows.
DEFAULT_PATH_PERSISTENCE = 0.98
MAX_PERSISTENCE = 0.999  # alpha + gamma/2 + beta at or above this: integrated, no long-run variance

_num = {"type": "number"}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "omega", "alpha", "gamma", "beta", "nu", "fallback_reason", "sigma2_next", "state_date"],
    "properties": {
        "kind": {"enum": ["gjr_garch_t", "ewma"]},
        "omega": {"type": "number", "minimum": 0},
        "alpha": {"type": "number", "minimum": 0},
        "gamma": _num,
        "beta": {"type": "number", "minimum": 0},
        "nu": {"type": ["number", "null"]},
        "fallback_reason": {"type": ["string", "null"]},
        # variance of the residual of the day after the training cutoff, given the training data
        "sigma2_next": {"type": "number", "exclusiveMinimum": 0},
        "state_date": {"type": "string", "format": "date"},  # the training cutoff: where the filter resumes
        # The expected variance path over steps 2..H. Absent (models stored before it): "process".
        # "process": the level process's own (flat for EWMA, the GJR's own reversion); "reverting":
        # toward long_run at rate path_persistence (phi), from a GJR-GARCH-t fit or the default.
        "path": {"enum": ["process", "reverting"]},
        "long_run": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "path_persistence": {"type": ["number", "null"], "minimum": 0, "exclusiveMaximum": 1},
        "path_persistence_from": {"enum": ["gjr_garch_t", "default", None]},
        "path_reason": {"type": ["string", "null"]},  # why the default phi: the GJR fit's failure
    },
    "if": {"properties": {"path": {"const": "reverting"}}, "required": ["path"]},
    "then": {
        "required": ["long_run", "path_persistence", "path_persistence_from"],
        "properties": {"kind": {"const": "ewma"}, "long_run": {"type": "number"},
                       "path_persistence": {"type": "number"}, "path_persistence_from": {"type": "string"}},
    },
}


@dataclass(frozen=True)
class Volatility:
    kind: str
    omega: float
    alpha: float
    gamma: float
    beta: float
    nu: float | None
    fallback_reason: str | None
    sigma2_next: float
    state_date: str = ""
    # Defaults: a model stored before these fields existed keeps the flat path it was trained with.
    path: str = "process"
    long_run: float | None = None
    path_persistence: float | None = None
    path_persistence_from: str | None = None
    path_reason: str | None = None

    def __post_init__(self):
        if self.path == "reverting":
            # The reverting path is defined on a martingale level (EWMA): see next_variance.
            if self.kind != "ewma" or not (self.long_run and self.long_run > 0) \
                    or self.path_persistence is None or not 0 <= self.path_persistence < 1:
                raise ValueError(f"a reverting variance path needs an EWMA level, long_run > 0 and 0 <= phi < 1; "
                                 f"got kind {self.kind!r}, long_run {self.long_run}, phi {self.path_persistence}")
        elif self.path != "process":
            raise ValueError(f"unknown variance path {self.path!r}")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "Volatility":
        return cls(**d)

    @property
    def persistence(self) -> float:
        # E[1[z<0] z^2] = 1/2 for a symmetric unit-variance z (arch's analytic forecast assumes the same).
        return self.alpha + self.gamma / 2 + self.beta

    @property
    def path_coefficients(self) -> tuple[float, float]:
        """(w, phi) of the expected path's step E[sigma2_{k+1}] = w + phi * sigma2_k."""
        if self.path == "reverting":
            return self.long_run * (1 - self.path_persistence), self.path_persistence
        return self.omega, self.persistence

    def next_variance(self, s2: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
        """Variance of the next step from this step's variance s2 (and, with PATH_FEEDBACK, its residual e).

        The one step every simulation takes (simulate, sarimax's). In the dtype of s2: float32 paths
        stay float32. With feedback and a reverting path, the EWMA update (whose expectation is s2)
        is pulled toward long_run, so the mean over paths is still the expected path.
        """
        f = np.asarray(s2).dtype.type
        w, phi = self.path_coefficients
        if not PATH_FEEDBACK:
            return f(w) + f(phi) * s2
        s2 = f(self.beta) * s2 + (np.where(e < 0, f(self.alpha + self.gamma), f(self.alpha)) * (e * e)
                                  + f(self.omega))
        return s2 if self.path != "reverting" else f(w) + f(phi) * s2

    def filter(self, eps: np.ndarray, sigma2_first: float) -> np.ndarray:
        """sigma2 of len(eps)+1: sigma2[t] is the variance of eps[t] given eps[:t]; sigma2[-1] the next one.

        A plain loop over time: the recursion is sequential, and arch's fix() would re-derive the
        starting variance by backcasting from the data it is given, so the state at a cutoff would
        depend on where the history starts instead of continuing from the trained state.
        Non-finite residuals (no price) leave the variance to decay toward its mean (eps^2 := sigma2).
        """
        out = np.empty(len(eps) + 1)
        s2 = out[0] = float(sigma2_first)
        w, a, g, b = self.omega, self.alpha, self.gamma, self.beta
        for t, e in enumerate(np.asarray(eps, dtype=np.float64).tolist()):
            e2 = e * e if math.isfinite(e) else s2
            s2 = w + (a + (g if e < 0 else 0.0)) * e2 + b * s2
            out[t + 1] = s2
        return out

    def expected_path(self, sigma2_next: np.ndarray, steps: int) -> np.ndarray:
        """(n, steps) E[sigma2] of steps 1..steps given sigma2 of step 1 (the closed-form forecast)."""
        s = np.asarray(sigma2_next, dtype=np.float64)
        out = np.empty(s.shape + (steps,))
        out[..., 0] = s
        w, phi = self.path_coefficients  # the step next_variance takes without feedback
        for k in range(1, steps):
            out[..., k] = w + phi * out[..., k - 1]
        return out

    def simulate(self, sigma2_next: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Residuals eps (n_days, n_paths, steps) = sigma_k * z_k along each path's own variance path.

        sigma2_next: (n_days,) variance of step 1 at each day's cutoff; z: standardized shocks.
        Vectorized over days and paths; the loop is over the steps only (step k needs step k-1).
        """
        eps = np.empty_like(z)
        s2 = np.broadcast_to(np.asarray(sigma2_next, dtype=z.dtype)[:, None], z.shape[:2])
        for k in range(z.shape[2]):
            e = eps[:, :, k]
            np.sqrt(s2, out=e)
            e *= z[:, :, k]
            s2 = self.next_variance(s2, e)
        return eps


def _ewma(eps: np.ndarray, reason: str | None) -> tuple[Volatility, np.ndarray]:
    e = eps[np.isfinite(eps)]
    start = float(np.mean(e[:30] ** 2)) if len(e) else 1e-4  # the first month's mean square, as RiskMetrics
    v = Volatility("ewma", 0.0, 1 - EWMA_LAMBDA, 0.0, EWMA_LAMBDA, None, reason, 1.0)
    s2 = v.filter(eps, max(start, 1e-12))
    return Volatility(**{**asdict(v), "sigma2_next": float(s2[-1])}), s2


def fit(eps: np.ndarray, state_date, method: str | None = None,
        reversion: bool | None = None) -> tuple[Volatility, np.ndarray]:
    """fit_series, with the state stamped with the training cutoff date (a date or datetime64) and,
    for an EWMA state with reversion (PATH_REVERSION unless given), its reverting variance path."""
    eps = np.asarray(eps, dtype=np.float64)
    v, s2 = fit_series(eps, method or METHOD)
    v = Volatility(**{**asdict(v), "state_date": str(np.datetime64(state_date, "D"))})
    if (PATH_REVERSION if reversion is None else reversion) and v.kind == "ewma":
        v = with_reverting_path(v, eps)
    return v, s2


def with_reverting_path(v: Volatility, eps: np.ndarray) -> Volatility:
    """v with the path reverting toward the mean squared residual at the persistence of a GJR-GARCH-t
    fitted on the same residuals (DEFAULT_PATH_PERSISTENCE, with the reason, where none can be)."""
    e = eps[np.isfinite(eps)]
    long_run = float(np.mean(e * e)) if len(e) else 0.0
    if not long_run > 0:  # nothing to revert to: the flat path, as without reversion
        return v
    # A GJR fallback already failed for this series: its reason stands, no second fit.
    g = v if v.fallback_reason else fit_series(eps, "gjr_garch_t")[0]
    if g.kind == "gjr_garch_t":
        phi, source, reason = g.persistence, "gjr_garch_t", None
    else:
        phi, source, reason = DEFAULT_PATH_PERSISTENCE, "default", g.fallback_reason
    return Volatility(**{**asdict(v), "path": "reverting", "long_run": long_run, "path_persistence": float(phi),
                         "path_persistence_from": source, "path_reason": reason})


def fit_series(eps: np.ndarray, method: str = "gjr_garch_t") -> tuple[Volatility, np.ndarray]:
    """The volatility process of a residual series, and its sigma2 (len(eps) + 1, the last the next day's).

    Residuals are in log-price units (decimals); the optimizer sees them in percent.
    """
    eps = np.asarray(eps, dtype=np.float64)
    if method == "ewma":
        return _ewma(eps, None)
    if method != "gjr_garch_t":
        raise ValueError(f"unknown volatility method {method!r}")
    if not np.isfinite(eps).all():
        return _ewma(eps, "residuals with gaps")
    if len(eps) < MIN_GARCH_OBS:
        return _ewma(eps, f"{len(eps)} residuals, fewer than {MIN_GARCH_OBS} for GJR-GARCH")
    if np.std(eps) == 0:
        return _ewma(eps, "constant residuals")
    from arch import arch_model

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = arch_model(eps * 100, mean="Zero", vol="GARCH", p=1, o=1, q=1, dist="t",
                             rescale=False).fit(disp="off", show_warning=False)
    except Exception as e:  # arch raises on singular or degenerate likelihoods
        return _ewma(eps, f"GJR-GARCH fit failed: {type(e).__name__}: {e}")
    p = res.params
    omega, alpha, gamma, beta, nu = (float(p["omega"]) / 1e4, float(p["alpha[1]"]), float(p["gamma[1]"]),
                                     float(p["beta[1]"]), float(p["nu"]))
    if res.convergence_flag != 0:
        return _ewma(eps, f"GJR-GARCH did not converge (flag {res.convergence_flag})")
    if not all(map(math.isfinite, (omega, alpha, gamma, beta, nu))):
        return _ewma(eps, "GJR-GARCH parameters are not finite")
    persistence = alpha + gamma / 2 + beta
    if persistence >= MAX_PERSISTENCE or omega <= 0 or alpha + gamma < 0:
        return _ewma(eps, f"GJR-GARCH not stationary (alpha + gamma/2 + beta = {persistence:.4f})")
    v = Volatility("gjr_garch_t", omega, alpha, gamma, beta, nu, None, 1.0)
    s2 = np.empty(len(eps) + 1)
    s2[:-1] = (np.asarray(res.conditional_volatility) / 100) ** 2
    e = eps[-1]
    s2[-1] = omega + (alpha + gamma * (e < 0)) * e * e + beta * s2[-2]
    return Volatility(**{**asdict(v), "sigma2_next": float(s2[-1])}), s2


def standardized_pool(eps: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """eps / sigma, finite values only, rescaled to mean 0 and variance 1 so sigma alone sets the spread."""
    z = np.asarray(eps, dtype=np.float64) / np.sqrt(sigma2[: len(eps)])
    z = z[np.isfinite(z)]
    z = z - z.mean()
    sd = z.std()
    return z / sd if sd > 0 else z


def state_position(vol: Volatility, dates) -> int:
    """Row of the training cutoff in a history's dates; 0 if the history starts after it (then the
    filter resumes at the history's start: deterministic for an anchored history, and causal)."""
    d = np.asarray(dates).astype("datetime64[D]")
    return max(int(np.searchsorted(d, np.datetime64(vol.state_date, "D"), side="right")) - 1, 0)


def sigma2_at(vol: Volatility, eps: np.ndarray, start: int, cutoff_pos: np.ndarray) -> np.ndarray:
    """Variance of the step after each cutoff: the filter run once, from the trained state at
    position `start` (the training cutoff's row in the history: eps[start + 1] is the first new
    residual) forward to the last cutoff. A cutoff before `start` gets the trained state."""
    cutoff_pos = np.asarray(cutoff_pos, dtype=np.int64)
    last = int(cutoff_pos.max()) if len(cutoff_pos) else start
    s2 = vol.filter(eps[start + 1: max(last, start) + 1], vol.sigma2_next)  # s2[j]: variance after row start + j
    return s2[np.clip(cutoff_pos - start, 0, None)]
