"""Fused forms of the continuous laws that run every month for every lab, with the same
floating-point operations in the same order: ``step_lab`` (``hand_over`` then ``advance_lab`` of
``sim/continuous.py``) and ``plan_spending`` (a lab's two ``spend_rule`` calls); and of those run
for each finished run and each new month: ``system_capability`` and ``review_needs`` (the
capability laws a deploy applies) and ``price_performance``.

Why: a step of the composition makes about 35 Python calls per lab (stock, sub-steps of the
software integrator, research input at each, labour, review, CES), and at a few hundred
nanoseconds each those calls, their tuple returns and repeated constant look-ups were a third
of a run. Here each law is written out once, inline, over locals.

The pure functions stay the specification: ``tests/test_kernel.py`` checks that these return
and write exactly (bit for bit) what the compositions they replace do, over every month of the
shipped scenarios and over edge cases. Branches that no shipped scenario takes in its inner
loop (a missing input, a Cobb-Douglas task mix, labour or compute weight 0 or 1) call the pure
functions themselves, so they cannot drift. Change a law in ``sim/dynamics`` or
``sim/continuous.py`` and the same change is due here; that test fails until it is made.

``step_lab``, ``plan_spending``, ``price_performance`` and ``review_needs`` have C forms in the
optional extension ``sim/_ckernel.c`` (same operations, same order, same libm calls), used when it
is built unless ``IXSIM_PURE_PYTHON=1``; the Python forms here stay importable as ``py_step_lab``
and so on, and a change to one of them is due in the C form too (``tests/test_kernel.py`` compares
the two bit for bit).
"""

from __future__ import annotations

import math
import os

from ixsim.sim import continuous
from ixsim.sim.continuous import MAX_DU_PER_SUBSTEP, MAX_SUBSTEPS_PER_STEP, Constants, LabState
from ixsim.sim.dynamics import capability, compute, growth, labour, software
from ixsim.sim.dynamics.growth import LN10, SATURATION_SHARPNESS

_exp, _log, _log1p, _expm1, _floor = math.exp, math.log, math.log1p, math.expm1, math.floor
# the laws' thresholds, the same numbers
_PHI_TINY = growth._TINY  # phi's series limit
_REL_MIN = compute._REL_MIN  # stock_step's limit where growth cancels depreciation
_K_ZERO = software._K_ZERO  # the software integrator's exponential case
_CD = labour._CD  # the CES's Cobb-Douglas limit
_NO_REVIEW_NEED = labour.NO_REVIEW_NEED
_MAX_DOUBLINGS = capability.MAX_HORIZON_DOUBLINGS  # horizon_minutes's clamp
_MINUTES_PER_HOUR = capability.MINUTES_PER_HOUR
_INF = math.inf
_MAX_LN_GROWTH = continuous.MAX_LN_GROWTH  # spend_rule's cap on exogenous growth
_gain_doublings = capability.post_training_doublings  # called once per deployment: not inlined
_REVIEW_SOFTNESS = capability.REVIEW_SOFTNESS  # review_need's default


