"""`make quality-oracle`: how often a perfectly calibrated forecaster fails `make quality`'s coverage targets.

    python bench/quality_oracle.py [--reps 200] [--days 252,419] [--paths 20000] [--seed 0]

Prices are simulated from a GJR-GARCH(1,1) with Student-t shocks fitted (arch) to the real daily
WTI log returns shipped with arch (arch.data.wti, 1986-2019), and every day is forecast with the
TRUE predictive distribution of the cumulative return at steps 1, 7 and 14 given the true
parameters and the true state. It prints, per stretch length (252 and 419 forecast days: WTI's
crash 2008-09 and collapse 2014-16 regimes in bench/quality_real.py), the share of replications in
which this forecaster's coverage misses the literal target (cov95 in [0.92, 0.975], cov80 in
[0.75, 0.85]) at each step, the share in which at least one of a line's six figures misses (a
FAIL line in `make quality`), and the share that bench/quality_real.py's second verdict would
still call FAIL rather than 'FAIL (within noise)' (its 90% intervals, bench/coverage_noise.py).

The true predictive distribution depends on the day only through next day's variance sigma2[t+1]
(the mean is constant), so it is computed once on a grid of 80 volatilities (20,000 paths each, the
same shocks for every grid point so the quantiles are smooth in the volatility) and interpolated
in log volatility: the same distribution as 2,000 paths per day with less Monte Carlo noise, in
seconds instead of the minutes 2,000 paths for each of ~130,000 forecast days would take.
A benchmark, not a test: exit code 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coverage_noise import coverage_interval  # noqa: E402
from quality_real import COV80, COV95, judge_line, judge_noise  # noqa: E402

STEPS = (1, 7, 14)
BANDS = {"cov95": (0.025, 0.975, COV95, 0.95), "cov80": (0.10, 0.90, COV80, 0.80)}


@dataclass(frozen=True)
class GJR:
    """r_t = mu + e_t, e_t = sigma_t z_t, sigma2_t = omega + (alpha + gamma [e_{t-1} < 0]) e_{t-1}^2 + beta sigma2_{t-1}.

    z_t: Student's t with nu degrees of freedom scaled to unit variance. Returns in percent.
    """
    mu: float
    omega: float
    alpha: float
    gamma: float
    beta: float
    nu: float

    def shocks(self, rng, shape) -> np.ndarray:
        return rng.standard_t(self.nu, shape) * np.sqrt((self.nu - 2) / self.nu)

    def next_var(self, e: np.ndarray, s2: np.ndarray) -> np.ndarray:
        return self.omega + (self.alpha + self.gamma * (e < 0)) * e * e + self.beta * s2

    def long_run_var(self) -> float:
        return self.omega / (1 - self.alpha - self.gamma / 2 - self.beta)


def fit_wti() -> GJR:
    """GJR-GARCH(1,1)-t of WTI's daily log returns (percent), holidays (no close) dropped."""
    from arch import arch_model
    from arch.data import wti

    close = wti.load()["DCOILWTICO"].dropna()
    close = close[close > 0]
    r = 100 * np.diff(np.log(close.to_numpy()))
    p = arch_model(r, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t").fit(disp="off").params
    return GJR(p["mu"], p["omega"], p["alpha[1]"], p["gamma[1]"], p["beta[1]"], p["nu"])


def simulate(m: GJR, n: int, reps: int, rng, burn: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """`reps` independent stretches: returns r (reps, n + H) and sigma2 (reps, n + H), after `burn` days.

    sigma2[:, t] is the variance of r[:, t], known the day before: a forecast made at the close of
    day t-1 knows sigma2[:, t].
    """
    total = burn + n + max(STEPS)
    z = m.shocks(rng, (reps, total))
    r = np.empty((reps, total))
    s2 = np.empty((reps, total))
    v = np.full(reps, m.long_run_var())
    for t in range(total):
        s2[:, t] = v
        e = np.sqrt(v) * z[:, t]
        r[:, t] = m.mu + e
        v = m.next_var(e, v)
    return r[:, burn:], s2[:, burn:]


def predictive_quantiles(m: GJR, sigma: np.ndarray, probs, paths: int, rng) -> np.ndarray:
    """Quantiles (len(sigma), len(STEPS), len(probs)) of the cumulative return at STEPS given the next day's volatility."""
    z = m.shocks(rng, (paths, max(STEPS)))  # the same shocks for every grid point
    v = np.repeat((sigma**2)[:, None], paths, axis=1)
    cum = np.zeros_like(v)
    out = np.empty((len(sigma), len(STEPS), len(probs)))
    for k in range(1, max(STEPS) + 1):
        e = np.sqrt(v) * z[None, :, k - 1]
        cum += m.mu + e
        v = m.next_var(e, v)
        if k in STEPS:
            out[:, STEPS.index(k), :] = np.quantile(cum, probs, axis=1).T
    return out


def hits(m: GJR, n: int, reps: int, paths: int, rng, grid: int = 80) -> dict[str, np.ndarray]:
    """Per band, hits (reps, n, len(STEPS)) of the true predictive band for each of n consecutive forecast days."""
    r, s2 = simulate(m, n, reps, rng)
    sig = np.sqrt(s2[:, :n])  # forecast day i (made the close before return i) knows sigma of return i
    g = np.geomspace(sig.min() * 0.99, sig.max() * 1.01, grid)
    probs = [p for lo, hi, _, _ in BANDS.values() for p in (lo, hi)]
    q = predictive_quantiles(m, g, probs, paths, rng)
    csum = np.concatenate([np.zeros((reps, 1)), np.cumsum(r, axis=1)], axis=1)
    out = {}
    for b, name in enumerate(BANDS):
        h = np.empty((reps, n, len(STEPS)), dtype=bool)
        for j, k in enumerate(STEPS):
            move = csum[:, k:k + n] - csum[:, :n]  # returns i .. i+k-1
            lo = np.interp(np.log(sig), np.log(g), q[:, j, 2 * b])
            hi = np.interp(np.log(sig), np.log(g), q[:, j, 2 * b + 1])
            h[:, :, j] = (move >= lo) & (move <= hi)
        out[name] = h
    return out


def judge(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per replication: coverage (reps, steps) per band, the literal line verdict and the noise verdict."""
    reps = next(iter(h.values())).shape[0]
    cov = {b: x.mean(axis=1) for b, x in h.items()}
    held = {b: np.zeros((reps, len(STEPS)), dtype=bool) for b in h}
    literal = np.zeros(reps, dtype=bool)
    real = np.zeros(reps, dtype=bool)
    for i in range(reps):
        c, iv = {}, {}
        for b in h:
            c[b] = {k: float(cov[b][i, j]) for j, k in enumerate(STEPS)}
            iv[b] = {k: coverage_interval(h[b][i, :, j], k, seed=i) for j, k in enumerate(STEPS)}
            held[b][i] = [iv[b][k][0] <= BANDS[b][3] <= iv[b][k][1] for k in STEPS]
        literal[i] = bool(judge_line(c["cov95"], c["cov80"], None))
        real[i] = judge_noise(c["cov95"], c["cov80"], iv["cov95"], iv["cov80"], None) == "FAIL"
    return {"cov": cov, "held": held, "fails": literal, "real": real}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=200, help="replications per stretch length")
    ap.add_argument("--days", default="252,419", help="stretch lengths in forecast days, comma-separated")
    ap.add_argument("--paths", type=int, default=20000, help="paths per volatility grid point")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    m = fit_wti()
    rng = np.random.default_rng(a.seed)
    print(f"quality oracle: GJR-GARCH(1,1)-t fitted to WTI daily log returns 1986-2019 (percent): mu {m.mu:.3f}, "
          f"omega {m.omega:.4f}, alpha {m.alpha:.3f}, gamma {m.gamma:.3f}, beta {m.beta:.3f}, nu {m.nu:.1f}\n"
          f"every day forecast with the true predictive distribution; {a.reps} replications per length; "
          f"targets cov95 in [{COV95[0]}, {COV95[1]}], cov80 in [{COV80[0]}, {COV80[1]}]")
    for n in map(int, a.days.split(",")):
        j = judge(hits(m, n, a.reps, a.paths, rng))
        print(f"\n{n} forecast days per stretch ({n / max(STEPS):.0f} independent {max(STEPS)}-day windows)")
        print(f"  {'figure':8s} {'':34s} " + "  ".join(f"{'@' + str(k):>5s}" for k in STEPS))
        for b, (_, _, (lo, hi), nominal) in BANDS.items():
            c = j["cov"][b]
            miss = ((c < lo) | (c > hi)).mean(axis=0)
            print(f"  {b:8s} {'mean coverage':34s} " + "  ".join(f"{v:5.3f}" for v in c.mean(axis=0)))
            print(f"  {'':8s} {'misses its target':34s} " + "  ".join(f"{v:5.3f}" for v in miss))
            print(f"  {'':8s} {'90% interval holds ' + f'{nominal:.2f}':34s} "
                  + "  ".join(f"{v:5.3f}" for v in j["held"][b].mean(axis=0)))
        print(f"  a line fails (at least one of the six figures misses):  {j['fails'].mean():5.3f}")
        print(f"  ... and make quality's noise verdict still says FAIL:    {j['real'].mean():5.3f}")
    print(f"\nquality oracle: {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
