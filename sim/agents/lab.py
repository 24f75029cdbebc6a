"""A lab: splits its compute by strategy and race, schedules training runs, answers binding rules
by complying, relocating or evading (by expected cost), and deploys the systems it trains."""

from __future__ import annotations

import math

import mesa

from ixsim.sim import continuous as dyn
from ixsim.sim.agents.regulator import PAUSE
from ixsim.sim.dynamics.growth import MIN_PACE_OOM_PER_YEAR
from ixsim.sim.events import EventKind
from ixsim.sim.kernel import plan_spending
from ixsim.sim.schema.actors import Strategy


RACE_DEPLOYMENT_SHIFT = 0.5  # assumption: a lab racing flat out moves up to half its serving
# compute into training and experiments (it delays products, not safety alone)
RACE_RUN_CUT = 0.5  # assumption: and cuts its training runs by up to half to deploy sooner


class Lab(mesa.Agent):
    """One AI lab: its decisions, and the state the model's dynamics advance for it."""

    def __init__(self, model: mesa.Model, index: int, spec, strategy: Strategy):
        super().__init__(model)
        self.index = index
        self.spec = spec
        self.strategy = strategy
        self.name = spec.name
        self.jurisdiction = spec.jurisdiction
        self.active = spec.entry_year <= model.t0
        # continuous state, advanced by the model's dynamics (``sim/continuous.py``)
        self.state = dyn.LabState(stock=spec.compute_flop_per_s, humans=spec.researchers)
        # compute split (set each month by ``split_compute``)
        self.safety_share = strategy.safety_share
        self.race_push = 0.0  # race_response x closeness of the nearest rival, 0..1
        self._split_for: tuple[float, bool] | None = None  # split_compute's last arguments
        self.split_compute(0.0)
        self.hazard = 0.0  # incident hazard, 1/year
        # the deployed system's capability
        self.deployed = None
        self.best_physical = self.best_effective = self.horizon = 0.0  # FLOP, FLOP, minutes
        self.log10_effective = -math.inf  # log10 of best_effective (set with it, on deploy)
        self.rnd_auto: list[float] = []  # automated share of each R&D category
        self.milestones: set[float] = set()
        self.trains_successor = False
        # training runs and rule responses
        self.generation = 0
        self.training = False
        self.run_from_step = 0  # first step that accrues compute (after approval delays)
        self.run_end_step = -1
        self.run_ln_software = 0.0  # ln S when the run was planned: the recipe it trains with
        self.run_flop = 0.0  # physical FLOP so far
        self.run_scale = 1.0  # fraction of training compute a capped run may use
        self.run_cap = math.inf  # FLOP a capped run may reach
        self.relocating_to: str | None = None
        self.evading = False  # ignores its jurisdiction's rules (set when it chooses to evade)
        self.relocated_year = 0.0
        # compute a move abroad leaves behind, in OOM (what respond weighs in months)
        self.relocation_loss_oom = -math.log10(
            1.0 - min(model.spec.responses.relocation_compute_share, 0.999999))

    # -- monthly decisions -----------------------------------------------------------------

    def split_compute(self, closeness: float, paused: bool = False) -> None:
        """Racing moves compute from safety and from serving customers into training and
        experiments (``race_response`` x closeness of the nearest rival); a pause in force
        idles experiment compute (the rules cover experiments, not only training runs)."""
        if (closeness, paused) == self._split_for:
            return  # the split depends on these alone: it is last month's
        self._split_for = (closeness, paused)
        st = self.strategy
        push = self.race_push = st.race_response * closeness
        self.safety_share = st.safety_share * (1.0 - push)
        rest = 1.0 - self.safety_share
        sh, state = st.shares, self.state
        moved = sh.deployment * push * RACE_DEPLOYMENT_SHIFT  # serving capacity given up
        grow = (sh.training + sh.experiments)
        training = sh.training + (moved * sh.training / grow if grow > 0 else 0.0)
        experiments = sh.experiments + (moved * sh.experiments / grow if grow > 0 else 0.0)
        state.share_training, state.share_experiments = rest * training, rest * experiments
        state.share_inference = rest * sh.internal_inference
        state.share_deployment = rest * (sh.deployment - moved)
        if paused:
            state.share_experiments = 0.0

    def decide(self) -> None:
        """Monthly: enter if due, set the compute split and spending, move, start a run."""
        m = self.model
        if not self.active:
            if m.year < self.spec.entry_year - 1e-9:
                return
            m.enter(self)
        gap = m.rival_gaps.get(self.index, math.inf)  # m.rival_gap_months(self)
        regulator = m.regulators.get(self.jurisdiction)  # m.regulator_for(self.jurisdiction)
        # regulator.pauses(), without its call
        paused = regulator is not None and regulator.level >= PAUSE and not self.evading
        closeness = 1.0 - gap / self.strategy.race_window_months
        closeness = closeness if closeness > 0.0 else 0.0  # max(0.0, closeness)
        if (closeness, paused) != self._split_for:  # most months: last month's split stands
            self.split_compute(closeness, paused)
        if paused:  # no new compute while paused: spending replaces what wears out
            st, c = self.state, m.constants
            st.spend_now = st.spend_next = c.depreciation * st.stock / m.compute_price(self)
            st.spend0, st.entered_year = st.spend_now, m.year
        else:
            # spend_rule now and at the step's end; build-out bounds how fast spending can rise
            # (data centres and power take years): fused in sim/kernel.py
            next_year = m.year + m.dt
            next_world_product = m._gwp.get(next_year)  # m.gwp_at's memo, without its call
            if next_world_product is None:
                next_world_product = m.gwp_at(next_year)
            plan_spending(m.constants, self.state, m.year, m.world_product, next_year,
                          next_world_product)
        if self.relocating_to is not None:
            if m.year < self.relocated_year - 1e-9:
                return
            m.log_event(EventKind.RELOCATED, self.index, 0.0, jurisdiction=self.relocating_to,
                        detail=f"{self.jurisdiction} -> {self.relocating_to}")
            self.jurisdiction, self.relocating_to = self.relocating_to, None
            m.roster_changes += 1
        if not self.training:
            self.start_run()

    def run_length_months(self) -> int:
        """Runs restart monthly once the lab's AI trains its successor without humans; a racing
        lab cuts its runs short (by up to ``RACE_RUN_CUT`` at full push) to deploy sooner."""
        st = self.strategy
        months = st.autonomous_run_months if self.trains_successor else st.run_months
        return max(1, round(months * (1.0 - RACE_RUN_CUT * self.race_push)))

    def start_run(self) -> None:
        """Plan the next run, settle what the rules demand, report it, and begin."""
        m = self.model
        self.evading = False  # decided afresh for each run
        months = self.run_length_months()
        planned = dyn.planned_run_flop(self.state, months)
        regulator = m.regulators.get(self.jurisdiction)  # m.regulator_for(self.jurisdiction)
        delay, cap = regulator.terms(planned) if regulator is not None else (0.0, math.inf)
        if delay > 0 or cap < planned:
            choice, target = self.respond(planned, delay, cap)
            if choice == "relocate":
                self.begin_relocation(target)
                return
            if choice == "evade":
                self.evading = True
                m.log_event(EventKind.EVASION, self.index, planned, jurisdiction=self.jurisdiction,
                            detail=f"ignores {self.jurisdiction} rules")
                if m.uniform() < regulator.detection_for(self):
                    lost = regulator.spec.penalty_compute_share
                    self.state.stock *= 1.0 - lost
                    regulator.watched.add(self.index)
                    m.log_event(EventKind.EVASION_DETECTED, self.index, lost,
                                jurisdiction=self.jurisdiction,
                                detail=f"{self.jurisdiction} seizes {lost:.0%} of compute")
                    return
                delay, cap = 0.0, math.inf
        self.training = True
        # delays and run lengths are in time, not steps: m.steps_in of each, without its call
        dt = m.dt
        waits = int(round(delay / 12.0 / dt + 1e-9))
        self.run_from_step = m.step_index + waits
        steps = int(round(months / 12.0 / dt + 1e-9))
        self.run_end_step = self.run_from_step + (steps if steps > 1 else 1)
        self.run_ln_software = self.state.ln_software
        self.run_flop = 0.0
        at_start = planned * math.exp(self.state.growth * waits * dt)  # compute grows while it waits
        self.run_scale = min(1.0, cap / at_start) if at_start > 0 else 1.0
        self.run_cap = cap  # FLOP: the run stops accruing there even if the split shifts
        governed = at_start * self.run_scale
        m.log_event(EventKind.TRAINING_RUN_STARTED, self.index, governed,
                    jurisdiction=self.jurisdiction, detail=f"generation {self.generation + 1}")
        if regulator is not None:
            regulator.review_run(self, governed)

    # -- answering a binding rule ----------------------------------------------------------

    def rule_cost_months(self, planned: float, delay: float, cap: float,
                         regulator=None) -> float:
        """Progress given up by complying: the delay plus the capped compute, in months, at
        most the expected wait for the rule's repeal."""
        return _rule_cost(planned, delay, cap, regulator, _floored_pace(self.model))

    def respond(self, planned: float, delay: float, cap: float) -> tuple[str, str | None]:
        """Comply, relocate or evade: whichever costs the fewest expected months of progress
        (ties: comply, then relocate, then evade; between moves, the first jurisdiction by
        name)."""
        m = self.model
        responses = m.spec.responses
        here = m.regulator_for(self.jurisdiction)
        pace = _floored_pace(m)  # months of progress of x OOM: 12 x / pace (months_of_progress)
        comply = _rule_cost(planned, delay, cap, here, pace)
        # (cost, rank, target or "", choice, target): plain tuple order is the tie-break above
        options: list[tuple[float, int, str, str, str | None]] = [
            (comply, 0, "", "comply", None)]
        move = responses.relocation_months + 12.0 * self.relocation_loss_oom / pace
        price_here = m.export_terms(self.jurisdiction)[0]  # export_price_multiplier
        for regulator in m.regulators.values():
            target = regulator.jurisdiction
            if target == self.jurisdiction:
                continue
            price = m.export_terms(target)[0] / price_here  # < 1: cheaper compute there
            cost = (move + _rule_cost(planned, *regulator.terms(planned), regulator, pace)
                    + 12.0 * math.log10(price) / pace)
            options.append((cost, 1, target, "relocate", target))
        penalty = 12.0 * here.penalty_oom / pace
        # a caught evader loses the penalty and the run itself (worth the compliance cost)
        evade = (here.detection_for(self) * (penalty + comply)
                 + self.strategy.law_abidance_months)
        options.append((evade, 2, "", "evade", None))
        cost, _, _, choice, target = min(options)
        m.log_event(EventKind.RULE_RESPONSE, self.index, cost, jurisdiction=target or self.jurisdiction,
                    detail=f"{choice}" + (f" to {target}" if target else "")
                    + f" ({self.jurisdiction} rules bind)")
        return choice, target

    def begin_relocation(self, target: str) -> None:
        m = self.model
        responses = m.spec.responses
        self.state.stock *= 1.0 - responses.relocation_compute_share
        self.relocating_to = target
        self.relocated_year = m.year + responses.relocation_months / 12.0
        m.log_event(EventKind.RELOCATION_STARTED, self.index, responses.relocation_months,
                    jurisdiction=target, detail=f"{self.jurisdiction} -> {target}")

    # -- finishing runs ----------------------------------------------------------------------

    def finish_run(self) -> None:
        """Deploy the run's system once the run has ended."""
        m = self.model
        if not self.training or m.step_index + 1 < self.run_end_step:  # after its months of compute
            return
        self.training = False
        self.generation += 1
        m.log_event(EventKind.TRAINING_RUN_FINISHED, self.index, self.run_flop,
                    jurisdiction=self.jurisdiction, detail=f"generation {self.generation}")
        if self.run_flop > 0:
            m.deploy(self, self.run_flop, self.run_flop * math.exp(self.run_ln_software))


def _floored_pace(model) -> float:
    """The frontier's pace as ``oom_to_months`` floors it (OOM/year)."""
    return max(model.pace_oom_per_year, MIN_PACE_OOM_PER_YEAR)


def _rule_cost(planned: float, delay: float, cap: float, regulator, pace: float) -> float:
    """``Lab.rule_cost_months`` at a floored ``pace``: the delay plus the capped compute in
    months (``oom_to_months`` written out), at most the expected wait for the rule's repeal."""
    capped = 12.0 * math.log10(planned / cap) / pace if cap < planned else 0.0
    if regulator is not None and not regulator.treaty and regulator.spec.repeal_per_year > 0:
        capped = min(capped, 12.0 / regulator.spec.repeal_per_year)
    return delay + capped
