"""Exact integrals of exponential growth used by the compute and software updates."""

from __future__ import annotations

import math

_TINY = 1e-12  # below this |rate * dt|, use the series limit to avoid 0/0


def phi(rate: float, dt: float) -> float:
    """Integral of exp(rate * tau) for tau in [0, dt] (years); exact and safe at rate = 0."""
    x = rate * dt
    if abs(x) < _TINY:
        return dt * (1.0 + 0.5 * x)
    return math.expm1(x) / rate


def capped_log_growth(t_years: float, log_growth_per_year: float, log_ceiling: float) -> float:
    """ln of a factor that grows at ``log_growth_per_year`` from 1 and stops at ``exp(log_ceiling)``."""
    return min(log_growth_per_year * t_years, log_ceiling)