def step_lab(c: Constants, state: LabState, year: float, p_now: float, p_next: float,
             humans: float, spill_rate: float, spill_slope: float, price_multiplier: float,
             stock_cap: float) -> tuple[float, list[tuple[float, int]]]:
    """``hand_over(c, state)`` then ``advance_lab(c, state, jurisdiction, year, p_now, p_next,
    humans, (spill_rate, spill_slope))``: the stock's integral over the step (FLOP/s x years)
    and the software OOM crossings, with the same writes to ``state``. ``price_multiplier``
    and ``stock_cap`` are what ``export_price_multiplier`` and ``export_stock_cap`` give for
    the lab's jurisdiction at ``year`` (read only when the scenario has export controls)."""
    # -- continuous.hand_over: review need and R&D handover toward the deployed system's,
    # each by at most the floor factor a step (continuous._toward_in_logs), written out
    factor = c.handover_floor_per_step
    value, target = state.review_need, state.review_need_target
    if target >= value or value <= 0.0:
        need = target
    elif target <= 0.0:
        need = value * factor
    else:
        need = value * factor
        need = target if target >= need else need
    state.review_need = need
    target = state.rnd_handover_target
    if target <= 0.0:
        handover = 0.0
    elif state.rnd_handover <= 0.0:  # first automation: a small share, taken over at once
        handover = target
    else:
        value, target = 1.0 - state.rnd_handover, 1.0 - target
        if target >= value or value <= 0.0:
            left = target
        elif target <= 0.0:
            left = value * factor
        else:
            left = value * factor
            left = target if target >= left else left
        handover = 1.0 - left
    state.rnd_handover = handover
    dt = c.dt
    # -- compute: advance_lab's purchases, then compute.stock_step ---------------------------
    buy_now, buy_next = state.spend_now * p_now, state.spend_next * p_next
    if c.export_controls:
        price = price_multiplier
        buy_now, buy_next = buy_now / price, buy_next / price
        if state.stock >= stock_cap:
            buy_now = buy_next = c.depreciation * stock_cap
            state.spend0 = buy_now * price / p_now
            state.entered_year = year
    g = (_log(buy_next / buy_now) / dt if buy_now > 0 and buy_next > 0 else 0.0)
    state.growth = g
    stock = state.stock
    depreciation = c.depreciation
    rel = g + depreciation
    x = rel * dt
    end = c.decay_over_step * (stock + buy_now * (dt * (1.0 + 0.5 * x)
                                                  if -_PHI_TINY < x < _PHI_TINY
                                                  else _expm1(x) / rel))
    half = dt / 2
    x = rel * half
    mid = c.decay_over_half_step * (stock + buy_now * (half * (1.0 + 0.5 * x)
                                                       if -_PHI_TINY < x < _PHI_TINY
                                                       else _expm1(x) / rel))
    decay = c.decayed_share_integral
    if -_REL_MIN < rel < _REL_MIN:
        x = -depreciation
        ramp = dt * dt / 2 if abs(x * dt) < 1e-9 else (_exp(x * dt) * (x * dt - 1) + 1) / (x * x)
    else:
        x = g * dt
        ramp = ((dt * (1.0 + 0.5 * x) if -_PHI_TINY < x < _PHI_TINY else _expm1(x) / g)
                - decay) / rel
    integral = stock * decay + buy_now * ramp
    ai_per_s = state.share_inference * mid / c.inference_flop_per_s_per_researcher
    compute_ratio = state.share_experiments * mid / c.compute0
    # -- software: advance_software, with research input (research, research_labour,
    # labour.review_limited, labour.task_labour, labour.research_input, software.growth_rate)
    # evaluated once per sub-step at the top of the loop, so the last evaluation is at the
    # step's end: what update_research_outputs needs
    rate_per_year, beta, ceiling = c.rate_per_year, c.beta, c.ln_software_ceiling
    lam = c.research_exponent  # returns_r x beta, as growth_rate and rate_elasticity form it
    psi = c.ai_parallel_exponent
    capacity = c.review_ratio * humans
    task_rho, labour0, w, compute_rho = c.task_rho, c.labour0, c.labour_weight, c.compute_rho
    u = state.ln_software
    crossings: list[tuple[float, int]] = []
    remaining, elapsed = dt, 0.0
    tiny = 1e-12 * dt
    before = None  # the power of ten at u, once a sub-step needs it (then carried over)
    for _ in range(MAX_SUBSTEPS_PER_STEP):
        # research_labour: humans alone until the lab hands R&D work over
        if handover <= 0.0:
            total, e_labour, ai_share = humans, 0.0, 0.0
        else:
            ai = ai_per_s * _exp(u)
            serial = ai ** psi if ai > 0.0 else 0.0
            if need <= _NO_REVIEW_NEED or serial <= 0.0:  # labour.review_limited
                reviewed, e_review = serial, 1.0
            else:
                e_review = capacity / (capacity + need * serial)
                reviewed = serial * e_review
            if reviewed * (1.0 - handover) <= handover * humans:  # labour.task_labour, pooled
                total = humans + reviewed
                e_task = reviewed / total if total > 0.0 else 0.0
            elif humans <= 0.0 or -_CD < task_rho < _CD:
                total, e_task = labour.task_labour(humans, reviewed, handover, task_rho)
            else:  # humans on the tasks AI cannot do: the CES of labour._ces
                log_a = (1.0 - task_rho) * _log(handover) + task_rho * _log(reviewed)
                log_b = (1.0 - task_rho) * _log1p(-handover) + task_rho * _log(humans)
                top, low = (log_a, log_b) if log_a >= log_b else (log_b, log_a)
                lse = top + _log1p(_exp(low - top))
                total, e_task = _exp(lse / task_rho), _exp(log_a - lse)
            e_labour, ai_share = psi * e_review * e_task, e_task
        # labour.research_input: labour and experiment compute
        labour_ratio = total / labour0
        if not (0.0 < w < 1.0 and labour_ratio > 0.0 and compute_ratio > 0.0):
            value, e_input = labour.research_input(labour_ratio, compute_ratio, w, compute_rho)
        elif -_CD < compute_rho < _CD:
            value = _exp(w * _log(labour_ratio) + (1 - w) * _log(compute_ratio))
            e_input = w
        else:
            log_a = _log(w) + compute_rho * _log(labour_ratio)
            log_b = _log1p(-w) + compute_rho * _log(compute_ratio)
            top, low = (log_a, log_b) if log_a >= log_b else (log_b, log_a)
            lse = top + _log1p(_exp(low - top))
            value, e_input = _exp(lse / compute_rho), _exp(log_a - lse)
        try:  # software.growth_rate
            own = 0.0 if value <= 0.0 else rate_per_year * value ** lam * _exp(-beta * u)
        except OverflowError:
            own = _INF
        if own == _INF:
            own = software.overflow_rate(rate_per_year, value, u, lam, beta)
        # advance_software proper
        if remaining <= tiny or u >= ceiling:
            break
        k = lam * (e_labour * e_input) - beta  # software.rate_elasticity
        rate = own + spill_rate
        if rate <= 0.0:
            break
        if spill_rate:
            k = (k * own + spill_slope) / rate
        h = remaining if rate * remaining <= MAX_DU_PER_SUBSTEP else MAX_DU_PER_SUBSTEP / rate
        exponential = -_K_ZERO < k < _K_ZERO  # software.advance and time_to_reach
        if exponential:
            new = u + rate * h
        else:
            x = k * rate * h
            new = math.inf if x >= 1.0 else u - _log1p(-x) / k
        if new > ceiling:
            new = ceiling
        if before is None:
            before = _floor(u / LN10 + 1e-12)
        after = _floor(new / LN10 + 1e-12)
        if after > before:  # whole powers of ten crossed
            for power in range(before + 1, after + 1):
                gap = power * LN10 - u  # software.time_to_reach
                reach = gap / rate if exponential else -_expm1(-k * gap) / (k * rate)
                crossings.append((year + elapsed + reach, power))
        u, before = new, after
        elapsed += h
        remaining -= h
    else:
        raise RuntimeError("software integration did not finish the step")
    state.ln_software = u
    state.stock = end
    # -- update_research_outputs: the last evaluation above is at this u ------------------------
    state.humans = humans
    if handover <= 0.0:
        copies = ai_per_s * _exp(u)
        state.ai_researchers = copies ** psi if copies > 0.0 else 0.0
    else:  # the last evaluation's ai_per_s * exp(u) ** psi, taken at this u
        state.ai_researchers = serial
    state.research = value
    state.ai_share = ai_share
    state.unreviewed = ai_share * (1.0 - need)
    state.multiplier = own / c.reference_rate if c.reference_rate > 0 else 1.0
    return integral, crossings


