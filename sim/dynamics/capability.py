"""Capability mapping from log10 effective training compute: horizon, automation, loss."""

from __future__ import annotations

import math
from collections.abc import Sequence

MINUTES_PER_HOUR = 60.0
MAX_HORIZON_DOUBLINGS = 900.0  # keeps the horizon inside float range (2^+-1024)


POST_TRAINING_WIDTH_OOM = 0.2  # assumption: the gain arrives over about +-0.4 OOM of effective
# compute (~8 months of the 2024 frontier's growth), as o1-preview (Sep 2024) to o3 (Apr 2025)


def post_training_doublings(oom_above_reference: float, gain: float, gain_oom: float) -> float:
    """Horizon doublings added by the post-training (reasoning) gain at ``oom_above_reference``
    OOM of effective compute above the reference system: log2(``gain``) times a logistic step
    centred ``gain_oom`` OOM above it (width POST_TRAINING_WIDTH_OOM), less its value at the
    reference, so the reference system keeps its own horizon."""
    if gain == 1.0:
        return 0.0
    w = POST_TRAINING_WIDTH_OOM
    return math.log2(gain) * (_logistic((oom_above_reference - gain_oom) / w)
                              - _logistic(-gain_oom / w))


def _logistic(x: float) -> float:
    """1 / (1 + e^-x), without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def horizon_minutes(log10_effective_flop: float, reference_log10_flop: float,
                    reference_minutes: float, oom_per_doubling: float, gain: float = 1.0,
                    gain_oom: float = 0.0) -> float:
    """METR-style 50% time horizon (minutes): doubles every ``oom_per_doubling`` OOM of compute,
    times the one-time post-training gain (``post_training_doublings``)."""
    above = log10_effective_flop - reference_log10_flop
    doublings = above / oom_per_doubling + post_training_doublings(above, gain, gain_oom)
    # 2^900 (~1e271) is beyond any task length either way; the clamp keeps extreme mappings finite
    doublings = max(-MAX_HORIZON_DOUBLINGS, min(doublings, MAX_HORIZON_DOUBLINGS))
    return reference_minutes * 2.0 ** doublings


def log_fit_hours(horizon_min: float, reliability: float) -> float:
    """ln of the longest task (hours) that fits in ``reliability`` x the horizon: what the
    shares below compare with the logs of task lengths."""
    return math.log(horizon_min * reliability / MINUTES_PER_HOUR)


def automated_fraction(horizon_min: float, reliability: float, hours_min: Sequence[float],
                       hours_max: Sequence[float]) -> list[float]:
    """Share of each category's tasks that fit in ``reliability`` x the horizon.

    Task lengths spread log-uniformly over [hours_min, hours_max], so the share rises linearly in
    log horizon from 0 at the shortest task to exactly 1 at the longest.
    """
    log_h = log_fit_hours(horizon_min, reliability)
    return [automated_share(log_h, math.log(lo), math.log(hi))
            for lo, hi in zip(hours_min, hours_max)]


def automated_share(log_fit: float, log_hours_min: float, log_hours_max: float) -> float:
    """``automated_fraction`` of one category from logs (``log_fit_hours`` and the ln of its
    task lengths in hours), for callers that take the logs of fixed lengths once."""
    share = (log_fit - log_hours_min) / (log_hours_max - log_hours_min)
    return 0.0 if share <= 0.0 else 1.0 if share >= 1.0 else share


REVIEW_SOFTNESS = 0.1  # assumption: the last tenth of review tasks (by log length) fades out
# smoothly; each further doubling of the horizon past full automation halves the need ~2.6x


def human_review_need(horizon_min: float, reliability: float, hours_min: float,
                      hours_max: float, softness: float = REVIEW_SOFTNESS) -> float:
    """Share of a category's work that still needs humans, 0..1: 1 - f, with the corner at f = 1
    rounded (softplus of 1 - f, width ``softness``). Humans hand over the last tasks (and the
    last reviews) gradually, doing ever less as the horizon grows, so a bottleneck in 1/need
    rises smoothly instead of jumping to infinity when f reaches 1."""
    return review_need(log_fit_hours(horizon_min, reliability), math.log(hours_min),
                       math.log(hours_max), softness)


def review_need(log_fit: float, log_hours_min: float, log_hours_max: float,
                softness: float = REVIEW_SOFTNESS) -> float:
    """``human_review_need`` from logs, as ``automated_share`` is ``automated_fraction``."""
    lo, hi = log_hours_min, log_hours_max
    x = (1.0 - (log_fit - lo) / (hi - lo)) / softness
    need = softness * (x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x)))
    return need if need < 1.0 else 1.0


def automated_hours_share(horizon_min: float, reliability: float, hours_min: float,
                          hours_max: float) -> float:
    """Share of work hours in tasks that fit in ``reliability`` x the horizon.

    Task lengths are log-uniform over [hours_min, hours_max] by count, so hours (count x length)
    are uniform in length: the share is (h - min) / (max - min), clipped to 0..1. Long tasks hold
    most of the hours, so this grows about in proportion to the horizon (as revenue has)."""
    h = horizon_min * reliability / MINUTES_PER_HOUR
    share = (h - hours_min) / (hours_max - hours_min)
    return 0.0 if share <= 0.0 else 1.0 if share >= 1.0 else share


def chinchilla_optimal_loss(flop: float, E: float, A: float, B: float, alpha: float,
                            beta: float) -> float:
    """Loss (nats/token) of the compute-optimal model at training compute C = 6 N D (FLOP)."""
    half = flop / 6.0
    g = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    n_opt = g * half ** (beta / (alpha + beta))
    d_opt = half / n_opt
    return E + A * n_opt ** -alpha + B * d_opt ** -beta
