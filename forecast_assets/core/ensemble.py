"""The walk-forward CRPS-weighted ensemble (issue 15): weights learned before a window, paths combined per day.

Pure: arrays and JSON in and out, no storage and no Dagster (runs/ensemble.py drives it).

Weights of a window are learned from the members' stored forecasts of the days of the TRAINING_WINDOWS
windows before it whose every step's actual is a session strictly before the window's start (a forecast
made 3 days before the window has its step-14 close inside it: using it would leak), by minimizing the
ensemble's mean CRPS over steps 1..H and those days. Fewer than MIN_TRAINING_DAYS such days with every
member scored: equal weights, recorded with the reason.

Two combinations (METHODS), both of the members' paths of one day:
  linear_pool       a mixture: each member gives its first round(w * N) paths of the day (joint paths kept).
  quantile_average  per step the weighted mean of the members' sorted values (Vincentization), re-ordered
                    by the ranks of the highest-weight member's paths at that step (ensemble copula coupling,
                    Schefzik et al. 2013), so each path keeps a real member's dependence across steps.
The CRPS of a quantile average is at most the weighted mean of the members' CRPS (the quantile score is
convex in the quantile), so it beats the best member only through their diversity; a linear pool of
calibrated members is over-dispersed but can beat every member when they disagree.

The CRPS objectives are exact for the subsampled paths and hand-written here because they are quadratic
(linear pool) or piecewise linear (quantile average) in the weights, which scoringrules' crps_ensemble (a
function of one sample) cannot exploit: each is computed once per window, then every optimizer step is a
few dot products. The tests check both against scoringrules on the combined sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from functools import cache

import numpy as np

from forecast_assets.core import fitted
from forecast_assets.core.calendar import window_start as _window_start
from forecast_assets.core.models import REGISTRY

NAME = "ensemble"
MEMBERS: tuple[str, ...] = tuple(REGISTRY)  # every registered model, in registry order
METHODS = ("linear_pool", "quantile_average")
DEFAULT_METHOD = "linear_pool"  # measured on the real series: docs/decisions.md, "The ensemble"
TRAINING_WINDOWS = 2  # semiannual windows before the one being weighted: one year of forecast days
MIN_TRAINING_DAYS = 60  # fewer days with every member scored: equal weights
FIT_PATHS = 250  # paths per member and day the weights are fitted on (of 2,000): the fit takes ~1 s a window

FORMAT = "forecast-assets/ensemble-weights"
FORMAT_VERSION = 1


class EnsembleError(ValueError):
    """Members or weights the ensemble cannot combine; the message says which and why."""


def training_range(window: date) -> tuple[date, date]:
    """First and last forecast day the weights of `window` may learn from: the TRAINING_WINDOWS windows before it."""
    w = _window_start(window)
    first = w
    for _ in range(TRAINING_WINDOWS):
        first = _window_start(first - timedelta(days=1))
    return first, w - timedelta(days=1)


def trainable(days, last_steps, window: date) -> np.ndarray:
    """Which forecast days (n,) may train `window`'s weights: in training_range and their last step's
    date (n,) strictly before the window's start."""
    first, last = training_range(window)
    d = np.asarray(days, dtype="datetime64[D]")
    s = np.asarray(last_steps, dtype="datetime64[D]")
    return (d >= np.datetime64(first)) & (d <= np.datetime64(last)) & (s < np.datetime64(_window_start(window)))


# -- CRPS of the combinations, exact for the given samples ------------------------------------------

def _pair_sums(z_sorted: np.ndarray) -> np.ndarray:
    """Sum over pairs i < j of |z_i - z_j| per row of row-sorted z (R, n) -> (R,): O(n), no pairs formed,
    since the k-th smallest of n values is the larger one of k - 1 pairs and the smaller one of n - k.
    A row's sum does not depend on the other rows (numpy's pairwise sum along each row, not a BLAS product
    whose blocking depends on R): a day's terms are the same whichever days are computed with it."""
    n = z_sorted.shape[1]
    return (z_sorted * (2.0 * np.arange(1, n + 1) - n - 1)).sum(axis=1)