def plan_spending(c: Constants, state: LabState, year: float, world_product: float,
                  next_year: float, next_world_product: float) -> None:
    """A lab's spending over the step (USD/year), bounded by build-out: the same as

        state.spend_now = min(spend_rule(c, state, year, world_product),
                              state.spend_now * c.spend_ramp_per_step)
        state.spend_next = min(spend_rule(c, state, next_year, next_world_product),
                               state.spend_now * c.spend_ramp_per_step)

    with spend_rule's soft_max and soft_min (``sim/dynamics/growth.py``) written out."""
    p = SATURATION_SHARPNESS
    ramp = c.spend_ramp_per_step
    revenue_part = c.revenue_reinvestment_share * state.revenue
    spend0, g, entered = state.spend0, c.log_spend_growth, state.entered_year
    spend, path = state.spend_now, []
    for when, world in ((year, world_product), (next_year, next_world_product)):
        base = spend0 * _exp(min(g * (when - entered), _MAX_LN_GROWTH))
        if base <= 0.0 or revenue_part <= 0.0:  # soft_max(base, revenue_part)
            wanted = max(base, revenue_part, 0.0)
        else:
            a, b = p * _log(base), p * _log(revenue_part)
            top, low = (a, b) if a >= b else (b, a)
            wanted = _exp((top + _log1p(_exp(low - top))) / p)
        supply = c.max_spend_share_of_gwp * world
        if wanted <= 0.0:  # soft_min(wanted, supply)
            planned = 0.0
        elif not math.isfinite(supply):
            planned = wanted
        else:
            a, b = -p * _log(wanted), -p * _log(supply)
            top, low = (a, b) if a >= b else (b, a)
            planned = _exp(-(top + _log1p(_exp(low - top))) / p)
        bound = spend * ramp
        spend = bound if bound < planned else planned  # min(planned, bound)
        path.append(spend)
    state.spend_now, state.spend_next = path


