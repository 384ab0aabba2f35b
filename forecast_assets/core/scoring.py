"""Scores of probabilistic forecasts once the prices are known, per forecast and step.

CRPS and interval scores come from scoringrules (a maintained library) rather
than hand-written formulas: the system this replaces got CRPS wrong by ~2x.
Coverage, sharpness and direction are counts and widths, written out here.

Direction is measured from day 0, the last known close at the cutoff: a hit
when the point forecast and the realized price move the same way from it.
"""

from __future__ import annotations

import numpy as np
import scoringrules as sr

def score(paths: np.ndarray, actual: np.ndarray, close0: np.ndarray, mean: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Scores of n forecasts at each of H steps.

    paths (n, P, H) simulated prices; actual (n, H) realized closes, NaN where not
    known yet (their scores are NaN); close0 (n,) the close at the cutoff; mean
    (n, H) the point forecast (defaults to the path mean).
    """
    p = np.asarray(paths, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    known = np.isfinite(y)
    y0 = np.where(known, y, 0.0)  # placeholder where unknown; masked below
    m = p.mean(axis=1) if mean is None else np.asarray(mean, dtype=np.float64)
    q = np.quantile(p, [0.025, 0.10, 0.90, 0.975], axis=1)  # (4, n, H)
    lo95, lo80, hi80, hi95 = q
    err = m - y0
    c0 = np.asarray(close0, dtype=np.float64)[:, None]
    out = {
        "error": err,
        "abs_error": np.abs(err),
        "sq_error": err**2,
        "ape": np.abs(err) / np.abs(y0 + (~known)),
        # scoringrules squeezes its results; reshape so a single forecast keeps its (1, H) shape.
        "crps": np.reshape(sr.crps_ensemble(y0, p, m_axis=1), y0.shape),
        "in_80": ((y0 >= lo80) & (y0 <= hi80)).astype(np.float64),
        "in_95": ((y0 >= lo95) & (y0 <= hi95)).astype(np.float64),
        "width_80": hi80 - lo80,
        "width_95": hi95 - lo95,
        "interval_score_80": np.reshape(sr.interval_score(y0, lo80, hi80, 0.2), y0.shape),
        "interval_score_95": np.reshape(sr.interval_score(y0, lo95, hi95, 0.05), y0.shape),
        "direction_hit": (np.sign(m - c0) == np.sign(y0 - c0)).astype(np.float64),
        "pit": (p < y0[:, None, :]).mean(axis=1),
    }
    for k, v in out.items():
        if not k.startswith("width"):  # widths are known before the prices are
            v[~known] = np.nan
    return out
