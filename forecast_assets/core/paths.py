"""Path simulation helpers shared by the models, and the summary of paths into points.

Randomness is drawn per forecast day from a seed derived from (seed, commodity,
model, version, day), so a day's paths are the same whichever batch computed
it: one run for a whole range, or one run per day. Within a day every draw is
one vectorized call; the loop over days is short (one iteration per day).
"""

from __future__ import annotations

import hashlib

import numpy as np


def day_seeds(base_seed: int, commodity: str, model_name: str, model_version: str, days) -> np.ndarray:
    """A stable 64-bit seed per forecast day (no Python hash(): it changes per process)."""
    prefix = f"{base_seed}|{commodity}|{model_name}|{model_version}|".encode()
    days = np.asarray(days, dtype="datetime64[D]")
    out = np.empty(len(days), dtype=np.uint64)
    for i, d in enumerate(days.astype(str)):
        out[i] = int.from_bytes(hashlib.blake2b(prefix + d.encode(), digest_size=8).digest(), "little")
    return out


def _rng(seed) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(int(seed)))


def standard_normals(seeds: np.ndarray, n_paths: int, k: int, dtype=np.float64) -> np.ndarray:
    """(n_days, n_paths, k) standard normals, one generator per day."""
    out = np.empty((len(seeds), n_paths, k), dtype=dtype)
    for i, s in enumerate(seeds):
        _rng(s).standard_normal((n_paths, k), dtype=dtype, out=out[i])
    return out


def bootstrap_indices(seeds: np.ndarray, n_paths: int, k: int, pool_size: int) -> np.ndarray:
    """(n_days, n_paths, k) integer draws in [0, pool_size), one generator per day."""
    if pool_size < 1:
        raise ValueError("cannot bootstrap from an empty pool")
    out = np.empty((len(seeds), n_paths, k), dtype=np.int64)
    for i, s in enumerate(seeds):
        out[i] = _rng(s).integers(0, pool_size, size=(n_paths, k))
    return out


def take_steps(paths: np.ndarray, gaps: np.ndarray, horizon: int) -> np.ndarray:
    """From (n_days, n_paths, gap_max + horizon) simulated steps, keep steps gap+1..gap+horizon per day."""
    gaps = np.asarray(gaps, dtype=np.int64)
    if not gaps.any():
        return paths[:, :, :horizon]
    idx = gaps[:, None] + np.arange(horizon)[None, :]
    return np.take_along_axis(paths, idx[:, None, :], axis=2)


def summarize(paths: np.ndarray) -> dict[str, np.ndarray]:
    """Point forecasts from paths (n_days, n_paths, horizon): mean, std, 2.5% and 97.5% quantiles.

    Taken from the paths themselves, so the points and the distribution can never disagree.
    """
    p = np.asarray(paths, dtype=np.float64)
    q = np.quantile(p, [0.025, 0.975], axis=1)
    return {
        "forecast_mean": p.mean(axis=1),
        "forecast_std": p.std(axis=1, ddof=1),
        "lower_95": q[0],
        "upper_95": q[1],
    }