def _mean_abs_diff(x: np.ndarray, y: np.ndarray, x_sorted: bool = False, y_sorted: bool = False) -> np.ndarray:
    """E|X - Y| of two samples per row: x (R, m), y (R, k) -> (R,), exact.

    The pairs within the merged sample are those within x, those within y and the m x k cross pairs, so
    the cross sum is a difference of three pair sums: three sorts (the merge of two sorted halves is linear
    for the stable sort) instead of the m x k pairwise differences or an argsort of the merged sample."""
    xs = x if x_sorted else np.sort(x, axis=1)
    ys = y if y_sorted else np.sort(y, axis=1)
    merged = np.sort(np.concatenate([xs, ys], axis=1), axis=1, kind="stable")
    return (_pair_sums(merged) - _pair_sums(xs) - _pair_sums(ys)) / (x.shape[1] * y.shape[1])


@dataclass(frozen=True)
class Objective:
    """The mean CRPS of a combination as a function of its weights, for one window's training days."""

    method: str
    a: np.ndarray  # linear_pool: (M,) mean E|X_i - y|
    b: np.ndarray  # linear_pool: (M, M) mean E|X_i - X_j|
    q: np.ndarray | None = None  # quantile_average: (R, M, m) sorted members' values per day-step
    y: np.ndarray | None = None  # quantile_average: (R,) actuals
    spread: np.ndarray | None = None  # quantile_average: (M,) mean E|X_i - X_i'| of the sorted samples

    def __call__(self, w: np.ndarray) -> float:
        w = np.asarray(w, dtype=np.float64)
        if self.method == "linear_pool":
            return float(w @ self.a - 0.5 * w @ self.b @ w)
        z = np.einsum("rmk,m->rk", self.q, w)  # sorted, since every member's row is
        return float(np.abs(z - self.y[:, None]).mean() - 0.5 * w @ self.spread)

    def member_crps(self) -> np.ndarray:
        """(M,) each member's own mean CRPS on the same subsample."""
        eye = np.eye(len(self.a))
        return np.array([self(e) for e in eye])


