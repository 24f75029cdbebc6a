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


SATURATION_SHARPNESS = 4.0  # p of the p-norm soft minimum (assumption: a limit is felt about
# a quarter of an e-fold before it is reached, not abruptly as min() has it)

# The smooth limits below take ln(e^a + e^b) without overflow as top + ln(1 + e^(low - top)),
# written out where used: they run several times a month per lab, and a helper call cost more
# than the sum itself.


def soft_min(x: float, cap: float, p: float = SATURATION_SHARPNESS) -> float:
    """Smooth minimum (x^-p + cap^-p)^(-1/p) of two positive numbers: about x well below the
    cap, about the cap well above it, and smooth in between (no kink, no jump in its slope)."""
    if x <= 0.0:
        return 0.0
    if not math.isfinite(cap):
        return x
    a, b = -p * math.log(x), -p * math.log(cap)
    top, low = (a, b) if a >= b else (b, a)  # ln(e^a + e^b) = top + ln(1 + e^(low - top))
    return math.exp(-(top + math.log1p(math.exp(low - top))) / p)


def soft_max(a: float, b: float, p: float = SATURATION_SHARPNESS) -> float:
    """Smooth maximum (a^p + b^p)^(1/p) of two non-negative numbers (no kink where they cross)."""
    if a <= 0.0 or b <= 0.0:
        return max(a, b, 0.0)
    a, b = p * math.log(a), p * math.log(b)
    top, low = (a, b) if a >= b else (b, a)  # ln(e^a + e^b) = top + ln(1 + e^(low - top))
    return math.exp((top + math.log1p(math.exp(low - top))) / p)


def capped_log_growth(t_years: float, log_growth_per_year: float, log_ceiling: float,
                      p: float = SATURATION_SHARPNESS) -> float:
    """ln of a factor that grows at ``log_growth_per_year`` from 1 and saturates smoothly at
    ``exp(log_ceiling)`` (the soft minimum of the factor and its ceiling, exactly 1 at t = 0)."""
    x = log_growth_per_year * t_years
    if log_ceiling <= 0.0 or x <= 0.0:
        return min(x, 0.0) if log_ceiling <= 0.0 else x
    a, b = -p * x, -p * log_ceiling
    top, low = (a, b) if a >= b else (b, a)  # ln(e^a + e^b) = top + ln(1 + e^(low - top))
    soft = -(top + math.log1p(math.exp(low - top))) / p
    top, low = (0.0, b) if 0.0 >= b else (b, 0.0)  # ln(e^0 + e^b), the same way
    return soft - (-(top + math.log1p(math.exp(low - top))) / p)


def oom_to_months(oom: float, pace_oom_per_year: float) -> float:
    """Months of progress that ``oom`` orders of magnitude take at a pace (floored at 0.1/yr)."""
    return 12.0 * oom / max(pace_oom_per_year, MIN_PACE_OOM_PER_YEAR)
