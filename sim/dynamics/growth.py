"""Exact integrals of exponential growth used by the compute and software updates."""

from __future__ import annotations

import math

LN10 = math.log(10.0)
MIN_PACE_OOM_PER_YEAR = 0.1  # floor on a pace used to turn OOM into months of progress
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


def oom_to_months(oom: float, pace_oom_per_year: float) -> float:
    """Months of progress that ``oom`` orders of magnitude take at a pace (floored at 0.1/yr)."""
    return 12.0 * oom / max(pace_oom_per_year, MIN_PACE_OOM_PER_YEAR)