def _rows(member_paths: list[np.ndarray], actual: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The members' values (R, m) and the actuals (R,) per day-step row (R = n * H, day-major)."""
    y = np.asarray(actual, dtype=np.float64).reshape(-1)
    xs = [np.ascontiguousarray(np.swapaxes(np.asarray(p, dtype=np.float64), 1, 2)).reshape(len(y), -1)
          for p in member_paths]
    return xs, y


@dataclass(frozen=True)
class PoolTerms:
    """The linear pool's objective per day: a (n, M), the mean over the day's steps of E|X_i - y|, and
    b (n, M, M) of E|X_i - X_j|. Every day has H steps, so the objective of any set of days is the mean of
    their terms: a run computes each day's once and every window that trains on the day selects it."""

    a: np.ndarray
    b: np.ndarray

    def objective(self, idx=None) -> Objective:
        a, b = (self.a, self.b) if idx is None else (self.a[idx], self.b[idx])
        return Objective("linear_pool", a.mean(axis=0), b.mean(axis=0))


TERMS_CHUNK = 128  # days a pass of pool_terms: ~20 MB of float64 per member at FIT_PATHS paths


def pool_terms(member_paths: list[np.ndarray], actual: np.ndarray) -> PoolTerms:
    """PoolTerms of the members' paths [(n, m, H)] and the actuals (n, H), TERMS_CHUNK days at a time (each
    row's values depend on that row alone, so the chunks change nothing but the memory)."""
    n, h = np.shape(actual)
    a, b = [], []
    for lo in range(0, n, TERMS_CHUNK):
        xs, y = _rows([p[lo:lo + TERMS_CHUNK] for p in member_paths], np.asarray(actual)[lo:lo + TERMS_CHUNK])
        m = len(xs)
        ra = np.stack([np.abs(x - y[:, None]).mean(axis=1) for x in xs], axis=1)  # (R, M)
        srt = [np.sort(x, axis=1) for x in xs]
        rb = np.empty((len(y), m, m))
        for i in range(m):
            rb[:, i, i] = 2.0 * _pair_sums(srt[i]) / srt[i].shape[1] ** 2  # E|X - X'| over all m^2 pairs
            for j in range(i + 1, m):
                rb[:, i, j] = rb[:, j, i] = _mean_abs_diff(srt[i], srt[j], True, True)
        k = len(y) // h
        a.append(ra.reshape(k, h, m).mean(axis=1))
        b.append(rb.reshape(k, h, m, m).mean(axis=1))
    m = len(member_paths)
    return PoolTerms(np.concatenate(a) if a else np.empty((0, m)), np.concatenate(b) if b else np.empty((0, m, m)))


def objective(member_paths: list[np.ndarray], actual: np.ndarray, method: str) -> Objective:
    """The objective of `method` from the members' paths [(n, m, H)] (same m) and the actuals (n, H)."""
    if method not in METHODS:
        raise EnsembleError(f"unknown combination {method!r}; one of {', '.join(METHODS)}")
    if method == "linear_pool":
        return pool_terms(member_paths, actual).objective()
    xs, y = _rows(member_paths, actual)
    a = np.array([np.abs(x - y[:, None]).mean() for x in xs])
    srt = [np.sort(x, axis=1) for x in xs]
    # Each member's mean E|X - X'| over all m^2 pairs: the quantile average's spread term.
    spread = np.array([(2.0 * _pair_sums(x) / x.shape[1] ** 2).mean() for x in srt])
    q = np.stack(srt, axis=1)  # (R, M, m)
    return Objective(method, a, np.zeros((len(xs), len(xs))), q, y, spread)


def fit_weights(obj: Objective) -> np.ndarray:
    """Weights on the simplex minimizing `obj` (SLSQP from equal weights; the objective is convex in both
    methods, so the optimum is global). Tiny weights (< 1e-4) are set to 0 and the rest renormalized."""
    from scipy.optimize import minimize  # here: the code location loads this module and never fits (issue 17)

    n = len(obj.a)
    w0 = np.full(n, 1.0 / n)
    res = minimize(obj, w0, method="SLSQP", bounds=[(0.0, 1.0)] * n,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
                   options={"ftol": 1e-10, "maxiter": 200})
    w = np.clip(res.x if res.success else w0, 0.0, None)
    w[w < 1e-4] = 0.0
    w = w / w.sum()
    return w if obj(w) <= obj(w0) else w0  # never worse than equal weights on the training days


def subsample(paths: np.ndarray, m: int = FIT_PATHS) -> np.ndarray:
    """The first m paths of each day (n, P, H): the paths of a day are i.i.d., so any m are a fair sample."""
    return np.asarray(paths)[:, :m, :]


# -- combination of one day's members ----------------------------------------------------------------

def pool_counts(weights, n_out: int) -> np.ndarray:
    """Paths per member in the linear pool: round(w * n_out) by largest remainder, summing to n_out."""
    raw = np.asarray(weights, dtype=np.float64) * n_out
    out = np.floor(raw).astype(int)
    rest = n_out - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def paths_needed(method: str, weights, n_out: int) -> np.ndarray:
    """(M,) how many of each member's paths of a day `method` combines: the linear pool's counts (its first
    paths), quantile averaging all n_out of every member with a weight; 0 for a member without weight, whose
    paths need not be read at all."""
    w = np.asarray(weights, dtype=np.float64)
    if method == "linear_pool":
        return pool_counts(w, n_out)
    if method == "quantile_average":
        return np.where(w > 0, n_out, 0)
    raise EnsembleError(f"unknown combination {method!r}; one of {', '.join(METHODS)}")


def linear_pool(member_paths: list[np.ndarray | None], weights, seeds: np.ndarray, n_out: int) -> np.ndarray:
    """(n, n_out, H): each day takes the first round(w_i * n_out) paths of member i, then shuffles them by the
    day's seed so path order carries no member. A day's paths are i.i.d. draws, so its first c are a sample of
    c as fair as any other, and a run reads only those (paths_needed; issue 17). A member without weight may
    be None."""
    counts = pool_counts(weights, n_out)
    for i, (p, c) in enumerate(zip(member_paths, counts)):
        if c and (p is None or p.shape[1] < c):
            raise EnsembleError(f"member {i} has {0 if p is None else p.shape[1]} paths, the pool needs {c}")
    pooled = np.concatenate([np.asarray(p[:, :c], dtype=np.float32)
                             for p, c in zip(member_paths, counts) if c], axis=1)
    n, h = pooled.shape[0], pooled.shape[2]
    order = [np.random.Generator(np.random.PCG64(int(s))).permutation(n_out) + d * n_out for d, s in enumerate(seeds)]
    # One gather of whole rows (a path's H values are contiguous): 4x faster than take_along_axis's per value.
    rows = np.concatenate(order) if n else np.empty(0, dtype=np.int64)
    return np.take(pooled.reshape(-1, h), rows, axis=0).reshape(n, n_out, h)


def quantile_average(member_paths: list[np.ndarray | None], weights) -> np.ndarray:
    """(n, P, H): per day and step, the weighted mean of the members' sorted values (every member with a weight
    the same P; one without may be None),
    placed on the paths by the ranks of the highest-weight member's values at that step (ensemble copula
    coupling): path p of the result has the rank, at every step, of that member's path p."""
    w = np.asarray(weights, dtype=np.float64)
    sizes = {p.shape[1] for p, wi in zip(member_paths, w) if wi}
    if len(sizes) != 1:
        raise EnsembleError(f"quantile averaging needs the same number of paths from every member, got {sorted(sizes)}")
    q = sum(wi * np.sort(np.asarray(p, dtype=np.float64), axis=1) for wi, p in zip(w, member_paths) if wi)
    top = np.asarray(member_paths[int(np.argmax(w))])
    ranks = np.argsort(np.argsort(top, axis=1, kind="stable"), axis=1, kind="stable")
    return np.take_along_axis(q, ranks, axis=1).astype(np.float32)


def combine(method: str, member_paths: list[np.ndarray | None], weights, seeds: np.ndarray, n_out: int) -> np.ndarray:
    if method == "linear_pool":
        return linear_pool(member_paths, weights, seeds, n_out)
    if method == "quantile_average":
        return quantile_average([None if p is None else p[:, :n_out] for p in member_paths], weights)
    raise EnsembleError(f"unknown combination {method!r}; one of {', '.join(METHODS)}")


# -- the weights as JSON (a trained_models row, like every fitted model) --------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "format_version", "model_name", "commodity", "window_start", "method", "members",
                 "weights", "equal_weights", "reason", "training_days", "training_start_date",
                 "training_cutoff_date", "n_train_rows", "fit_paths", "train_crps"],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"const": FORMAT_VERSION},
        "model_name": {"const": NAME},
        "commodity": {"type": "string"},
        "window_start": {"type": "string", "format": "date"},
        "method": {"enum": list(METHODS)},
        "members": {"type": "array", "items": {"enum": sorted(REGISTRY)}, "minItems": 1, "uniqueItems": True},
        "weights": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
        "equal_weights": {"type": "boolean"},
        "reason": {"type": ["string", "null"]},
        "training_days": {"type": "array", "items": {"type": "string", "format": "date"}},
        "training_start_date": {"type": "string", "format": "date"},
        "training_cutoff_date": {"type": "string", "format": "date"},
        "n_train_rows": {"type": "integer", "minimum": 0},
        "fit_paths": {"type": "integer", "minimum": 1},
        "train_crps": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
    },
}


