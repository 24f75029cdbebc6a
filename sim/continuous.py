"""The continuous half of the model: prices, spending, compute stocks, labour and software as
functions over a lab's declared state (``LabState``) and the run's constants (``Constants``).

Between agent steps these integrate the state with the pure laws of ``sim/dynamics`` (closed
forms and the exact local software solution). They read nothing else and write only the
``LabState`` they are given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ixsim.sim.dynamics import labour, software
from ixsim.sim.dynamics.compute import SECONDS_PER_YEAR, balanced_stock, stock_step
from ixsim.sim.dynamics.growth import LN10, capped_log_growth, phi, soft_max, soft_min
from ixsim.sim.scenario import Scenario

MAX_DU_PER_SUBSTEP = 0.25  # nats of ln S one sub-step may add (accuracy control when k varies)
MAX_SUBSTEPS_PER_STEP = 100_000  # guard against a runaway loop, far above any real need


@dataclass(slots=True)
class LabState:
    """The continuous state of one lab: what the dynamics advance and the lab's decisions set."""

    stock: float  # compute stock, effective FLOP/s
    humans: float  # human researchers at work
    ln_software: float = 0.0  # ln S, the software level (S = 1 at the start year)
    growth: float = 0.0  # log growth of compute purchases over the last step, 1/year
    spend0: float = 0.0  # compute spending at the investors' path origin, USD/year
    spend_now: float = 0.0  # compute spending at this step's start, USD/year
    spend_next: float = 0.0  # compute spending at this step's end, USD/year
    revenue: float = 0.0  # USD/year
    ai_researchers: float = 0.0  # AI researcher-equivalents at work (parallel penalty applied)
    research: float = 1.0  # research input R/R0
    multiplier: float = 1.0  # software progress rate against the 2023 humans-only rate
    ai_share: float = 0.0  # share of R&D labour done by AI
    unreviewed: float = 0.0  # share of R&D decisions taken without human review
    # the compute split, fractions of the stock (set monthly by the lab's strategy)
    share_training: float = 0.0
    share_experiments: float = 0.0
    share_inference: float = 0.0
    share_deployment: float = 0.0
    # the deployed system's automation, 0..1 (set when a better system is deployed)
    rnd_automation: float = 0.0  # weighted share of the R&D task categories
    rnd_handover: float = 0.0  # share of R&D work AI does, as humans hand it over (0..1)
    rnd_handover_target: float = 0.0  # what the deployed system could take over now
    review_need_target: float = 1.0  # the review share the deployed system leaves to humans
    review_automation: float = 0.0  # share of the review category's tasks automated
    review_need: float = 1.0  # share of AI changes a human still reviews (smooth, never 0)
    economic_automation: float = 0.0  # share of economic work hours automated
    entered_year: float = 0.0  # decimal year of that origin (entry, or the last capped month)
    prev_ln_capacity: float | None = None  # ln(stock x S) a step ago, for the frontier's pace