def system_capability(c: Constants, spec, log10_effective: float
                      ) -> tuple[float, float, list[float], float, float]:
    """What a system of ``10**log10_effective`` effective FLOP can do, for ``deploy``: (horizon
    in minutes, ``log_fit_hours`` of it, the automated share of each R&D category, of review
    and of economic work hours), the same as ``cap.horizon_minutes``, ``cap.log_fit_hours``,
    ``cap.automated_share`` per category and ``cap.automated_hours_share`` written out.
    ``spec`` is the scenario's capability section."""
    above = log10_effective - c.reference_log10_flop
    doublings = above / spec.oom_per_horizon_doubling + _gain_doublings(
        above, spec.post_training_gain, spec.post_training_gain_oom)
    # max(-M, min(doublings, M)), as horizon_minutes clamps (NaN included)
    doublings = _MAX_DOUBLINGS if _MAX_DOUBLINGS < doublings else doublings
    doublings = doublings if doublings > -_MAX_DOUBLINGS else -_MAX_DOUBLINGS
    horizon = spec.reference_horizon_minutes * 2.0 ** doublings
    log_fit = _log(horizon * spec.automation_reliability / _MINUTES_PER_HOUR)
    shares = [(log_fit - lo) / (hi - lo) for lo, hi in zip(c.log_task_hours_min,
                                                           c.log_task_hours_max)]
    auto = [0.0 if share <= 0.0 else 1.0 if share >= 1.0 else share for share in shares]
    lo, hi = c.log_review_hours
    share = (log_fit - lo) / (hi - lo)
    review = 0.0 if share <= 0.0 else 1.0 if share >= 1.0 else share
    (low,), (high,) = c.economy_hours
    share = (horizon * 1.0 / _MINUTES_PER_HOUR - low) / (high - low)
    economic = 0.0 if share <= 0.0 else 1.0 if share >= 1.0 else share
    return horizon, log_fit, auto, review, economic