@cache
def _validator():
    import jsonschema  # here, not at import: the code location loads this module (issue 17)

    return jsonschema, jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


@dataclass(frozen=True)
class Weights:
    doc: dict
    text: str

    @property
    def members(self) -> list[str]:
        return list(self.doc["members"])

    @property
    def vector(self) -> np.ndarray:
        return np.array([self.doc["weights"][m] for m in self.members])

    @property
    def method(self) -> str:
        return self.doc["method"]

    @property
    def training_cutoff_date(self) -> date:
        return date.fromisoformat(self.doc["training_cutoff_date"])

    @property
    def training_start_date(self) -> date:
        return date.fromisoformat(self.doc["training_start_date"])

    @property
    def fingerprint(self) -> str:
        return fitted.fingerprint(self.text)  # the same identity as every trained model

    @classmethod
    def from_json(cls, text: str) -> "Weights":
        return cls(loads(text), text)


def loads(text: str) -> dict:
    """Parse and check stored weights: the schema, then that they are the members' and sum to 1."""
    try:
        doc = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(EnsembleError(f"weights hold {c}")))
    except json.JSONDecodeError as exc:
        raise EnsembleError(f"ensemble weights are not valid JSON: {exc}") from exc
    jsonschema, validator = _validator()
    err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise EnsembleError(f"ensemble weights fail their schema at {where}: {err.message}")
    if set(doc["weights"]) != set(doc["members"]):
        raise EnsembleError(f"ensemble weights name {sorted(doc['weights'])}, its members are {doc['members']}")
    if abs(sum(doc["weights"].values()) - 1.0) > 1e-6:
        raise EnsembleError(f"ensemble weights sum to {sum(doc['weights'].values())}, not 1")
    return doc