@dataclass(frozen=True, slots=True)
class Constants:
    """Rates and shapes of one scenario, derived once (logs of growth factors, task ranges)."""

    start_year: float
    dt: float  # years per step
    log_flop_per_s_per_usd_2023: float
    log_price_performance_growth: float  # 1/year
    log_price_performance_ceiling: float  # nats
    log_utilisation_growth: float  # 1/year
    log_utilisation_ceiling: float  # nats
    log_spend_growth: float  # 1/year
    log_max_spend_growth: float  # fastest rise of one lab's spending (build-out), 1/year
    spend_ramp_per_step: float  # exp(log_max_spend_growth dt): that bound over one step
    log_gwp_growth: float  # 1/year
    log_researcher_growth: float  # 1/year
    balanced_growth: float  # log growth of compute purchases on the balanced path, 1/year
    depreciation: float  # 1/year
    gwp_usd_2023: float
    revenue_reinvestment_share: float
    max_spend_share_of_gwp: float
    value_capture_share: float
    automated_task_productivity: float
    inference_flop_per_s_per_researcher: float
    rate_per_year: float  # software coefficient: d ln S/dt at R = R0 and S = 1, 1/year
    reference_rate: float  # the 2023 humans-only software rate (CAL-2), 1/year
    returns_r: float
    beta: float
    research_exponent: float  # lambda = r x beta: d ln(software rate) / d ln R
    labour_weight: float
    compute_rho: float
    review_ratio: float
    ai_parallel_exponent: float  # N AI copies in parallel do the work of N^this researchers
    handover_efolds_per_step: float  # largest fall of ln(human share of work) in one step
    handover_floor_per_step: float  # exp(-handover_efolds_per_step): the least share kept
    task_rho: float
    ln_software_ceiling: float  # nats
    reference_log10_flop: float
    task_weight: tuple[float, ...]  # normalised weights of the R&D categories (review excluded)
    task_hours_min: tuple[float, ...]
    task_hours_max: tuple[float, ...]
    review_hours: tuple[tuple[float], tuple[float]]  # (min, max) of the review category
    economy_hours: tuple[tuple[float], tuple[float]]  # (min, max) of economic tasks
    log_task_hours_min: tuple[float, ...]  # ln of task_hours_min (deploy compares logs)
    log_task_hours_max: tuple[float, ...]
    log_review_hours: tuple[float, float]  # ln of the review category's (min, max)
    export_controls: tuple  # the scenario's ExportControl entries
    espionage: float
    # derived once for the fused step (``sim/kernel.py``), the same expressions stock_step uses
    decay_over_step: float  # exp(-depreciation dt): what is left of the stock after a step
    decay_over_half_step: float  # exp(-depreciation dt / 2)
    decayed_share_integral: float  # phi(-depreciation, dt): the start stock's integral, years
    labour0: float = 1.0  # research labour of the reference lab at the start (normaliser)
    compute0: float = 1.0  # experiment compute of the reference lab at the start (normaliser)

    @classmethod
    def of(cls, sc: Scenario) -> Constants:
        hw, inv, sw, lab, cap = sc.hardware, sc.investment, sc.software, sc.labour, sc.capability
        log_pp = math.log(hw.price_performance_growth_per_year)
        log_util = math.log(hw.utilisation_growth_per_year)
        log_spend = math.log(inv.spend_growth_per_year)
        rnd = [t for t in sc.tasks if not t.review]
        review = next(t for t in sc.tasks if t.review)
        weights = [t.weight for t in rnd]
        dt = 1.0 / sc.meta.steps_per_year
        depreciation = hw.depreciation_per_year
        return cls(
            start_year=sc.meta.start_year,
            dt=dt,
            log_flop_per_s_per_usd_2023=math.log(hw.flop_per_s_per_usd_2023),
            log_price_performance_growth=log_pp,
            log_price_performance_ceiling=hw.price_performance_ceiling_oom * LN10,
            log_utilisation_growth=log_util,
            log_utilisation_ceiling=hw.utilisation_ceiling_oom * LN10,
            log_spend_growth=log_spend,
            log_max_spend_growth=math.log(inv.max_spend_growth_per_year),
            spend_ramp_per_step=math.exp(math.log(inv.max_spend_growth_per_year) * dt),
            log_gwp_growth=math.log(inv.gwp_growth_per_year),
            log_researcher_growth=math.log(lab.researcher_growth_per_year),
            balanced_growth=log_spend + log_pp + log_util,
            depreciation=hw.depreciation_per_year,
            gwp_usd_2023=inv.gwp_usd_2023,
            revenue_reinvestment_share=inv.revenue_reinvestment_share,
            max_spend_share_of_gwp=inv.max_spend_share_of_gwp,
            value_capture_share=inv.value_capture_share,
            automated_task_productivity=inv.automated_task_productivity,
            inference_flop_per_s_per_researcher=lab.inference_flop_per_s_per_researcher,
            rate_per_year=software_coefficient(sc),
            reference_rate=sw.rate_per_year,
            returns_r=sw.returns_r,
            beta=sw.beta,
            research_exponent=sw.returns_r * sw.beta,
            labour_weight=sw.labour_weight,
            compute_rho=sw.compute_rho,
            review_ratio=lab.review_ratio,
            ai_parallel_exponent=lab.ai_parallel_exponent,
            handover_efolds_per_step=lab.handover_efolds_per_year / sc.meta.steps_per_year,
            handover_floor_per_step=math.exp(-(lab.handover_efolds_per_year
                                               / sc.meta.steps_per_year)),
            task_rho=lab.task_rho,
            ln_software_ceiling=sw.ceiling_oom * LN10,
            reference_log10_flop=math.log10(cap.reference_training_flop),
            task_weight=tuple(x / sum(weights) for x in weights),
            task_hours_min=tuple(t.task_hours_min for t in rnd),
            task_hours_max=tuple(t.task_hours_max for t in rnd),
            review_hours=((review.task_hours_min,), (review.task_hours_max,)),
            economy_hours=((cap.economy_task_hours_min,), (cap.economy_task_hours_max,)),
            log_task_hours_min=tuple(math.log(t.task_hours_min) for t in rnd),
            log_task_hours_max=tuple(math.log(t.task_hours_max) for t in rnd),
            log_review_hours=(math.log(review.task_hours_min), math.log(review.task_hours_max)),
            export_controls=tuple(sc.export_controls),
            espionage=sc.networks.espionage,
            decay_over_step=math.exp(-depreciation * dt),
            decay_over_half_step=math.exp(-depreciation * dt / 2),
            decayed_share_integral=phi(-depreciation, dt),
        )