def review_needs(c: Constants, log_fit: float) -> tuple[list[float], float]:
    """``cap.review_need`` at ``log_fit`` for each R&D category and for review, written out."""
    softness = _REVIEW_SOFTNESS
    xs = [(1.0 - (log_fit - lo) / (hi - lo)) / softness for lo, hi in zip(c.log_task_hours_min,
                                                                          c.log_task_hours_max)]
    review_lo, review_hi = c.log_review_hours
    xs.append((1.0 - (log_fit - review_lo) / (review_hi - review_lo)) / softness)
    needs = [softness * (x + _log1p(_exp(-x)) if x > 0 else _log1p(_exp(x))) for x in xs]
    needs = [need if need < 1.0 else 1.0 for need in needs]
    return needs[:-1], needs[-1]


def price_performance(c: Constants, year: float) -> float:
    """``continuous.price_performance``: effective FLOP/s per USD at ``year``, with its two
    ``capped_log_growth`` calls written out and their constant halves (a function of the
    ceiling alone) memoised."""
    p = SATURATION_SHARPNESS
    tau = year - c.start_year
    log_p = c.log_flop_per_s_per_usd_2023
    for growth_per_year, ceiling in ((c.log_price_performance_growth,
                                      c.log_price_performance_ceiling),
                                     (c.log_utilisation_growth, c.log_utilisation_ceiling)):
        x = growth_per_year * tau
        if ceiling <= 0.0 or x <= 0.0:
            log_p += min(x, 0.0) if ceiling <= 0.0 else x
            continue
        a, b = -p * x, -p * ceiling
        top, low = (a, b) if a >= b else (b, a)
        soft = -(top + _log1p(_exp(low - top))) / p
        at_start = _AT_START.get(ceiling)
        if at_start is None:
            top, low = (0.0, b) if 0.0 >= b else (b, 0.0)
            at_start = _AT_START[ceiling] = -(top + _log1p(_exp(low - top))) / p
        log_p += soft - at_start
    return _exp(log_p)


_AT_START: dict[float, float] = {}  # capped_log_growth's soft minimum at t = 0, by log ceiling


# -- the C forms ---------------------------------------------------------------------------------
# sim/_ckernel.c holds step_lab, plan_spending, price_performance and review_needs in C, the same operations in the same order
# (bit for bit the same results; tests/test_kernel.py checks it). It is optional: built by
# `pip install` where a C compiler is found. The Python forms above stay the specification and
# what runs without it or with IXSIM_PURE_PYTHON=1; the C forms call them for anything out of the
# ordinary (a non-float input, a non-finite libm input or result, a branch the Python form hands
# to a pure law), so exceptions and rare branches are theirs.
py_step_lab, py_plan_spending = step_lab, plan_spending
py_price_performance, py_review_needs = price_performance, review_needs
try:
    from ixsim.sim import _ckernel
except ImportError:  # not built (no C compiler at install): the Python forms
    _ckernel = None
if _ckernel is not None:  # bound even where unused, so tests can compare the two forms
    _ckernel.bind({"step_lab": py_step_lab, "plan_spending": py_plan_spending,
                   "price_performance": py_price_performance, "review_needs": py_review_needs}, {
        "PHI_TINY": _PHI_TINY, "REL_MIN": _REL_MIN, "K_ZERO": _K_ZERO, "CD": _CD,
        "NO_REVIEW_NEED": _NO_REVIEW_NEED, "MAX_LN_GROWTH": _MAX_LN_GROWTH,
        "SATURATION_SHARPNESS": SATURATION_SHARPNESS, "LN10": LN10,
        "MAX_DU_PER_SUBSTEP": MAX_DU_PER_SUBSTEP, "MAX_SUBSTEPS_PER_STEP": MAX_SUBSTEPS_PER_STEP,
        "REVIEW_SOFTNESS": _REVIEW_SOFTNESS})
USING_C = _ckernel is not None and os.environ.get("IXSIM_PURE_PYTHON", "") in ("", "0")
if USING_C:
    step_lab, plan_spending = _ckernel.step_lab, _ckernel.plan_spending
    price_performance, review_needs = _ckernel.price_performance, _ckernel.review_needs