def learn(commodity: str, window: date, members: list[str], days, member_paths: list[np.ndarray] | None,
          actual: np.ndarray | None, method: str = DEFAULT_METHOD, fit_paths: int = FIT_PATHS) -> Weights:
    """The weights of `window` from the training days `days` (already filtered: trainable and every member
    scored), the members' paths on them [(n, P, H)] and their actuals (n, H)."""
    obj = None
    if len(days) >= MIN_TRAINING_DAYS:
        if not np.isfinite(actual).all():
            raise EnsembleError("training actuals must all be known")
        obj = objective([subsample(p, fit_paths) for p in member_paths], actual, method)
    return _learned(commodity, window, members, days, obj, method, fit_paths)


def _learned(commodity: str, window: date, members: list[str], days, obj: Objective | None, method: str,
             fit_paths: int) -> Weights:
    """The weights JSON of `window`: fitted to `obj` of the days, or equal weights without enough days."""
    if method not in METHODS:
        raise EnsembleError(f"unknown combination {method!r}; one of {', '.join(METHODS)}")
    days = [date.fromisoformat(str(d)[:10]) for d in days]
    if any(not trainable([d], [d], window)[0] for d in days):  # cheap guard: no day of the window or after
        raise EnsembleError(f"training days of window {window} must be in {training_range(window)}")
    n = len(days)
    first, last = training_range(window)
    train_crps: dict[str, float | None] = {m: None for m in [*members, NAME]}
    if n < MIN_TRAINING_DAYS:
        w = np.full(len(members), 1.0 / len(members))
        reason = f"not enough history ({n} days, {MIN_TRAINING_DAYS} needed)"
    else:
        w = fit_weights(obj)
        reason = None
        train_crps = {**{m: round(float(c), 10) for m, c in zip(members, obj.member_crps())},
                      NAME: round(obj(w), 10)}
    doc = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "model_name": NAME, "commodity": commodity,
        "window_start": str(_window_start(window)), "method": method, "members": list(members),
        "weights": {m: round(float(x), 12) for m, x in zip(members, w)}, "equal_weights": reason is not None,
        "reason": reason, "training_days": [str(d) for d in sorted(days)],
        # The data the weights saw: the actuals of the training days, all before the window.
        "training_start_date": str(min(days) if days else first),
        "training_cutoff_date": str(last), "n_train_rows": n, "fit_paths": int(fit_paths),
        "train_crps": train_crps,
    }
    total = sum(doc["weights"].values())
    doc["weights"] = {m: x / total for m, x in doc["weights"].items()}
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    return Weights(loads(text), text)


def _kept(days, last_steps, window: date) -> tuple[np.ndarray, list[date]]:
    idx = np.flatnonzero(trainable(days, last_steps, window))
    return idx, np.asarray(days, dtype="datetime64[D]")[idx].tolist()


def kept_days(days, last_steps, window: date) -> list[date]:
    """The days (n,) that may train `window`, given their last steps (n,)."""
    return _kept(days, last_steps, window)[1]


def learn_from(commodity: str, window: date, members: list[str], days, last_steps, member_paths: list[np.ndarray],
               actual: np.ndarray, method: str = DEFAULT_METHOD, fit_paths: int = FIT_PATHS) -> Weights:
    """learn() on the days (n,) that may train `window` (trainable: before it, with every step's actual before
    its start) of whatever days are given, with their members' paths [(n, P, H)] and actuals (n, H). The rest
    of the rows, whatever they hold, are never read: the leakage property checks exactly that."""
    idx, kept = _kept(days, last_steps, window)
    if len(idx) < MIN_TRAINING_DAYS:
        return learn(commodity, window, members, kept, None, None, method, fit_paths)
    return learn(commodity, window, members, kept, [np.asarray(p)[idx] for p in member_paths],
                 np.asarray(actual)[idx], method, fit_paths)


def learn_from_terms(commodity: str, window: date, members: list[str], days, last_steps, terms: PoolTerms,
                     actual: np.ndarray, fit_paths: int = FIT_PATHS) -> Weights:
    """learn_from() for the linear pool, from the days' PoolTerms (of their first fit_paths paths) instead of
    their paths: the same days kept and the same weights, bit for bit (a day's terms do not depend on the
    other days), without computing a day's terms again for each window that trains on it. As in
    learn_from, the terms and actuals of the days not kept are never read (the leakage property covers both)."""
    idx, kept = _kept(days, last_steps, window)
    if len(idx) < MIN_TRAINING_DAYS:
        return _learned(commodity, window, members, kept, None, "linear_pool", fit_paths)
    if not np.isfinite(np.asarray(actual)[idx]).all():
        raise EnsembleError("training actuals must all be known")
    return _learned(commodity, window, members, kept, terms.objective(idx), "linear_pool", fit_paths)