def software_coefficient(sc: Scenario) -> float:
    """The coefficient a of d ln S/dt = a (R/R0)^lambda S^-beta (1/year) at which the reference
    lab's humans-only path averages ``software.rate_per_year`` over ``fit_window_years``.

    Before automation research input follows its inputs: labour grows with the talent pool,
    experiment compute with the balanced compute path, so R(t)/R0 is known in closed form.
    With v = S^beta, dv/dt = beta a (R/R0)^lambda: ln S(T) = ln(1 + beta a I(T)) / beta,
    I(T) = integral of (R/R0)^lambda over [0, T]. Setting ln S(T) = rate T gives a. So every
    r, beta, labour weight and compute bottleneck passes through the observed rate (CAL-2).
    """
    sw = sc.software
    window = sw.fit_window_years
    if window <= 0.0 or sw.rate_per_year <= 0.0:
        return sw.rate_per_year
    g_labour = math.log(sc.labour.researcher_growth_per_year)
    g_compute = (math.log(sc.investment.spend_growth_per_year)
                 + math.log(sc.hardware.price_performance_growth_per_year)
                 + math.log(sc.hardware.utilisation_growth_per_year))
    lam = sw.returns_r * sw.beta
    n = 64  # Simpson intervals: the integrand is smooth, error ~1e-9 relative
    h = window / n
    total = 0.0
    for i in range(n + 1):
        t = i * h
        ratio = labour.research_input(math.exp(g_labour * t), math.exp(g_compute * t),
                                      sw.labour_weight, sw.compute_rho)[0]
        weight = 1 if i in (0, n) else (4 if i % 2 else 2)
        total += weight * ratio ** lam
    integral = total * h / 3.0
    target = sw.rate_per_year * window
    if sw.beta * target < 1e-12:
        return target / integral
    return math.expm1(sw.beta * target) / (sw.beta * integral)


# -- prices and money ---------------------------------------------------------------------------


def price_performance(c: Constants, year: float) -> float:
    """Effective FLOP/s bought per USD at ``year``: hardware x utilisation, each capped."""
    tau = year - c.start_year
    log_p = (c.log_flop_per_s_per_usd_2023
             + capped_log_growth(tau, c.log_price_performance_growth,
                                 c.log_price_performance_ceiling)
             + capped_log_growth(tau, c.log_utilisation_growth, c.log_utilisation_ceiling))
    return math.exp(log_p)


