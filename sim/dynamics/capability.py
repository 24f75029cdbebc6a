"""Capability mapping from log10 effective training compute: horizon, automation, loss."""

from __future__ import annotations

import math
from collections.abc import Sequence

MINUTES_PER_HOUR = 60.0
MAX_HORIZON_DOUBLINGS = 900.0  # keeps the horizon inside float range (2^+-1024)


def horizon_minutes(log10_effective_flop: float, reference_log10_flop: float,
                    reference_minutes: float, oom_per_doubling: float) -> float:
    """METR-style 50% time horizon (minutes): doubles every ``oom_per_doubling`` OOM of compute."""
    doublings = (log10_effective_flop - reference_log10_flop) / oom_per_doubling
    # 2^900 (~1e271) is beyond any task length either way; the clamp keeps extreme mappings finite
    doublings = max(-MAX_HORIZON_DOUBLINGS, min(doublings, MAX_HORIZON_DOUBLINGS))
    return reference_minutes * 2.0 ** doublings


def automated_fraction(horizon_min: float, reliability: float, hours_min: Sequence[float],
                       hours_max: Sequence[float]) -> list[float]:
    """Share of each category's tasks that fit in ``reliability`` x the horizon.

    Task lengths spread log-uniformly over [hours_min, hours_max], so the share rises linearly in
    log horizon from 0 at the shortest task to exactly 1 at the longest.
    """
    log_h = math.log(horizon_min * reliability / MINUTES_PER_HOUR)
    out = []
    for lo, hi in zip(hours_min, hours_max):
        lo, hi = math.log(lo), math.log(hi)
        share = (log_h - lo) / (hi - lo)
        out.append(0.0 if share <= 0.0 else 1.0 if share >= 1.0 else share)
    return out


def chinchilla_optimal_loss(flop: float, E: float, A: float, B: float, alpha: float,
                            beta: float) -> float:
    """Loss (nats/token) of the compute-optimal model at training compute C = 6 N D (FLOP)."""
    half = flop / 6.0
    g = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    n_opt = g * half ** (beta / (alpha + beta))
    d_opt = half / n_opt
    return E + A * n_opt ** -alpha + B * d_opt ** -beta
