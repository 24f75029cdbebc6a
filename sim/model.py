"""TakeoffModel: monthly agent steps over exact, adaptively sub-stepped continuous dynamics.

Agents decide once a step (a month by default). Between steps the continuous state (compute
stocks, software levels) is integrated with closed forms and adaptive sub-steps, so an explosive
phase inside one month is resolved. Everything recorded goes into preallocated numpy arrays.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.agents import AISystem, Lab, Regulator
from sim.dynamics import capability as cap
from sim.dynamics import labour, software
from sim.dynamics.compute import SECONDS_PER_YEAR, balanced_stock, stock_step
from sim.dynamics.growth import capped_log_growth, phi
from sim.results import LAB_COLUMNS, WORLD_COLUMNS, RunResult, summarise
from sim.scenario import Scenario

LN10 = math.log(10.0)
MAX_DU_PER_SUBSTEP = 0.25  # nats of ln S one sub-step may add (accuracy control when k varies)
MAX_SUBSTEPS_PER_STEP = 100_000  # guard against a runaway loop, far above any real need
AUTOMATION_MILESTONES = (0.2, 0.5, 1.0)
_MULTIPLIER_FLOOR = 1e-12  # humans-only research input floor (relative), keeps multipliers finite
_MIN_BALANCED_RATE = 0.01  # 1/year: g + delta floor for a lab's starting balanced-growth path


class TakeoffModel(mesa.Model):
    """Labs, their AI systems and regulators on calibrated compute, software and capability laws."""

    def __init__(self, spec: Scenario, seed: int = 0):
        super().__init__(rng=seed)
        self.spec = spec
        self.seed = seed
        meta = spec.meta
        self.t0 = meta.start_year
        self.dt = 1.0 / meta.steps_per_year
        self.n_steps = max(1, round((meta.end_year - meta.start_year) * meta.steps_per_year))
        self.year = self.t0
        self.step_index = 0
        self.events: list[tuple[float, str, int, float, str]] = []
        self._init_constants()
        self.labs = Lab.create_agents(self, len(spec.labs), list(range(len(spec.labs))),
                                      list(spec.labs))
        self.lab_list: list[Lab] = sorted(self.labs, key=lambda lab: lab.index)
        self.regulators = {r.jurisdiction: Regulator(self, r.jurisdiction, r.reporting_threshold_flop)
                           for r in spec.regulators}
        self.neighbours = self._spillover_neighbours()
        self._init_labs()
        rows = self.n_steps + 1
        self.world = np.zeros((rows, len(WORLD_COLUMNS)))
        self.lab_rows = np.zeros((rows, len(self.lab_list), len(LAB_COLUMNS)))
        self.cum_hazard = 0.0
        self._record(0)

    # -- set-up -----------------------------------------------------------------------------

    def _init_constants(self) -> None:
        sc = self.spec
        hw, inv, sw, lab = sc.hardware, sc.investment, sc.software, sc.labour
        self.log_pp_growth = math.log(hw.price_performance_growth_per_year)
        self.log_util_growth = math.log(hw.utilisation_growth_per_year)
        self.log_spend_growth = math.log(inv.spend_growth_per_year)
        self.log_gwp_growth = math.log(inv.gwp_growth_per_year)
        self.log_researcher_growth = math.log(lab.researcher_growth_per_year)
        self.lam = sw.returns_r * sw.beta
        self.log_s_ceiling = sw.ceiling_oom * LN10
        self.ref_log10_flop = math.log10(sc.capability.reference_training_flop)
        rnd = [t for t in sc.tasks if not t.review]
        review = next(t for t in sc.tasks if t.review)
        self.task_names = [t.name for t in rnd]
        w = np.array([t.weight for t in rnd], dtype=float)
        self.task_weight = w / w.sum()
        self.task_lo = [t.task_hours_min for t in rnd]
        self.task_hi = [t.task_hours_max for t in rnd]
        self.review_lo, self.review_hi = [review.task_hours_min], [review.task_hours_max]
        c = sc.capability
        self.econ_lo, self.econ_hi = [c.economy_task_hours_min], [c.economy_task_hours_max]

    def _spillover_neighbours(self) -> list[list[tuple[Lab, float]]]:
        by_name = {lab.name: lab for lab in self.lab_list}
        out: list[list[tuple[Lab, float]]] = [[] for _ in self.lab_list]
        rate = self.spec.networks.spillover_rate_per_year
        for e in self.spec.networks.spillover:
            a, b = by_name[e.source], by_name[e.target]
            if a is not b and e.weight * rate > 0:
                out[a.index].append((b, e.weight * rate))
                out[b.index].append((a, e.weight * rate))
        return out

    def _init_labs(self) -> None:
        g0 = self.log_spend_growth + self.log_pp_growth + self.log_util_growth
        depreciation = self.spec.hardware.depreciation_per_year
        rel = max(g0 + depreciation, _MIN_BALANCED_RATE)
        price = self.price_performance(self.t0)
        for lab in self.lab_list:
            # Start on the balanced-growth path: spending that sustains the stock's growth.
            lab.spend0 = lab.stock * rel / price
            lab.stock = balanced_stock(lab.spend0 * price, rel - depreciation, depreciation)
            lab.growth = g0
            lab.spend_now = lab.spend_next = lab.spend0
            lab.rnd_auto = np.zeros(len(self.task_names))
            flop = lab.spec.initial_system_flop
            self.deploy(lab, flop, flop)
        # Research input is normalised to the lab with the largest compute at start (R/R0 = 1).
        ref = max(self.lab_list, key=lambda lab: (lab.stock, -lab.index))
        self.labour0 = 1.0
        self.compute0 = 1.0
        per_s = ref.s_inf * ref.stock / self.spec.labour.inference_flop_per_s_per_researcher
        self.labour0 = max(self._labour(ref, ref.humans, per_s)[0], 1e-300)
        self.compute0 = max(ref.s_exp * ref.stock, 1e-300)
        for lab in self.lab_list:
            per_s = lab.s_inf * lab.stock / self.spec.labour.inference_flop_per_s_per_researcher
            self._research_outputs(lab, lab.humans, per_s, lab.s_exp * lab.stock / self.compute0)

    # -- rules the agents call ------------------------------------------------------------

    def price_performance(self, year: float) -> float:
        """Effective FLOP/s bought per USD at ``year``: hardware x utilisation, each capped."""
        hw = self.spec.hardware
        tau = year - self.t0
        log_p = (math.log(hw.flop_per_s_per_usd_2023)
                 + capped_log_growth(tau, self.log_pp_growth, hw.price_performance_ceiling_oom * LN10)
                 + capped_log_growth(tau, self.log_util_growth, hw.utilisation_ceiling_oom * LN10))
        return math.exp(log_p)

    def gwp(self, year: float) -> float:
        """Gross world product (USD/year) without AI feedback."""
        return self.spec.investment.gwp_usd_2023 * math.exp(self.log_gwp_growth * (year - self.t0))

    def spend_rule(self, lab: Lab, year: float) -> float:
        """Compute spending (USD/year): investor-driven growth until reinvested revenue exceeds
        it, capped at a share of gross world product."""
        inv = self.spec.investment
        base = lab.spend0 * math.exp(self.log_spend_growth * (year - self.t0))
        wanted = max(base, inv.revenue_reinvestment_share * lab.revenue)
        return min(wanted, inv.max_spend_share_of_gwp * self.gwp(year))

    def planned_run_flop(self, lab: Lab, months: int) -> float:
        """Physical FLOP a run of ``months`` started now uses if compute keeps its growth."""
        return lab.s_train * lab.stock * phi(lab.growth, months / 12.0) * SECONDS_PER_YEAR

    def regulator_for(self, jurisdiction: str) -> Regulator | None:
        return self.regulators.get(jurisdiction)

    def log_event(self, kind: str, lab: int, value: float, detail: str = "",
                  year: float | None = None) -> None:
        self.events.append((self.year if year is None else year, kind, lab, float(value), detail))

    def deploy(self, lab: Lab, physical: float, effective: float) -> AISystem:
        """Make the AISystem of a finished run; the lab serves it if it beats the one it has."""
        c = self.spec.capability
        horizon = cap.horizon_minutes(math.log10(effective), self.ref_log10_flop,
                                      c.reference_horizon_minutes, c.oom_per_horizon_doubling)
        rel = c.automation_reliability
        auto = cap.automated_fraction(horizon, rel, self.task_lo, self.task_hi)
        review = float(cap.automated_fraction(horizon, rel, self.review_lo, self.review_hi)[0])
        econ = float(cap.automated_fraction(horizon, rel, self.econ_lo, self.econ_hi)[0])
        system = AISystem(self, lab, lab.generation, self.year, physical, effective, horizon, auto,
                          review, econ)
        if effective >= lab.best_effective:
            lab.deployed = system
            lab.best_physical, lab.best_effective, lab.horizon = physical, effective, horizon
            lab.rnd_auto = auto
            lab.rnd_mass = 1.0 if bool(np.all(auto >= 1.0)) else float(auto @ self.task_weight)
            lab.review_auto, lab.econ_auto = review, econ
            self._milestone_events(lab, system)
        return system

    def _milestone_events(self, lab: Lab, system: AISystem) -> None:
        for level in AUTOMATION_MILESTONES:
            if level not in lab.milestones and lab.rnd_mass >= level:
                lab.milestones.add(level)
                self.log_event("rnd_automation", lab.index, level,
                               f"{lab.rnd_mass:.3f} of AI R&D automated")
        if not lab.trains_successor and system.trains_successor:
            lab.trains_successor = True
            self.log_event("successor_training", lab.index, system.effective_flop,
                           f"generation {system.generation} can train its successor autonomously")

    # -- continuous dynamics ----------------------------------------------------------------

    def _labour(self, lab: Lab, humans: float, ai: float) -> tuple[float, float]:
        """Cognitive labour (researcher-equivalents) and its elasticity to AI labour."""
        p = self.spec.labour
        reviewed, e_review = labour.review_limited(ai, humans, lab.review_auto, p.review_ratio)
        total, e_task = labour.task_labour(humans, reviewed, lab.rnd_mass, p.task_rho)
        return total, e_review * e_task

    def _research(self, lab: Lab, log_s: float, humans: float, ai_per_s: float,
                  compute_ratio: float) -> tuple[float, float]:
        """Research input R/R0 and d ln R/d ln S at software level ``log_s``."""
        sw = self.spec.software
        total, e_labour = self._labour(lab, humans, ai_per_s * math.exp(log_s))
        research, e_research = labour.research_input(total / self.labour0, compute_ratio,
                                                     sw.labour_weight, sw.compute_rho)
        return research, e_labour * e_research

    def _research_outputs(self, lab: Lab, humans: float, ai_per_s: float,
                          compute_ratio: float) -> None:
        """Record research input, AI labour and the progress multiplier vs humans alone."""
        sw = self.spec.software
        lab.humans = humans
        lab.ai_researchers = ai_per_s * math.exp(lab.log_s)
        lab.research = self._research(lab, lab.log_s, humans, ai_per_s, compute_ratio)[0]
        human_only = labour.research_input(humans / self.labour0, compute_ratio, sw.labour_weight,
                                           sw.compute_rho)[0]
        floor = max(human_only, _MULTIPLIER_FLOOR * lab.research, 1e-300)
        lab.multiplier = (lab.research / floor) ** self.lam if lab.research > 0 else 1.0

    def _catch_up(self, lab: Lab) -> tuple[float, float]:
        """Spillover: ln S catches up with linked leaders; returns (rate, d rate/d ln S)."""
        rate = slope = 0.0
        for other, weight in self.neighbours[lab.index]:
            gap = other.log_s - lab.log_s
            if gap > 0:
                rate += weight * gap
                slope -= weight
        return rate, slope

    def _advance_software(self, lab: Lab, humans: float, ai_per_s: float, compute_ratio: float,
                          catch_up: tuple[float, float]) -> None:
        """Integrate ln S over one step with the exact local power-law solution, adaptively."""
        sw = self.spec.software
        ceiling = self.log_s_ceiling
        u = lab.log_s
        spill, spill_slope = catch_up
        remaining, elapsed = self.dt, 0.0
        for _ in range(MAX_SUBSTEPS_PER_STEP):
            if remaining <= 1e-12 * self.dt or u >= ceiling:
                break
            research, e_research = self._research(lab, u, humans, ai_per_s, compute_ratio)
            own = software.growth_rate(sw.rate_per_year, research, u, sw.returns_r, sw.beta)
            k = software.rate_elasticity(e_research, sw.returns_r, sw.beta)
            rate = own + spill
            if rate <= 0.0:
                break
            if spill:
                k = (k * own + spill_slope) / rate
            h = remaining if rate * remaining <= MAX_DU_PER_SUBSTEP else MAX_DU_PER_SUBSTEP / rate
            new = min(software.advance(u, rate, k, h), ceiling)
            self._software_events(lab, u, new, rate, k, elapsed)
            u = new
            elapsed += h
            remaining -= h
        else:
            raise RuntimeError("software integration did not finish the step")
        lab.log_s = u

    def _software_events(self, lab: Lab, old: float, new: float, rate: float, k: float,
                         elapsed: float) -> None:
        """Log ``software_oom`` at the exact time S first crosses each whole power of ten."""
        before = math.floor(old / LN10 + 1e-12)
        after = math.floor(new / LN10 + 1e-12)
        for power in range(before + 1, after + 1):
            tau = software.time_to_reach(old, power * LN10, rate, k)
            self.log_event("software_oom", lab.index, power, f"S = 1e{power}",
                           year=self.year + elapsed + tau)

    def advance(self) -> None:
        """Integrate compute stocks, training runs and software levels over one step."""
        dt, t = self.dt, self.year
        p = self.spec
        depreciation = p.hardware.depreciation_per_year
        p_now, p_next = self.price_performance(t), self.price_performance(t + dt)
        humans_growth = math.exp(self.log_researcher_growth * (t + dt / 2 - self.t0))
        per_researcher = p.labour.inference_flop_per_s_per_researcher
        catch_ups = [self._catch_up(lab) for lab in self.lab_list]
        for lab, catch_up in zip(self.lab_list, catch_ups):
            buy_now, buy_next = lab.spend_now * p_now, lab.spend_next * p_next
            lab.growth = math.log(buy_next / buy_now) / dt if buy_now > 0 and buy_next > 0 else 0.0
            end, mid, integral = stock_step(lab.stock, buy_now, lab.growth, depreciation, dt)
            if lab.training:
                lab.run_flop += lab.s_train * integral * SECONDS_PER_YEAR
            humans = lab.spec.researchers * humans_growth
            ai_per_s = lab.s_inf * mid / per_researcher
            compute_ratio = lab.s_exp * mid / self.compute0
            self._advance_software(lab, humans, ai_per_s, compute_ratio, catch_up)
            lab.stock = end
            self._research_outputs(lab, humans, ai_per_s, compute_ratio)
        self.year = self.t0 + (self.step_index + 1) * dt

    def update_revenue(self) -> None:
        """Revenue (USD/year): captured value of automated work, split by serving capacity."""
        inv = self.spec.investment
        serving = [lab.s_dep * lab.stock for lab in self.lab_list]
        total = sum(serving)
        pool = inv.value_capture_share * self.gwp(self.year)
        for lab, serve in zip(self.lab_list, serving):
            lab.revenue = pool * lab.econ_auto * serve / total if total > 0 else 0.0

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """One month: regulators look, labs decide, the world advances, finished runs deploy."""
        self.update_revenue()
        for regulator in self.regulators.values():
            regulator.observe()
        self.labs.shuffle_do("decide")
        self.advance()
        for lab in self.lab_list:
            lab.finish_run()
        self.step_index += 1
        self._record(self.step_index)

    def run(self) -> RunResult:
        """Run to the scenario's end year and return the recorded result."""
        for _ in range(self.n_steps):
            self.step()
        return summarise(self)

    # -- recording --------------------------------------------------------------------------

    def _record(self, row: int) -> None:
        risk, s = self.spec.risk, self.spec.scaling
        labs = self.lab_list
        frontier = max(labs, key=lambda lab: (lab.best_effective, -lab.index))
        log10_e = math.log10(frontier.best_effective)
        lookback = min(row, self.spec.meta.steps_per_year)
        pace = 0.0
        if lookback > 0:
            past = self.world[row - lookback, 2]  # frontier_effective_flop
            pace = (log10_e - math.log10(past)) / (lookback * self.dt)
        hazard = cap.hazard_per_year(log10_e, self.ref_log10_flop, risk.hazard_per_year_2023,
                                     risk.hazard_growth_per_oom, pace, risk.oversight_oom_per_year,
                                     risk.pace_exponent)
        if row > 0:
            self.cum_hazard += hazard * self.dt
        best_physical = rnd = review = mult = log_s = econ = 0.0
        stock = spend = revenue = ai = humans = 0.0
        successor = False
        rows = self.lab_rows[row]
        for lab in labs:
            best_physical = max(best_physical, lab.best_physical)
            rnd = max(rnd, lab.rnd_mass)
            review = max(review, lab.review_auto)
            mult = max(mult, lab.multiplier)
            log_s = max(log_s, lab.log_s)
            econ = max(econ, lab.econ_auto)
            stock += lab.stock
            spend += lab.spend_now
            revenue += lab.revenue
            ai += lab.ai_researchers
            humans += lab.humans
            successor = successor or lab.trains_successor
            rows[lab.index] = (
                lab.stock, lab.spend_now, lab.revenue, math.exp(lab.log_s), lab.best_physical,
                lab.best_effective, lab.horizon, lab.rnd_mass, lab.review_auto, lab.econ_auto,
                lab.multiplier, lab.humans, lab.ai_researchers, lab.research,
            )
        self.world[row] = (
            self.year, best_physical, frontier.best_effective, frontier.horizon, rnd, review, mult,
            math.exp(log_s), econ, stock, spend, revenue, ai, humans, hazard,
            -math.expm1(-self.cum_hazard),
            cap.chinchilla_optimal_loss(frontier.best_effective, s.E, s.A, s.B, s.alpha, s.beta),
            float(successor),
        )


def simulate(spec: Scenario, seed: int = 0) -> RunResult:
    """Run a scenario once: the public entry point shared by the CLI, sweeps and dashboards."""
    return TakeoffModel(spec, seed=seed).run()