def export_price_multiplier(c: Constants, jurisdiction: str, year: float) -> float:
    """How much more compute costs in ``jurisdiction`` under export controls (1 if none)."""
    factor = 1.0
    for ctl in c.export_controls:
        if ctl.target == jurisdiction and year >= ctl.start_year - 1e-9:
            factor *= ctl.price_multiplier
    return factor


def export_stock_cap(c: Constants, jurisdiction: str, year: float) -> float:
    """Largest compute stock (FLOP/s) a lab in ``jurisdiction`` may hold (inf if uncapped)."""
    cap = math.inf
    for ctl in c.export_controls:
        if (ctl.target == jurisdiction and year >= ctl.start_year - 1e-9
                and ctl.stock_cap_flop_per_s > 0):
            cap = min(cap, ctl.stock_cap_flop_per_s)
    return cap


# e^600 ~ 4e260: exogenous growth over a long run at a range end (100x a year for two centuries)
# stops there instead of overflowing; no calibrated run comes near it
MAX_LN_GROWTH = 600.0


def gwp(c: Constants, year: float, automated_hours: float = 0.0) -> float:
    """Gross world product (USD/year): the pre-AI trend raised by automation of a share
    ``automated_hours`` of work hours, each automated hour ``automated_task_productivity`` times
    as productive (Amdahl's form: 1 / ((1 - e) + e / x))."""
    base = c.gwp_usd_2023 * math.exp(min(c.log_gwp_growth * (year - c.start_year),
                                         MAX_LN_GROWTH))
    e = automated_hours
    return base / ((1.0 - e) + e / c.automated_task_productivity) if e > 0.0 else base


def spend_rule(c: Constants, state: LabState, year: float, world_product: float) -> float:
    """Compute spending (USD/year): the investors' path or reinvested revenue, whichever is larger
    (smoothly: investors already fund against expected revenue, so the two are not added),
    saturating smoothly at what funders and hyperscalers can supply (a share of GWP)."""
    base = state.spend0 * math.exp(min(c.log_spend_growth * (year - state.entered_year),
                                       MAX_LN_GROWTH))
    wanted = soft_max(base, c.revenue_reinvestment_share * state.revenue)
    return soft_min(wanted, c.max_spend_share_of_gwp * world_product)


def update_revenue(c: Constants, states: list[LabState], world_product: float) -> None:
    """Revenue (USD/year): the captured value of the work hours each lab's system automates,
    shared by serving capacity among the labs that can do that work."""
    serving = [s.share_deployment * s.stock for s in states]
    total = sum(serving)
    pool = c.value_capture_share * world_product
    for state, serve in zip(states, serving):
        # the lab's share first: pool x stock would overflow at a range end's huge economy
        state.revenue = pool * state.economic_automation * (serve / total) if total > 0 else 0.0


def planned_run_flop(state: LabState, months: int) -> float:
    """Physical FLOP a run of ``months`` started now uses if compute keeps its growth."""
    return state.share_training * state.stock * phi(state.growth, months / 12.0) * SECONDS_PER_YEAR


def start_on_balanced_path(c: Constants, state: LabState, price: float, year: float) -> None:
    """Put a lab's stock and spending on the balanced-growth path at ``year`` (its entry)."""
    rel = max(c.balanced_growth + c.depreciation, MIN_BALANCED_RATE)
    state.spend0 = state.stock * rel / price
    state.stock = balanced_stock(state.spend0 * price, rel - c.depreciation, c.depreciation)
    state.growth = c.balanced_growth
    state.spend_now = state.spend_next = state.spend0
    state.entered_year = year


MIN_BALANCED_RATE = 0.01  # 1/year: g + delta floor for a lab's starting balanced-growth path


# -- labour and research ------------------------------------------------------------------------


