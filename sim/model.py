"""TakeoffModel: labs, their AI systems and regulators in monthly agent steps over exact,
adaptively sub-stepped continuous dynamics (``sim/continuous.py``, functions over each lab's
declared ``LabState``), observed by a ``Recorder`` that only reads."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from operator import attrgetter

import mesa

from ixsim.sim import continuous as dyn
from ixsim.sim.agents import AISystem, Lab, Regulator
from ixsim.sim.dynamics.growth import LN10, MIN_PACE_OOM_PER_YEAR, oom_to_months
from ixsim.sim.dynamics import risk as hazard
from ixsim.sim.events import WORLD, Event, EventKind, POLICY_EVENTS
from ixsim.sim.kernel import price_performance, review_needs, step_lab, system_capability
from ixsim.sim.networks import build_graph
from ixsim.sim.recorder import Recorder
from ixsim.sim.results import RunResult
from ixsim.sim.schema.actors import POLICY_LEVELS
from ixsim.sim.scenario import Scenario

AUTOMATION_MILESTONES = (0.2, 0.5, 1.0)
NEWS_MILESTONE = 0.5  # the automation level that makes headlines (raises concern)
TREATY_LEVELS = tuple(POLICY_LEVELS.index(n) for n in ("pause", "compute_cap", "licensing"))
_BEST_EFFECTIVE = attrgetter("best_effective")
_new_tuple = tuple.__new__


class TakeoffModel(mesa.Model):
    """One scenario run: ``step()`` is one month of decisions; ``run()`` returns the result.

    With ``record=False`` nothing is recorded (the trajectory is the same: the recorder only
    reads), and ``run()`` returns None; for tests and callers that need only the final state."""

    def __init__(self, spec: Scenario, seed: int = 0, record: bool = True):
        super().__init__(rng=seed)
        self.spec = spec
        self.seed = seed
        meta = spec.meta
        self.constants = dyn.Constants.of(spec)
        self.t0 = meta.start_year
        self.dt = self.constants.dt
        self.n_steps = max(1, round((meta.end_year - meta.start_year) * meta.steps_per_year))
        self.year = self.t0
        self.step_index = 0
        self.events: list[Event] = []
        self.roster_changes = 0  # counts entries and moves (the recorder reads it)
        self.concern = 0.0  # public concern index, 0..1
        self.major_incident = False  # a major incident this step
        self.milestone_news = False  # the news milestone was reached this step
        self.news_milestone_seen = False
        self.incident_count = self.policy_change_count = 0
        self.cum_hazard = 0.0  # integrated incident hazard, dimensionless
        self.pace_oom_per_year = 0.0  # frontier's effective-capacity growth, OOM/year
        self.largest_run = 0.0  # physical FLOP of the largest run finished so far
        self.world_product = spec.investment.gwp_usd_2023  # USD/year, set each step
        self.rival_gaps: dict[int, float] = {}  # months to the nearest rival, by lab index
        # 12 x OOM to the nearest active rival, by lab index: changes only when a lab deploys a
        # better system or enters (``_ranking_changed``); each step divides it by the pace
        self._rival_oom12: list[tuple[int, float]] | None = None
        self.ranking_changes = 0  # counts those changes (the recorder reads it)
        self.treaty_levels: set[int] = set()
        self._treaty_candidates_for: tuple | None = None  # the policy levels they were found at
        self._treaty_candidates: list[tuple[int, list[Regulator], set[str]]] = []
        # what is left of public concern after a step (it halves every concern_half_life_years)
        self._concern_left_per_step = 0.5 ** (self.dt / spec.risk.concern_half_life_years)
        # memos of pure functions of the year (see price_at and gwp_at)
        self._prices: dict[float, float] = {}
        self._gwp: dict[float, float] = {}
        self._automated_hours = 0.0  # the largest economic automation of an active lab, 0..1
        # export_terms' memo by jurisdiction: (from, until, terms), the terms holding for years
        # in [from, until) (between two of its controls' start years)
        self._export_terms: dict[str, tuple[float, float, tuple[float, float]]] = {}
        self._uniforms = iter(())  # draws left in the current block
        strategies = spec.strategies
        n = len(spec.labs)
        self.labs = Lab.create_agents(self, n, list(range(n)), list(spec.labs),
                                      [strategies[lab.strategy] for lab in spec.labs])
        self.lab_list: list[Lab] = sorted(self.labs, key=lambda lab: lab.index)
        self.active_labs: list[Lab] = [lab for lab in self.lab_list if lab.active]  # index order
        self.regulators = {r.jurisdiction: Regulator(self, r) for r in spec.regulators}
        self._init_networks()
        self._init_labs()
        # the start state's pace: compute on its balanced path plus software at its start rate
        self.pace_oom_per_year = max(0.0, self.constants.balanced_growth
                                     + spec.software.rate_per_year) / LN10
        self.start_pace = self.pace_oom_per_year  # OOM/year, for leads older than the start
        self.recorder = Recorder(self) if record else None
        self._end_step()

    # -- set-up -----------------------------------------------------------------------------

    def _init_networks(self) -> None:
        net = self.spec.networks
        self.spillover_graph = build_graph(net.spillover, [lab.name for lab in self.lab_list])
        self.coordination_graph = build_graph(net.coordination, list(self.regulators))
        by_name = {lab.name: lab for lab in self.lab_list}
        self.spill_neighbours: list[list[tuple[Lab, float]]] = [[] for _ in self.lab_list]
        for lab in self.lab_list:
            for other, data in sorted(self.spillover_graph[lab.name].items()):
                rate = data["weight"] * net.spillover_rate_per_year
                if rate > 0:
                    self.spill_neighbours[lab.index].append((by_name[other], rate))
        # leak rate per year from each linked lab: the link's rate x (its openness + espionage)
        espionage = self.constants.espionage
        self.spill_leaks: list[list[tuple[Lab, float]]] = [
            [(other, rate * (other.strategy.openness + espionage)) for other, rate in links]
            for links in self.spill_neighbours]
        for jur, regulator in self.regulators.items():
            regulator.neighbours = [(self.regulators[other], data["weight"]) for other, data
                                    in sorted(self.coordination_graph[jur].items())]

    def _init_labs(self) -> None:
        for lab in self.lab_list:
            lab.rnd_auto = [0.0] * len(self.constants.task_hours_min)
            if lab.active:
                self._start_lab(lab)
        # Research input is normalised to the largest lab at start (R/R0 = 1 there).
        present = self.active_labs or self.lab_list
        ref = max(present, key=lambda lab: (lab.state.stock, -lab.index))
        c, st = self.constants, ref.state
        per_s = dyn.inference_per_researcher(c, st, st.stock)
        # a reference lab with no experiment compute (a strategy may give it none) normalises by
        # the largest experiment compute present instead, so no ratio divides by zero
        experiments = max(lab.state.share_experiments * lab.state.stock for lab in present)
        self.constants = c = replace(
            # a reference lab with no research labour (no researchers, nothing handed over)
            # normalises by one researcher, so an AI workforce's ratio stays finite
            c, labour0=max(dyn.research_labour(c, st, st.humans, per_s)[0], 1.0),
            compute0=(st.share_experiments * st.stock if st.share_experiments > 0
                      else experiments if experiments > 0 else 1.0))
        for lab in self.active_labs:
            self._lab_outputs_now(lab)
        for ctl in self.spec.export_controls:
            self.log_event(EventKind.EXPORT_CONTROLS, WORLD, ctl.price_multiplier,
                           jurisdiction=ctl.target,
                           detail=f"on {ctl.target} from {ctl.start_year:.2f}", year=self.t0)

    def _start_lab(self, lab: Lab) -> None:
        """Put a lab on its balanced-growth path now and deploy its initial system."""
        c = self.constants
        price = self.compute_price(lab)
        dyn.start_on_balanced_path(c, lab.state, price, self.year)
        flop = lab.spec.initial_system_flop
        self.deploy(lab, flop, flop)

    def _lab_outputs_now(self, lab: Lab) -> None:
        c, st = self.constants, lab.state
        dyn.update_research_outputs(c, st, st.humans, dyn.inference_per_researcher(c, st, st.stock),
                                    dyn.experiment_compute_ratio(c, st, st.stock))

    # -- what agents ask of the world ------------------------------------------------------

    def uniform(self) -> float:
        """One draw from the run's seeded generator (the only source of chance), in blocks."""
        draw = next(self._uniforms, None)
        if draw is None:
            self._uniforms = iter(self.rng.random(256).tolist())
            draw = next(self._uniforms)
        return draw

    def enter(self, lab: Lab) -> None:
        """A new lab enters now with its configured compute and initial system."""
        lab.active = True
        self.roster_changes += 1
        self.active_labs = [other for other in self.lab_list if other.active]
        self._ranking_changed()
        self._automation_changed()
        self._start_lab(lab)
        self._lab_outputs_now(lab)
        self.log_event(EventKind.LAB_ENTERED, lab.index, lab.state.stock,
                       jurisdiction=lab.jurisdiction, detail=f"{lab.spec.strategy} strategy")

    def compute_price(self, lab: Lab) -> float:
        """Effective FLOP/s one USD buys for ``lab`` now (export controls included)."""
        return self.price_at(self.year) / self.export_terms(lab.jurisdiction)[0]

    def price_at(self, year: float) -> float:
        """Effective FLOP/s one USD buys at ``year`` before export controls: ``price_performance``,
        memoised per exact year (a step's end price is the next step's start price)."""
        price = self._prices.get(year)
        if price is None:
            price = self._prices[year] = price_performance(self.constants, year)  # fused
        return price

    def steps_in(self, years: float) -> int:
        """Whole steps nearest to a span of ``years`` (a 4-month run is 4 steps monthly, 17
        weekly)."""
        return int(round(years / self.dt + 1e-9))

    def gwp_at(self, year: float) -> float:
        """Gross world product (USD/year) at ``year`` with today's automation of work hours.

        Memoised per exact year (every lab asks for next month's) while automation stays
        the same (``_automation_changed`` drops the memo)."""
        world_product = self._gwp.get(year)
        if world_product is None:
            world_product = self._gwp[year] = dyn.gwp(self.constants, year,
                                                      self._automated_hours)
        return world_product

    def _automation_changed(self) -> None:
        """A lab deployed a system or entered: the largest share of work hours automated, and
        with it every GWP, may change (it changes nowhere else)."""
        automated = max([lab.state.economic_automation for lab in self.active_labs],
                        default=0.0)
        if automated != self._automated_hours:
            self._automated_hours = automated
            self._gwp.clear()

    def regulator_for(self, jurisdiction: str) -> Regulator | None:
        return self.regulators.get(jurisdiction)

    def months_of_progress(self, oom: float) -> float:
        """Months the frontier needs, at its current pace, to advance ``oom`` orders of magnitude."""
        return oom_to_months(oom, self.pace_oom_per_year)

    def rival_gap_months(self, lab: Lab) -> float:
        """Months of frontier progress between a lab and its nearest active rival (inf if none)."""
        return self.rival_gaps.get(lab.index, math.inf)

    def export_price_multiplier(self, jurisdiction: str) -> float:
        """How much more compute costs in ``jurisdiction`` now (export controls; 1 if none)."""
        return self.export_terms(jurisdiction)[0]

    def export_terms(self, jurisdiction: str) -> tuple[float, float]:
        """What export controls set for ``jurisdiction`` now: (price multiplier, largest
        compute stock in FLOP/s). Memoised until the next of its controls starts (every lab's
        step and rule response asks; the terms change only when the set of controls in force
        does)."""
        year = self.year
        memo = self._export_terms.get(jurisdiction)
        if memo is not None and memo[0] <= year < memo[1]:
            return memo[2]
        c = self.constants
        # a control is in force from start_year - 1e-9 on, as the export functions test it
        starts = [ctl.start_year - 1e-9 for ctl in c.export_controls
                  if ctl.target == jurisdiction]
        terms = (dyn.export_price_multiplier(c, jurisdiction, year),
                 dyn.export_stock_cap(c, jurisdiction, year))
        self._export_terms[jurisdiction] = (
            max([start for start in starts if start <= year], default=-math.inf),
            min([start for start in starts if start > year], default=math.inf), terms)
        return terms

    def _ranking_changed(self) -> None:
        """A lab's best system or the active set changed: the distances to rivals are stale."""
        self._rival_oom12 = None
        self.ranking_changes += 1

    def _update_rival_gaps(self) -> None:
        """Months of progress from each active lab to its nearest active rival (see
        ``rival_gap_months``): 12 x the OOM between them over the floored pace."""
        distances = self._rival_oom12
        if distances is None:
            distances = self._rival_oom12 = self._rival_distances()
        pace = max(self.pace_oom_per_year, MIN_PACE_OOM_PER_YEAR)  # as oom_to_months floors it
        self.rival_gaps = {index: oom12 / pace for index, oom12 in distances}  # oom_to_months

    def _rival_distances(self) -> list[tuple[int, float]]:
        """(lab index, 12 x OOM to its nearest active rival) for each active lab, in the order
        of their best systems (none with fewer than two active labs)."""
        labs = self.active_labs
        if len(labs) < 2:
            return []
        labs = sorted(labs, key=_BEST_EFFECTIVE)
        logs = [lab.log10_effective for lab in labs]
        last = len(labs) - 1
        out = []
        for i, lab in enumerate(labs):
            below = logs[i] - logs[i - 1] if i > 0 else math.inf
            above = logs[i + 1] - logs[i] if i < last else math.inf
            out.append((lab.index, 12.0 * (below if below < above else above)))
        return out

    def log_event(self, kind: EventKind, lab: int, value: float, *, jurisdiction: str = "",
                  level: int = -1, detail: str = "", year: float | None = None) -> None:
        """Append an event; ``lab`` is an index, or ``WORLD`` for world and regulator events."""
        if kind in POLICY_EVENTS:
            self.policy_change_count += 1
        # Event(...) without its generated __new__ (a Python call): the same named tuple
        self.events.append(_new_tuple(Event, (self.year if year is None else year, kind, lab,
                                              float(value), jurisdiction, level, detail)))

    def deploy(self, lab: Lab, physical: float, effective: float) -> AISystem:
        """Make the AISystem of a finished run; the lab serves it if it beats the one it has."""
        cc = self.constants
        log10_effective = math.log10(effective)
        # horizon, automated_fraction and human_review_need, with the task lengths' logs taken
        # once; the economy buys what a system does at its 50% horizon (customers check the work)
        horizon, log_fit, auto, review, econ = system_capability(cc, self.spec.capability,
                                                                 log10_effective)
        system = AISystem(self, lab, lab.generation, self.year, physical, effective, horizon, auto,
                          review, econ, lab.state.multiplier, self.assurance(lab))
        if physical > self.largest_run:
            self.largest_run = physical
        if effective >= lab.best_effective:
            st = lab.state
            lab.deployed = system
            lab.best_physical, lab.best_effective, lab.horizon = physical, effective, horizon
            lab.log10_effective = log10_effective
            self._ranking_changed()
            lab.rnd_auto = auto
            full = all([a >= 1.0 for a in auto])
            st.rnd_automation = 1.0 if full else float(sum([a * w for a, w in
                                                            zip(auto, cc.task_weight)]))
            needs, st.review_need_target = review_needs(cc, log_fit)
            # humans hand over each category's last tasks gradually (no cliff at f = 1)
            st.rnd_handover_target = 0.0 if st.rnd_automation <= 0.0 else 1.0 - sum([
                w * need for w, need in zip(cc.task_weight, needs)])
            st.review_automation, st.economic_automation = review, econ
            self._automation_changed()
            if not lab.generation:  # the system a lab starts with is in use already
                st.review_need, st.rnd_handover = st.review_need_target, st.rnd_handover_target
            self._milestone_events(lab, system)
            if lab.strategy.releases_weights:
                self._release_weights(lab, physical, effective)
        return system

    def _release_weights(self, lab: Lab, physical: float, effective: float) -> None:
        """Open weights: each active lab linked to ``lab`` deploys the released system if it
        beats its own (followers close the gap to the open lab at once)."""
        for other, _ in self.spill_neighbours[lab.index]:
            if other.active and effective > other.best_effective:
                self.log_event(EventKind.WEIGHTS_ADOPTED, other.index, effective,
                               jurisdiction=other.jurisdiction, detail=f"from {lab.name}")
                self.deploy(other, physical, effective)

    def _milestone_events(self, lab: Lab, system: AISystem) -> None:
        mass = lab.state.rnd_automation
        for level in AUTOMATION_MILESTONES:
            if level not in lab.milestones and mass >= level:
                lab.milestones.add(level)
                self.log_event(EventKind.RND_AUTOMATION, lab.index, level,
                               detail=f"{mass:.3f} of AI R&D automated")
                if level == NEWS_MILESTONE and not self.news_milestone_seen:
                    self.news_milestone_seen = self.milestone_news = True
                    self.concern = min(1.0, self.concern + self.spec.risk.concern_per_milestone)
        if not lab.trains_successor and system.trains_successor:
            lab.trains_successor = True
            self.log_event(EventKind.SUCCESSOR_TRAINING, lab.index, system.effective_flop,
                           detail=f"generation {system.generation} can train its successor "
                                  "autonomously")

    # -- risk --------------------------------------------------------------------------------

    def overload(self) -> float:
        """How far the frontier's pace exceeds what oversight absorbs (>= 1)."""
        risk = self.spec.risk
        return hazard.oversight_overload(self.pace_oom_per_year, risk.oversight_oom_per_year,
                                         risk.pace_exponent)

    def assurance(self, lab: Lab, overload: float | None = None) -> float:
        """Alignment assurance 0..1: safety effort against the pace it must keep up with."""
        return hazard.alignment_assurance(lab.safety_share, self.spec.risk.safety_half_share,
                                          self.overload() if overload is None else overload)

    def _incidents(self) -> None:
        """Hazard per lab; sample incidents; update public concern (decays, jumps on news).

        ``hazard.incident_hazard`` and ``hazard.alignment_assurance`` are written out here (the
        same operations in the same order; tests/test_kernel.py checks each lab's hazard)."""
        risk = self.spec.risk
        self.major_incident = False
        self.concern *= self._concern_left_per_step
        overload = self.overload()
        ref, dt = self.constants.reference_log10_flop, self.dt
        base, growth = risk.hazard_per_year_2023, risk.hazard_growth_per_oom
        half = risk.safety_half_share * overload  # alignment_assurance's half point
        unreviewed_weight = risk.unreviewed_hazard
        expm1, uniforms = math.expm1, self._uniforms
        total = 0.0
        for lab in self.active_labs:
            safety = lab.safety_share
            assurance = safety / (safety + half) if safety + half > 0 else 0.0
            lab.hazard = h = (base * growth ** (lab.log10_effective - ref) * overload * 2.0
                              * (1.0 - assurance)
                              * (1.0 + unreviewed_weight * lab.state.unreviewed))
            total += h
            draw = next(uniforms, None)  # self.uniform(), without its call
            if draw is None:
                draw = self.uniform()
                uniforms = self._uniforms
            if draw < -expm1(-h * dt):
                major = self.uniform() < risk.major_share
                uniforms = self._uniforms
                self.incident_count += 1
                self.log_event(EventKind.INCIDENT_MAJOR if major else EventKind.INCIDENT_MINOR,
                               lab.index, h, jurisdiction=lab.jurisdiction,
                               detail=f"hazard {h:.3g}/yr")
                self.concern = min(1.0, self.concern + (risk.concern_per_major if major
                                                        else risk.concern_per_minor))
                self.major_incident = self.major_incident or major
        self.cum_hazard += total * dt

    def _treaties(self) -> None:
        """A treaty forms once regulators holding the set share of world compute share a rule."""
        candidates = self.treaty_candidates()
        if not candidates:
            return  # no rule that two regulators have and no treaty covers yet
        world = sum([lab.state.stock for lab in self.active_labs])
        if world <= 0:
            return
        need = self.spec.networks.treaty_compute_share
        for level, members, names in candidates:
            share = sum([lab.state.stock for lab in self.active_labs
                         if lab.jurisdiction in names]) / world
            if share >= need:
                self.treaty_levels.add(level)
                for r in members:
                    r.treaty = True
                self.log_event(EventKind.TREATY, WORLD, share, level=level,
                               detail=f"{POLICY_LEVELS[level]}: " + ", ".join(sorted(names)))
                break

    def treaty_candidates(self) -> list[tuple[int, list[Regulator], set[str]]]:
        """Rules a treaty could be about, strictest first: (level, members, their
        jurisdictions) for each treaty level not agreed yet that at least two regulators have
        in force (a treaty needs two parties). Found again only when a policy level changes."""
        key = (tuple([r.level for r in self.regulators.values()]), len(self.treaty_levels))
        if key != self._treaty_candidates_for:
            self._treaty_candidates_for = key
            self._treaty_candidates = []
            for level in TREATY_LEVELS:
                members = [r for r in self.regulators.values() if r.level >= level]
                if level not in self.treaty_levels and len(members) >= 2:
                    self._treaty_candidates.append(
                        (level, members, {r.jurisdiction for r in members}))
        return self._treaty_candidates

    def max_policy_level(self) -> int:
        """The strictest policy level in force (0 without regulators)."""
        strictest = 0
        for regulator in self.regulators.values():
            if regulator.level > strictest:
                strictest = regulator.level
        return strictest

    # -- the step ---------------------------------------------------------------------------

    def _advance(self) -> None:
        """Integrate compute stocks, training runs and software levels over one step."""
        c, t = self.constants, self.year
        dt = c.dt
        p_now, p_next = self.price_at(t), self.price_at(t + dt)
        humans_growth = math.exp(c.log_researcher_growth * (t + dt / 2 - c.start_year))
        labs = self.active_labs
        leaks = self.spill_leaks
        # dyn.spillover for every lab before any moves: catch-up toward linked labs ahead
        spills = []
        for lab in labs:
            u = lab.state.ln_software
            rate = slope = 0.0
            for other, leak in leaks[lab.index]:
                if other.active:
                    gap = other.state.ln_software - u
                    if gap > 0:
                        rate += leak * gap
                        slope -= leak
            spills.append((rate, slope))
        controls, step_index = c.export_controls, self.step_index
        memos = self._export_terms
        for lab, (spill_rate, spill_slope) in zip(labs, spills):
            st = lab.state
            if controls:
                memo = memos.get(lab.jurisdiction)  # export_terms, its memo read inline
                price_multiplier, stock_cap = (memo[2] if memo is not None
                                               and memo[0] <= t < memo[1]
                                               else self.export_terms(lab.jurisdiction))
            else:
                price_multiplier, stock_cap = 1.0, math.inf
            # hand_over then advance_lab, fused (sim/kernel.py; the same arithmetic)
            integral, crossings = step_lab(c, st, t, p_now, p_next,
                                           lab.spec.researchers * humans_growth, spill_rate,
                                           spill_slope, price_multiplier, stock_cap)
            if lab.training and step_index >= lab.run_from_step:
                flop = (lab.run_flop + st.share_training * lab.run_scale * integral
                        * dyn.SECONDS_PER_YEAR)
                lab.run_flop = flop if flop < lab.run_cap else lab.run_cap  # min(run_cap, flop)
            for year, power in crossings:
                self.log_event(EventKind.SOFTWARE_OOM, lab.index, power, detail=f"S = 1e{power}",
                               year=year)
        self.year = self.t0 + (step_index + 1) * dt

    def _update_pace(self) -> None:
        """The frontier lab's effective-capacity growth over the last step (OOM/year).

        Measured over one step, so it is defined from the first month on (a window of finished
        runs would be empty until the first run ends). Unchanged while no lab is active."""
        frontier = None
        for lab in self.active_labs:
            if frontier is None or lab.best_effective > frontier.best_effective:
                frontier = lab
        log = math.log
        for lab in self.active_labs:
            st = lab.state
            capacity = log(st.stock) + st.ln_software  # dyn.ln_capacity(st)
            if lab is frontier and st.prev_ln_capacity is not None:
                self.pace_oom_per_year = max(0.0, (capacity - st.prev_ln_capacity)
                                             / (self.dt * LN10))
            st.prev_ln_capacity = capacity

    def _end_step(self) -> None:
        self._update_pace()
        if self.recorder is not None:
            self.recorder.record()

    def step(self) -> None:
        """One month: regulators look, labs decide, the world advances, runs deploy, risk."""
        self.world_product = self.gwp_at(self.year)
        dyn.update_revenue(self.constants, [lab.state for lab in self.active_labs],
                           self.world_product)
        for regulator in self.regulators.values():
            regulator.observe()
        self.milestone_news = False
        self._update_rival_gaps()
        order = list(self.lab_list)  # what labs.shuffle_do does, without its weak references
        shuffle(self.random, order)
        for lab in order:
            lab.decide()
        self._advance()
        ending = self.step_index + 1
        for lab in self.lab_list:
            if lab.training and ending >= lab.run_end_step:  # lab.finish_run() returns otherwise
                lab.finish_run()
        self._incidents()
        self._treaties()
        self.step_index += 1
        self._end_step()

    def run(self) -> RunResult | None:
        """Run to the scenario's end year; the recorded result (None when not recording)."""
        step = type(self).step  # Mesa's wrapper passes each step through its (empty) event list
        for _ in range(self.n_steps):
            self.steps += 1
            self.time += 1.0
            step(self)
        return self.recorder.result() if self.recorder is not None else None


def shuffle(rng: random.Random, items: list) -> None:
    """``rng.shuffle(items)`` with the same draws and swaps (Fisher-Yates over ``getrandbits``,
    as ``random.Random._randbelow_with_getrandbits`` does), without its two Python calls per
    item; any other generator type shuffles itself."""
    if type(rng) is not random.Random:
        rng.shuffle(items)
        return
    getrandbits = rng.getrandbits
    for i in range(len(items) - 1, 0, -1):
        n = i + 1
        k = n.bit_length()
        j = getrandbits(k)
        while j >= n:
            j = getrandbits(k)
        items[i], items[j] = items[j], items[i]


def simulate(scenario: Scenario, seed: int = 0) -> RunResult:
    """Run a scenario once: the public entry point shared by the CLI, sweeps and dashboards."""
    return TakeoffModel(scenario, seed=seed).run()
