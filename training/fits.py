"""Statistical fits with scipy and numpy only (no JAX): scaling law, compute-equivalent
gains, returns to research, and bootstrap intervals.

Losses are in nats per byte; N in non-embedding parameters; D in training tokens (bytes);
compute in training FLOP (C = 6 N D) or in steps, which is the same up to a constant when
the model and batch are fixed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

# Interval reported everywhere: central 95% of the bootstrap distribution.
INTERVAL_PERCENTILES = (2.5, 97.5)
# Huber threshold on log-loss residuals, from Hoffmann et al. 2022 / Besiroglu et al. 2024.
HUBER_DELTA = 1e-3
# Starting grid in (alpha, beta, e=log E, a=log A, b=log B), as in Besiroglu et al. 2024
# (alpha, beta in 0..2, e in -1..1, a, b in 0..25). The objective is evaluated on the whole
# grid at once; L-BFGS runs from the best START_COUNT grid points (running it from all 4500
# takes minutes and, on our data, lands on the same optimum).
START_GRID = {
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
}
START_COUNT = 16
BOOTSTRAP_START_COUNT = 4  # plus the full-data optimum
# Bounds keep L-BFGS away from overflow; the exponents stay non-negative.
_BOUNDS = [(0.0, 5.0), (0.0, 5.0), (-5.0, 3.0), (-10.0, 60.0), (-10.0, 60.0)]
_BOUND_TOLERANCE = 1e-6


def interval(samples: np.ndarray) -> tuple[float, float]:
    """(low, high) percentile interval of finite bootstrap samples (NaN when none)."""
    samples = np.asarray(samples, dtype=float)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(samples, INTERVAL_PERCENTILES)
    return float(low), float(high)


def estimate(value: float, samples: np.ndarray) -> dict:
    """{value, low, high} from a point estimate and its bootstrap samples."""
    low, high = interval(samples)
    return {"value": float(value), "low": low, "high": high}


# --- Experiment A: L(N, D) = E + A / N^alpha + B / D^beta ---------------------------------


@dataclass(frozen=True)
class ScalingFit:
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    objective: float
    at_bounds: tuple[str, ...] = ()  # parameters the optimiser left on a bound (unidentified)

    @property
    def allocation_a(self) -> float:
        """Exponent of N_opt ~ C^a under C = 6 N D: a = beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def allocation_b(self) -> float:
        """Exponent of D_opt ~ C^b: b = alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    def predict(self, n: np.ndarray, d: np.ndarray) -> np.ndarray:
        return self.E + self.A / np.asarray(n, float) ** self.alpha + self.B / np.asarray(d, float) ** self.beta


def _huber_objective(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray):
    """Sum of Huber losses of log-loss residuals and its gradient in theta."""
    alpha, beta, e, a, b = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    log_pred = logsumexp(terms, axis=0)
    r = log_pred - log_l
    weights = np.exp(terms - log_pred)  # d log_pred / d (each term)
    dr = np.clip(r, -HUBER_DELTA, HUBER_DELTA)  # derivative of huber(delta, r)
    grad = np.array([
        np.sum(dr * weights[0] * -log_n),
        np.sum(dr * weights[1] * -log_d),
        np.sum(dr * weights[2]),
        np.sum(dr * weights[0]),
        np.sum(dr * weights[1]),
    ])
    return float(np.sum(huber(HUBER_DELTA, r))), grad


def _grid() -> np.ndarray:
    return np.array(list(itertools.product(*(START_GRID[k] for k in ("alpha", "beta", "e", "a", "b")))))


def _best_starts(grid: np.ndarray, log_n, log_d, log_l, count: int) -> np.ndarray:
    """The ``count`` grid points with the lowest objective (vectorised over the grid)."""
    alpha, beta, e, a, b = (grid[:, i : i + 1] for i in range(5))
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.broadcast_to(e, (grid.shape[0], log_n.size))])
    objective = huber(HUBER_DELTA, logsumexp(terms, axis=0) - log_l).sum(axis=1)
    return grid[np.argsort(objective, kind="stable")[:count]]


def _fit_from(starts, log_n, log_d, log_l) -> ScalingFit:
    best = None
    for start in starts:
        res = minimize(_huber_objective, np.asarray(start, float), args=(log_n, log_d, log_l),
                       jac=True, method="L-BFGS-B", bounds=_BOUNDS)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    alpha, beta, e, a, b = best.x
    names = ("alpha", "beta", "E", "A", "B")
    at_bounds = tuple(name for name, x, (lo, hi) in zip(names, best.x, _BOUNDS)
                      if min(abs(x - lo), abs(x - hi)) < _BOUND_TOLERANCE)
    return ScalingFit(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)),
                      alpha=float(alpha), beta=float(beta), objective=float(best.fun), at_bounds=at_bounds)


def _logs(n, d, loss):
    return tuple(np.log(np.asarray(x, float)) for x in (n, d, loss))


def fit_scaling_law(n, d, loss) -> ScalingFit:
    """Huber fit on log L, L-BFGS-B from the best starts of START_GRID (Besiroglu et al. 2024)."""
    log_n, log_d, log_l = _logs(n, d, loss)
    return _fit_from(_best_starts(_grid(), log_n, log_d, log_l, START_COUNT), log_n, log_d, log_l)


def bootstrap_scaling_law(n, d, loss, fit: ScalingFit, n_boot: int, rng: np.random.Generator
                          ) -> dict[str, np.ndarray]:
    """Refit on points resampled with replacement, from the full-data optimum and the best
    grid starts for the resample. Returns samples of E, A, B, alpha, beta, a, b."""
    log_n, log_d, log_l = _logs(n, d, loss)
    base = np.array([fit.alpha, fit.beta, np.log(fit.E), np.log(fit.A), np.log(fit.B)])
    grid = _grid()
    out: dict[str, list[float]] = {k: [] for k in ("E", "A", "B", "alpha", "beta", "a", "b")}
    for _ in range(n_boot):
        idx = rng.integers(0, log_n.size, log_n.size)
        sample = log_n[idx], log_d[idx], log_l[idx]
        starts = [base, *_best_starts(grid, *sample, BOOTSTRAP_START_COUNT)]
        f = _fit_from(starts, *sample)
        for key, value in (("E", f.E), ("A", f.A), ("B", f.B), ("alpha", f.alpha), ("beta", f.beta)):
            out[key].append(value)
        total = f.alpha + f.beta
        out["a"].append(f.beta / total if total > 0 else np.nan)
        out["b"].append(f.alpha / total if total > 0 else np.nan)
    return {k: np.asarray(v) for k, v in out.items()}


# --- Experiments B and C: compute-equivalent gain -----------------------------------------


@dataclass(frozen=True)
class Gain:
    """How many times more compute the reference curve needs to reach ``target`` loss than
    ``ref_compute``. ``extrapolated`` is "" when interpolated inside the measured curve,
    "above" / "below" when extrapolated past its end / before its start."""

    gain: float
    extrapolated: str


def _end_slope(log_c: np.ndarray, log_l: np.ndarray) -> float:
    """Least-squares slope d log L / d log C over (up to) three points."""
    if log_c.size < 2:
        return 0.0
    return float(np.polyfit(log_c, log_l, 1)[0])


def compute_to_reach(compute: np.ndarray, loss: np.ndarray, target: float) -> tuple[float, str]:
    """Compute at which a loss-vs-compute curve first reaches ``target``.

    The curve is made monotone with a running minimum (the best loss reached with at most
    that compute), then interpolated linearly in (log C, log L). Outside the measured range
    a power law fitted to the three end points extrapolates; a curve that has stopped
    falling gives +inf.
    """
    log_c = np.log(np.asarray(compute, float))
    log_l = np.log(np.minimum.accumulate(np.asarray(loss, float)))
    t = np.log(target) if target > 0 and np.isfinite(target) else np.inf
    if t == np.inf:  # diverged run (NaN/inf loss): no compute is too little for that loss
        return float(np.exp(log_c[0])), "below"
    if t > log_l[0]:
        slope = _end_slope(log_c[:3], log_l[:3])
        if slope >= 0:
            return float(np.exp(log_c[0])), "below"
        return float(np.exp(log_c[0] + (t - log_l[0]) / slope)), "below"
    if t < log_l[-1]:
        slope = _end_slope(log_c[-3:], log_l[-3:])
        if slope >= 0:
            return float("inf"), "above"
        return float(np.exp(log_c[-1] + (t - log_l[-1]) / slope)), "above"
    i = int(np.argmax(log_l <= t))  # first point at or below the target
    if i == 0 or log_l[i] == log_l[i - 1]:
        return float(np.exp(log_c[i])), ""
    frac = (t - log_l[i - 1]) / (log_l[i] - log_l[i - 1])
    return float(np.exp(log_c[i - 1] + frac * (log_c[i] - log_c[i - 1]))), ""


def compute_equivalent_gain(ref_compute, ref_loss_by_seed, target_loss_by_seed, at_compute
                            ) -> Gain:
    """Gain of a recipe trained with ``at_compute`` over the reference (old) recipe.

    ref_loss_by_seed: [seeds, points] loss of the old recipe at ``ref_compute``;
    target_loss_by_seed: [seeds] final loss of the improved recipe. Seed means are used.
    """
    curve = np.mean(np.asarray(ref_loss_by_seed, float), axis=0)
    target = float(np.mean(np.asarray(target_loss_by_seed, float)))
    c, where = compute_to_reach(np.asarray(ref_compute, float), curve, target)
    return Gain(gain=c / float(at_compute), extrapolated=where)


def bootstrap_gain(ref_compute, ref_loss_by_seed, target_loss_by_seed, at_compute, n_boot: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Gains with the old recipe's seeds and the improved recipe's seeds resampled."""
    ref = np.asarray(ref_loss_by_seed, float)
    tgt = np.asarray(target_loss_by_seed, float)
    out = np.empty(n_boot)
    for k in range(n_boot):
        r = ref[rng.integers(0, ref.shape[0], ref.shape[0])]
        t = tgt[rng.integers(0, tgt.size, tgt.size)]
        out[k] = compute_equivalent_gain(ref_compute, r, t, at_compute).gain
    return out


# --- Experiment C: returns to research --------------------------------------------------


def returns_slope(research_compute, efficiency) -> float:
    """r: ordinary least-squares slope of log2(efficiency) on log2(cumulative research
    compute), i.e. doublings of efficiency per doubling of research input."""
    x = np.log2(np.asarray(research_compute, float))
    y = np.log2(np.asarray(efficiency, float))
    if np.unique(x).size < 2 or not np.all(np.isfinite(y)):
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def bootstrap_returns(research_compute, efficiency_samples: Callable[[np.random.Generator], np.ndarray],
                      n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap r: each replicate draws efficiencies (``efficiency_samples(rng)`` resamples
    training seeds) and resamples the (compute, efficiency) points with replacement."""
    x = np.asarray(research_compute, float)
    out = np.full(n_boot, np.nan)
    for k in range(n_boot):
        eff = efficiency_samples(rng)
        idx = rng.integers(0, x.size, x.size)
        out[k] = returns_slope(x[idx], eff[idx])
    return out