def research_labour(c: Constants, state: LabState, humans: float,
                    ai: float) -> tuple[float, float, float]:
    """Cognitive labour, its elasticity to AI labour, and the AI share of the work."""
    if state.rnd_handover <= 0.0:  # nothing automated: humans alone (what task_labour returns)
        return humans, 0.0, 0.0
    psi = c.ai_parallel_exponent
    serial = ai ** psi if ai > 0.0 else 0.0  # N copies in parallel do the work of N^psi
    reviewed, e_review = labour.review_limited(serial, humans, state.review_need, c.review_ratio)
    total, e_task = labour.task_labour(humans, reviewed, state.rnd_handover, c.task_rho)
    return total, psi * e_review * e_task, e_task


def research(c: Constants, state: LabState, ln_software: float, humans: float, ai_per_s: float,
             compute_ratio: float) -> tuple[float, float, float]:
    """Research input R/R0, d ln R/d ln S and the AI share of R&D labour at ``ln_software``."""
    total, e_labour, ai_share = research_labour(c, state, humans,
                                                ai_per_s * math.exp(ln_software))
    value, e_research = labour.research_input(total / c.labour0, compute_ratio, c.labour_weight,
                                              c.compute_rho)
    return value, e_labour * e_research, ai_share


def update_research_outputs(c: Constants, state: LabState, humans: float, ai_per_s: float,
                            compute_ratio: float) -> None:
    """Research input, AI labour, unreviewed share and the progress multiplier, now."""
    state.humans = humans
    copies = ai_per_s * math.exp(state.ln_software)
    state.ai_researchers = copies ** c.ai_parallel_exponent if copies > 0.0 else 0.0
    state.research, _, state.ai_share = research(c, state, state.ln_software, humans, ai_per_s,
                                                 compute_ratio)
    state.unreviewed = state.ai_share * (1.0 - state.review_need)
    # AI 2027's definition: the software progress rate against a fixed 2023 humans-only rate
    rate = software.growth_rate(c.rate_per_year, state.research, state.ln_software, c.returns_r,
                                c.beta)
    state.multiplier = rate / c.reference_rate if c.reference_rate > 0 else 1.0


def inference_per_researcher(c: Constants, state: LabState, stock: float) -> float:
    """AI researcher-equivalents per unit of S from internal inference on ``stock`` FLOP/s."""
    return state.share_inference * stock / c.inference_flop_per_s_per_researcher


def experiment_compute_ratio(c: Constants, state: LabState, stock: float) -> float:
    """Experiment compute on ``stock`` against the reference lab's at the start."""
    return state.share_experiments * stock / c.compute0


def hand_over(c: Constants, state: LabState) -> None:
    """Move the work humans still do toward what the deployed system leaves them, by at most
    ``handover_efolds_per_year`` e-folds a year (in log space): organisations hand over review
    and the last R&D tasks over months, so a much stronger system does not take over at once."""
    step = c.handover_floor_per_step
    state.review_need = _toward_in_logs(state.review_need, state.review_need_target, step)
    target_left = 1.0 - state.rnd_handover_target
    if state.rnd_handover_target <= 0.0:
        state.rnd_handover = 0.0
    elif state.rnd_handover <= 0.0:  # first automation: a small share, taken over at once
        state.rnd_handover = state.rnd_handover_target
    else:
        state.rnd_handover = 1.0 - _toward_in_logs(1.0 - state.rnd_handover, target_left, step)


def _toward_in_logs(value: float, target: float, max_step_factor: float) -> float:
    """``value`` moved toward ``target`` (both > 0) by at most a factor ``max_step_factor``
    (``exp(-max_log_step)``: at most that step in ln)."""
    if target >= value or value <= 0.0:
        return target  # more human work (a weaker system, or a lab reset): at once
    if target <= 0.0:
        return value * max_step_factor
    floor = value * max_step_factor
    return target if target >= floor else floor


# -- software -----------------------------------------------------------------------------------


