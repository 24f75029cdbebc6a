"""Cognitive labour and research input: review bottleneck, task-based CES, labour-compute CES.

Each function returns its value and the elasticity with respect to AI labour (d ln out/d ln AI),
which the software integrator needs because AI labour is proportional to S. Scalars (math) on
purpose: per-call numpy overhead on one-to-ten-element arrays cost 5x the run time.
"""

from __future__ import annotations

import math

NO_REVIEW_NEED = 1e-40  # numerically none: need x AI labour is then far below any review capacity
_CD = 1e-3  # |rho| below this uses the Cobb-Douglas limit (the CES differs from it by O(rho))


def _ces(log_a: float, log_b: float, rho: float) -> tuple[float, float]:
    """(ln of (e^log_a + e^log_b)^(1/rho), share of the first term), computed in logs.

    Logs keep extreme inputs (1e-300 researchers, rho = -20) from overflowing.
    """
    top, low = (log_a, log_b) if log_a >= log_b else (log_b, log_a)
    lse = top + math.log1p(math.exp(low - top))
    return lse / rho, math.exp(log_a - lse)


def review_limited(ai: float, humans: float, review_need: float,
                   review_ratio: float) -> tuple[float, float]:
    """AI labour that passes human review: 1/A_eff = 1/A + need/(ratio * H).

    Every unit of AI output that still needs a human (share ``review_need``) takes 1/ratio units
    of human review time. Returns A_eff and d ln A_eff/d ln A.
    """
    if review_need <= NO_REVIEW_NEED or ai <= 0.0:  # humans check (almost) nothing
        return ai, 1.0
    capacity = review_ratio * humans
    frac = capacity / (capacity + review_need * ai)
    return ai * frac, frac


def task_labour(humans: float, ai: float, automated: float, rho: float) -> tuple[float, float]:
    """Task-based CES labour with an automated fraction f of tasks and the best allocation.

    Tasks on [0, 1] combine as (integral x_j^rho)^(1/rho); AI can do the automated fraction,
    humans any task. While AI alone on automated tasks out-produces humans elsewhere
    (A/f > H/(1-f)), humans work only on the rest:
    L = (f^(1-rho) A^rho + (1-f)^(1-rho) H^rho)^(1/rho); otherwise both pool and L = H + A.
    So L = H without automation, H + A (AI labour alone once A >> H) with full automation, and
    L never falls as f or A rise.
    """
    if automated <= 0.0:
        return humans, 0.0
    if ai * (1.0 - automated) <= automated * humans:
        total = humans + ai
        return total, (ai / total if total > 0.0 else 0.0)
    if humans <= 0.0:
        # only AI: the unautomated tasks are undone (complements) or absent (substitutes)
        if rho < _CD:
            return 0.0, 0.0
        return automated ** ((1.0 - rho) / rho) * ai, 1.0
    if abs(rho) < _CD:
        share = automated
        log_l = share * math.log(ai / automated) + (1 - share) * math.log(humans / (1 - automated))
        return math.exp(log_l), share
    log_l, share = _ces((1.0 - rho) * math.log(automated) + rho * math.log(ai),
                        (1.0 - rho) * math.log1p(-automated) + rho * math.log(humans), rho)
    return math.exp(log_l), share


def research_input(labour_ratio: float, compute_ratio: float, labour_weight: float,
                   rho: float) -> tuple[float, float]:
    """Research input R/R0 = (w x^rho + (1-w) y^rho)^(1/rho) of normalised labour x, compute y.

    rho < 0 makes experiment compute a bottleneck (elasticity of substitution 1/(1-rho) < 1).
    Returns R/R0 and d ln R/d ln x.
    """
    if labour_weight >= 1.0:
        return labour_ratio, 1.0
    if labour_weight <= 0.0:
        return compute_ratio, 0.0
    if labour_ratio <= 0.0 or compute_ratio <= 0.0:
        if rho < _CD:  # complements (and the Cobb-Douglas limit): a missing input stops research
            return 0.0, 0.0
        if labour_ratio <= 0.0:
            return (1.0 - labour_weight) ** (1.0 / rho) * compute_ratio, 0.0
        return labour_weight ** (1.0 / rho) * labour_ratio, 1.0
    if abs(rho) < _CD:
        w = labour_weight
        return math.exp(w * math.log(labour_ratio) + (1 - w) * math.log(compute_ratio)), w
    log_r, share = _ces(math.log(labour_weight) + rho * math.log(labour_ratio),
                        math.log1p(-labour_weight) + rho * math.log(compute_ratio), rho)
    return math.exp(log_r), share
