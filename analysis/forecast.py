"""The forecast's statistics: history-matching weights from each draw's fit to the dated
observations, the effective sample size, P(successor training by each year) with Monte Carlo
intervals, and weighted quantiles of censored dates. Pure functions of arrays (no I/O).

Weights: a draw's weight is its likelihood of the 2023-25 observations (the counted backtest
rows, normal in ln value with each row's interval), relative to the best draw, and zero for a
draw that history matching rules out (a row beyond ``IMPLAUSIBLE_Z`` = 4 standard deviations:
looser than the backtest's 3, because the baseline itself is 3.3 sigma off on o3 and a cut that
removes the calibration's own neighbourhood would leave nothing). So
draws that contradict the data count less or not at all; with every weight equal the forecast is
the plain prior Monte Carlo. A censored draw (no successor training by the run's end) counts as
"later" in every probability and quantile, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IMPLAUSIBLE_Z = 4.0  # history matching: a draw with a counted row beyond 4 sigma is ruled out
Z95 = 1.959964  # two-sided 95% normal quantile


def observation_fit(result) -> tuple[float, float]:
    """(log-likelihood, largest |z|) of one run against the counted observation rows dated up
    to the METR data cutoff (the backtest's rows and rule, ``analysis/observations.py``); NaN
    when a row has no model value. Computed on a worker beside the run's summary."""
    from ixsim.analysis import observations as obs
    from ixsim.analysis.backtest import data_cutoff_year
    from ixsim.sim.sources import observations

    start = result.meta["start_year"]
    until = min(data_cutoff_year(), float(result.world["time"][-1]))
    rows = obs.compare(result, obs.targets(observations(), start, until))
    score = obs.score(rows)
    if score.loglik is None:
        return math.nan, math.nan
    return float(score.loglik), float(score.max_abs_z)


# The METR rows scatter more than their intervals allow: chi2/dof = 1.49 at the best fit (Birge
# ratio 1.22, ``python -m ixsim.analysis.horizon_fit``; a test keeps the two in step). The
# likelihood is tempered by it (each row's interval widened by the Birge ratio), so that a draw
# is not ruled out by misfits the best calibration itself shows.
TEMPERATURE = 1.49


def history_weights(loglik: np.ndarray, max_abs_z: np.ndarray,
                    temperature: float = TEMPERATURE) -> np.ndarray:
    """Normalised weights (sum 1) of draws from their observation log-likelihoods, tempered by
    ``temperature``; draws with a row beyond ``IMPLAUSIBLE_Z`` or no log-likelihood (NaN) get
    0. All zero if none survives."""
    loglik = np.asarray(loglik, dtype=float)
    keep = np.isfinite(loglik) & (np.asarray(max_abs_z, dtype=float) <= IMPLAUSIBLE_Z)
    weights = np.zeros_like(loglik)
    if keep.any():
        weights[keep] = np.exp((loglik[keep] - loglik[keep].max()) / temperature)
        weights /= weights.sum()
    return weights


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 (0 when every weight is 0)."""
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    return float(total * total / np.square(weights).sum()) if total > 0 else 0.0


@dataclass(frozen=True)
class Probability:
    """A weighted probability with its Monte Carlo 95% interval (normal approximation on the
    effective sample size, clipped to 0..1)."""

    p: float
    low: float
    high: float


def weighted_probability(hit: np.ndarray, weights: np.ndarray) -> Probability:
    """P(hit) under ``weights`` and its Monte Carlo interval."""
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        return Probability(math.nan, math.nan, math.nan)
    p = float(np.dot(np.asarray(hit, dtype=float), weights) / weights.sum())
    n = effective_sample_size(weights)
    half = Z95 * math.sqrt(max(p * (1.0 - p), 0.0) / n) if n > 0 else math.nan
    return Probability(p, max(0.0, p - half), min(1.0, p + half))


def p_by_year(dates: np.ndarray, weights: np.ndarray,
              years: Sequence[int]) -> dict[int, Probability]:
    """P(the date falls by the end of each year) (``dates`` NaN = censored: never by then)."""
    dates = np.asarray(dates, dtype=float)
    reached = np.where(np.isnan(dates), np.inf, dates)
    return {year: weighted_probability(reached < year + 1.0, weights) for year in years}


def weighted_quantiles(dates: np.ndarray, weights: np.ndarray,
                       qs: Sequence[float] = (0.1, 0.5, 0.9)) -> dict[float, float]:
    """Weighted quantiles of ``dates``, censored (NaN) as +inf: a quantile beyond every reached
    date is +inf ("later than the end"). The lower weighted quantile (no interpolation)."""
    values = np.where(np.isnan(np.asarray(dates, dtype=float)), np.inf, dates)
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        return {q: math.nan for q in qs}
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return {q: float(values[order][min(int(np.searchsorted(cum, q - 1e-12)), len(cum) - 1)])
            for q in qs}


# Others' published estimates shown beside the forecast, labelled as theirs (docs/calibration.md).
REFERENCE_POINTS = (
    ("CAL-10a", "Jack Clark (Import AI #455, May 2026)",
     "60%+ chance an AI can autonomously build its successor by end of 2028"),
    ("CAL-10c", "AI Futures Model (Q1 2026 update)",
     "automated coder: medians mid-2028 (Kokotajlo), mid-2030 (Lifland)"),
    ("CAL-10e", "AI 2027 forecasters", "superhuman coder medians 2028-2033"),
    ("CAL-10d", "Kwa's simpler takeoff model (METR, Feb 2026)",
     ">99% AI R&D automation, median late 2032"),
    ("CAL-10b", "Metaculus (Sep 2025)", "AGI median ~Jul 2033"),
    ("CAL-8", "Compute-centric framework (Davidson 2023)", "AGI median 2043"),
)