def spillover(ln_software: float, leaders: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """Catch-up of ln S toward linked labs ahead: (rate, d rate / d ln S), 1/year.

    ``leaders`` yields (their ln S, leak rate per year) for each active linked lab."""
    rate = slope = 0.0
    for other, leak in leaders:
        gap = other - ln_software
        if gap > 0:
            rate += leak * gap
            slope -= leak
    return rate, slope


def advance_software(c: Constants, state: LabState, year: float, humans: float, ai_per_s: float,
                     compute_ratio: float, spill: tuple[float, float]) -> list[tuple[float, int]]:
    """Integrate ln S over the step from ``year`` with the exact local power-law solution,
    adaptively. Returns (decimal year, power) for each whole power of ten S crossed."""
    rate_per_year, returns_r, beta, ceiling = (c.rate_per_year, c.returns_r, c.beta,
                                               c.ln_software_ceiling)
    u = state.ln_software
    spill_rate, spill_slope = spill
    remaining, elapsed = c.dt, 0.0
    crossings: list[tuple[float, int]] = []
    for _ in range(MAX_SUBSTEPS_PER_STEP):
        if remaining <= 1e-12 * c.dt or u >= ceiling:
            break
        value, e_research, _ = research(c, state, u, humans, ai_per_s, compute_ratio)
        own = software.growth_rate(rate_per_year, value, u, returns_r, beta)
        k = software.rate_elasticity(e_research, returns_r, beta)
        rate = own + spill_rate
        if rate <= 0.0:
            break
        if spill_rate:
            k = (k * own + spill_slope) / rate
        h = remaining if rate * remaining <= MAX_DU_PER_SUBSTEP else MAX_DU_PER_SUBSTEP / rate
        new = min(software.advance(u, rate, k, h), ceiling)
        before = math.floor(u / LN10 + 1e-12)
        after = math.floor(new / LN10 + 1e-12)
        for power in range(before + 1, after + 1):
            crossings.append((year + elapsed + software.time_to_reach(u, power * LN10, rate, k),
                              power))
        u = new
        elapsed += h
        remaining -= h
    else:
        raise RuntimeError("software integration did not finish the step")
    state.ln_software = u
    return crossings


# -- one step of one lab ------------------------------------------------------------------------


def advance_lab(c: Constants, state: LabState, jurisdiction: str, year: float, p_now: float,
                p_next: float, humans: float,
                spill: tuple[float, float]) -> tuple[float, list[tuple[float, int]]]:
    """Advance one lab's compute stock and software level over the step starting at ``year``.

    ``p_now``/``p_next`` are price-performance at the step's ends (FLOP/s per USD). Returns the
    stock's integral over the step (FLOP/s x years) and the software OOM crossings."""
    buy_now, buy_next = state.spend_now * p_now, state.spend_next * p_next
    if c.export_controls:
        price = export_price_multiplier(c, jurisdiction, year)
        buy_now, buy_next = buy_now / price, buy_next / price
        stock_cap = export_stock_cap(c, jurisdiction, year)
        if state.stock >= stock_cap:  # controls: only replace what wears out
            buy_now = buy_next = c.depreciation * stock_cap
            # investors fund what can be used: the spending path restarts from replacement, so
            # lifting the cap (a move abroad) builds capacity up at the usual pace, not at once
            state.spend0 = buy_now * price / p_now
            state.entered_year = year
    state.growth = (math.log(buy_next / buy_now) / c.dt if buy_now > 0 and buy_next > 0
                    else 0.0)
    end, mid, integral = stock_step(state.stock, buy_now, state.growth, c.depreciation, c.dt)
    ai_per_s = inference_per_researcher(c, state, mid)
    compute_ratio = experiment_compute_ratio(c, state, mid)
    crossings = advance_software(c, state, year, humans, ai_per_s, compute_ratio, spill)
    state.stock = end
    update_research_outputs(c, state, humans, ai_per_s, compute_ratio)
    return integral, crossings


def ln_capacity(state: LabState) -> float:
    """ln(stock x S): the lab's effective compute capacity, whose growth is the pace."""
    return math.log(state.stock) + state.ln_software
