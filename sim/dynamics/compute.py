"""Compute stock: purchases at price-performance P(t), depreciation, training FLOP integrals."""

from __future__ import annotations

import math

from ixsim.sim.dynamics.growth import phi

SECONDS_PER_YEAR = 365.25 * 86400.0
_REL_MIN = 1e-9  # below this |g + delta| the integral uses its limit (the form is continuous)


def balanced_stock(purchase_rate: float, growth: float, depreciation: float) -> float:
    """Stock (FLOP/s) on the balanced-growth path of dK/dt = F0 e^(g t) - delta K: F0 / (g + delta).

    Starting there makes the stock grow exactly at the forcing rate g from the first month.
    """
    return purchase_rate / (growth + depreciation)


def stock_step(stock: float, purchase_rate: float, growth: float, depreciation: float,
               dt: float) -> tuple[float, float, float]:
    """Advance dK/dt = F0 e^(g tau) - delta K exactly over dt (years).

    ``purchase_rate`` F0 is the FLOP/s bought per year at the step's start, ``growth`` g its log
    growth rate (1/year). Returns the stock at dt and at dt/2 (FLOP/s), and the integral of the
    stock over the step (FLOP/s x years).
    """
    rel = growth + depreciation
    end = math.exp(-depreciation * dt) * (stock + purchase_rate * phi(rel, dt))
    mid = math.exp(-depreciation * dt / 2) * (stock + purchase_rate * phi(rel, dt / 2))
    decay = phi(-depreciation, dt)
    if abs(rel) < _REL_MIN:  # limit of (phi(g) - phi(-delta)) / (g + delta): integral of tau e^(-delta tau)
        x = -depreciation
        ramp = dt * dt / 2 if abs(x * dt) < 1e-9 else (math.exp(x * dt) * (x * dt - 1) + 1) / (x * x)
    else:
        ramp = (phi(growth, dt) - decay) / rel
    return end, mid, stock * decay + purchase_rate * ramp
