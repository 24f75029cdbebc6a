"""The continuous half of the model: prices, spending, compute stocks, labour, software.

A mixin of ``TakeoffModel``: these methods integrate the state between agent steps with the pure
functions of ``sim/dynamics`` (closed forms and the exact local software solution).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ixsim.sim.dynamics import labour, software
from ixsim.sim.dynamics.compute import SECONDS_PER_YEAR, stock_step
from ixsim.sim.dynamics.growth import capped_log_growth, phi

if TYPE_CHECKING:
    from ixsim.sim.agents import Lab

LN10 = math.log(10.0)
MAX_DU_PER_SUBSTEP = 0.25  # nats of ln S one sub-step may add (accuracy control when k varies)
MAX_SUBSTEPS_PER_STEP = 100_000  # guard against a runaway loop, far above any real need
_MULTIPLIER_FLOOR = 1e-12  # humans-only research input floor (relative), keeps multipliers finite


class ContinuousDynamics:
    """Prices, spending, compute, labour and software for ``TakeoffModel``."""

    # -- prices and money --------------------------------------------------------------------

    def price_performance(self, year: float) -> float:
        """Effective FLOP/s bought per USD at ``year``: hardware x utilisation, each capped."""
        hw = self.spec.hardware
        tau = year - self.t0
        log_p = (math.log(hw.flop_per_s_per_usd_2023)
                 + capped_log_growth(tau, self.log_pp_growth, hw.price_performance_ceiling_oom * LN10)
                 + capped_log_growth(tau, self.log_util_growth, hw.utilisation_ceiling_oom * LN10))
        return math.exp(log_p)

    def export_price_multiplier(self, jurisdiction: str, year: float | None = None) -> float:
        """How much more compute costs in ``jurisdiction`` under export controls (1 if none)."""
        year = self.year if year is None else year
        factor = 1.0
        for ctl in self.spec.export_controls:
            if ctl.target == jurisdiction and year >= ctl.start_year - 1e-9:
                factor *= ctl.price_multiplier
        return factor

    def export_stock_cap(self, jurisdiction: str) -> float:
        """Largest compute stock (FLOP/s) a lab in ``jurisdiction`` may hold (inf if uncapped)."""
        cap = math.inf
        for ctl in self.spec.export_controls:
            if (ctl.target == jurisdiction and self.year >= ctl.start_year - 1e-9
                    and ctl.stock_cap_flop_per_s > 0):
                cap = min(cap, ctl.stock_cap_flop_per_s)
        return cap

    def gwp(self, year: float) -> float:
        """Gross world product (USD/year) without AI feedback (memoised: asked twice per lab)."""
        cached = self._gwp_cache.get(year)
        if cached is None:
            if len(self._gwp_cache) > 4:
                self._gwp_cache.clear()
            cached = self._gwp_cache[year] = self.spec.investment.gwp_usd_2023 * math.exp(
                self.log_gwp_growth * (year - self.t0))
        return cached

    def spend_rule(self, lab: Lab, year: float) -> float:
        """Compute spending (USD/year): investor-driven growth until reinvested revenue exceeds
        it, capped at a share of gross world product."""
        inv = self.spec.investment
        base = lab.spend0 * math.exp(self.log_spend_growth * (year - lab.entered_year))
        wanted = max(base, inv.revenue_reinvestment_share * lab.revenue)
        cap = inv.max_spend_share_of_gwp * self.gwp(year)
        return wanted if wanted < cap else cap

    def update_revenue(self) -> None:
        """Revenue (USD/year): captured value of automated work, split by serving capacity."""
        inv = self.spec.investment
        labs = self.active_labs
        serving = [lab.s_dep * lab.stock for lab in labs]
        total = sum(serving)
        pool = inv.value_capture_share * self.gwp(self.year)
        for lab, serve in zip(labs, serving):
            lab.revenue = pool * lab.econ_auto * serve / total if total > 0 else 0.0

    def planned_run_flop(self, lab: Lab, months: int) -> float:
        """Physical FLOP a run of ``months`` started now uses if compute keeps its growth."""
        return lab.s_train * lab.stock * phi(lab.growth, months / 12.0) * SECONDS_PER_YEAR

    # -- labour and research -----------------------------------------------------------------

    def _labour(self, lab: Lab, humans: float, ai: float) -> tuple[float, float, float]:
        """Cognitive labour, its elasticity to AI labour, and the AI share of the work."""
        if lab.rnd_mass <= 0.0:  # nothing automated: humans alone (what task_labour returns)
            return humans, 0.0, 0.0
        reviewed, e_review = labour.review_limited(ai, humans, lab.review_auto, self.review_ratio)
        total, e_task = labour.task_labour(humans, reviewed, lab.rnd_mass, self.task_rho)
        return total, e_review * e_task, e_task

    def _research(self, lab: Lab, log_s: float, humans: float, ai_per_s: float,
                  compute_ratio: float) -> tuple[float, float, float]:
        """Research input R/R0, d ln R/d ln S and the AI share of R&D labour at ``log_s``."""
        total, e_labour, ai_share = self._labour(lab, humans, ai_per_s * math.exp(log_s))
        research, e_research = labour.research_input(total / self.labour0, compute_ratio,
                                                     self.labour_weight, self.compute_rho)
        return research, e_labour * e_research, ai_share

    def _research_outputs(self, lab: Lab, humans: float, ai_per_s: float,
                          compute_ratio: float) -> None:
        """Research input, AI labour, unreviewed share and the progress multiplier."""
        lab.humans = humans
        lab.ai_researchers = ai_per_s * math.exp(lab.log_s)
        lab.research, _, lab.ai_share = self._research(lab, lab.log_s, humans, ai_per_s,
                                                       compute_ratio)
        lab.unreviewed = lab.ai_share * lab.review_auto
        if lab.rnd_mass <= 0.0:  # humans alone already
            lab.multiplier = 1.0
            return
        human_only = labour.research_input(humans / self.labour0, compute_ratio,
                                           self.labour_weight, self.compute_rho)[0]
        floor = max(human_only, _MULTIPLIER_FLOOR * lab.research, 1e-300)
        lab.multiplier = (lab.research / floor) ** self.lam if lab.research > 0 else 1.0

    # -- software ------------------------------------------------------------------------------

    def _catch_up(self, lab: Lab) -> tuple[float, float]:
        """Spillover: ln S moves toward linked leaders in proportion to their openness.

        Returns (rate, d rate/d ln S) in 1/year."""
        rate = slope = 0.0
        espionage = self.spec.networks.espionage
        for other, weight in self.spill_neighbours[lab.index]:
            gap = other.log_s - lab.log_s
            if gap > 0 and other.active:
                leak = weight * (other.strategy.openness + espionage)
                rate += leak * gap
                slope -= leak
        return rate, slope

    def _advance_software(self, lab: Lab, humans: float, ai_per_s: float, compute_ratio: float,
                          catch_up: tuple[float, float]) -> None:
        """Integrate ln S over one step with the exact local power-law solution, adaptively."""
        rate_per_year, returns_r, beta = self.rate_per_year, self.returns_r, self.beta
        ceiling = self.log_s_ceiling
        u = lab.log_s
        spill, spill_slope = catch_up
        remaining, elapsed = self.dt, 0.0
        for _ in range(MAX_SUBSTEPS_PER_STEP):
            if remaining <= 1e-12 * self.dt or u >= ceiling:
                break
            research, e_research, _ = self._research(lab, u, humans, ai_per_s, compute_ratio)
            own = software.growth_rate(rate_per_year, research, u, returns_r, beta)
            k = software.rate_elasticity(e_research, returns_r, beta)
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

    # -- one step of the continuous state -----------------------------------------------------

    def advance(self) -> None:
        """Integrate compute stocks, training runs and software levels over one step."""
        dt, t = self.dt, self.year
        p = self.spec
        depreciation = p.hardware.depreciation_per_year
        p_now, p_next = self.price_performance(t), self.price_performance(t + dt)
        humans_growth = math.exp(self.log_researcher_growth * (t + dt / 2 - self.t0))
        per_researcher = p.labour.inference_flop_per_s_per_researcher
        labs = self.active_labs
        catch_ups = [self._catch_up(lab) for lab in labs]
        controls = self.spec.export_controls
        for lab, catch_up in zip(labs, catch_ups):
            buy_now, buy_next = lab.spend_now * p_now, lab.spend_next * p_next
            if controls:
                price = self.export_price_multiplier(lab.jurisdiction)
                buy_now, buy_next = buy_now / price, buy_next / price
                stock_cap = self.export_stock_cap(lab.jurisdiction)
                if lab.stock >= stock_cap:  # controls: only replace what wears out
                    buy_now = buy_next = depreciation * stock_cap
            lab.growth = math.log(buy_next / buy_now) / dt if buy_now > 0 and buy_next > 0 else 0.0
            end, mid, integral = stock_step(lab.stock, buy_now, lab.growth, depreciation, dt)
            if lab.training and self.step_index >= lab.run_from_step:
                lab.run_flop += lab.s_train * lab.run_scale * integral * SECONDS_PER_YEAR
            humans = lab.spec.researchers * humans_growth
            ai_per_s = lab.s_inf * mid / per_researcher
            compute_ratio = lab.s_exp * mid / self.compute0
            self._advance_software(lab, humans, ai_per_s, compute_ratio, catch_up)
            lab.stock = end
            self._research_outputs(lab, humans, ai_per_s, compute_ratio)
        self.year = self.t0 + (self.step_index + 1) * dt
