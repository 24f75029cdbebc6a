"""Software level S under the semi-endogenous (Jones) law and its exact local integrator.

d ln S/dt = rate * (R/R0)^lambda * S^-beta, lambda = r * beta. Within a sub-step the growth rate
of u = ln S is modelled as a(u) = a0 * exp(k (u - u0)), k = d ln a/du the local elasticity.
That ODE has an exact solution, used here, so the analytic limits (pure power laws) integrate
without error and a finite-time blow-up is located exactly.
"""

from __future__ import annotations

import math

_K_ZERO = 1e-12  # |k| below this is treated as exponential growth (k = 0)


def growth_rate(rate_per_year: float, research_ratio: float, log_s: float, returns_r: float,
                beta: float) -> float:
    """d ln S/dt (1/year) for research input R/R0 and software level ln S."""
    if research_ratio <= 0.0:
        return 0.0
    try:
        rate = rate_per_year * research_ratio ** (returns_r * beta) * math.exp(-beta * log_s)
    except OverflowError:  # a vast input at a range end (r x beta up to 50): in logs, capped
        rate = math.inf
    if rate == math.inf:
        return overflow_rate(rate_per_year, research_ratio, log_s, returns_r * beta, beta)
    return rate


MAX_LN_RATE = 300.0  # e^300 a year: a blow-up within any sub-step, still a finite number


def overflow_rate(rate_per_year: float, research_ratio: float, log_s: float, lam: float,
                  beta: float) -> float:
    """``growth_rate`` where the power overflows: the same law in logs, capped at e^MAX_LN_RATE."""
    ln_rate = lam * math.log(research_ratio) - beta * log_s
    return rate_per_year * math.exp(min(ln_rate, MAX_LN_RATE))


def rate_elasticity(research_elasticity: float, returns_r: float, beta: float) -> float:
    """k = d ln(d ln S/dt)/d ln S = lambda * (d ln R/d ln S) - beta."""
    return returns_r * beta * research_elasticity - beta


def advance(u: float, a: float, k: float, dt: float) -> float:
    """Exact solution of du/dt = a exp(k (u - u0)) after dt; +inf if it blows up within dt."""
    if abs(k) < _K_ZERO:
        return u + a * dt
    x = k * a * dt
    if x >= 1.0:
        return math.inf
    return u - math.log1p(-x) / k


def time_to_reach(u0: float, target: float, a: float, k: float) -> float:
    """Time (years) for du/dt = a exp(k (u - u0)) to go from u0 to target >= u0."""
    gap = target - u0
    if abs(k) < _K_ZERO:
        return gap / a
    return -math.expm1(-k * gap) / (k * a)


def closed_form_time(s: float, rate_per_year: float, k: float) -> float:
    """Analytic limit: years for S to grow from 1 to s under d ln S/dt = rate * S^k.

    t(S) = (1 - S^-k) / (k rate), or ln S / rate at k = 0; blow-up at 1/(k rate) for k > 0.
    """
    log_s = math.log(s)
    if abs(k) < _K_ZERO:
        return log_s / rate_per_year
    return -math.expm1(-k * log_s) / (k * rate_per_year)
