"""TakeoffModel: labs, their AI systems and regulators in monthly agent steps over exact,
adaptively sub-stepped continuous dynamics (``sim/continuous.py``), recorded into preallocated
arrays (``sim/recorder.py``)."""

from __future__ import annotations

import math

import mesa

from ixsim.sim.agents import AISystem, Lab, Regulator
from ixsim.sim.continuous import ContinuousDynamics
from ixsim.sim.dynamics import capability as cap
from ixsim.sim.dynamics.compute import balanced_stock
from ixsim.sim.networks import build_graph
from ixsim.sim.recorder import Recorder
from ixsim.sim.results import RunResult, summarise
from ixsim.sim.schema.actors import POLICY_LEVELS
from ixsim.sim.scenario import Scenario

LN10 = math.log(10.0)
AUTOMATION_MILESTONES = (0.2, 0.5, 1.0)
NEWS_MILESTONE = 0.5  # the automation level that makes headlines (raises concern)
_MIN_BALANCED_RATE = 0.01  # 1/year: g + delta floor for a lab's starting balanced-growth path
TREATY_LEVELS = tuple(POLICY_LEVELS.index(n) for n in ("pause", "compute_cap", "licensing"))


class TakeoffModel(ContinuousDynamics, Recorder, mesa.Model):
    """One scenario run: ``step()`` is one month of decisions; ``run()`` returns the result."""

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
        self.concern = 0.0
        self.major_incident = False
        self.milestone_news = False
        self.news_milestone_seen = False
        self.incident_count = self.policy_change_count = 0
        self.cum_hazard = 0.0
        self.pace_oom_per_year = 0.0
        self.largest_run = 0.0  # physical FLOP of the largest run finished so far
        self.treaty_levels: set[int] = set()
        self._active: list[Lab] | None = None
        self._uniforms: list[float] = []
        self._gwp_cache: dict[float, float] = {}
        self._init_constants()
        strategies = spec.strategies
        n = len(spec.labs)
        self.labs = Lab.create_agents(self, n, list(range(n)), list(spec.labs),
                                      [strategies[lab.strategy] for lab in spec.labs])
        self.lab_list: list[Lab] = sorted(self.labs, key=lambda lab: lab.index)
        self.regulators = {r.jurisdiction: Regulator(self, r) for r in spec.regulators}
        self._init_networks()
        self._init_labs()
        # the start state's pace: compute on its balanced path plus software at its start rate
        g0 = self.log_spend_growth + self.log_pp_growth + self.log_util_growth
        self.pace_oom_per_year = max(0.0, g0 + spec.software.rate_per_year) / LN10
        self._init_records()
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
        # hot-path constants (read once per sub-step per lab)
        self.rate_per_year, self.returns_r, self.beta = sw.rate_per_year, sw.returns_r, sw.beta
        self.labour_weight, self.compute_rho = sw.labour_weight, sw.compute_rho
        self.review_ratio, self.task_rho = lab.review_ratio, lab.task_rho
        self.log_s_ceiling = sw.ceiling_oom * LN10
        self.ref_log10_flop = math.log10(sc.capability.reference_training_flop)
        rnd = [t for t in sc.tasks if not t.review]
        review = next(t for t in sc.tasks if t.review)
        w = [t.weight for t in rnd]
        self.task_weight = [x / sum(w) for x in w]
        self.task_lo = [t.task_hours_min for t in rnd]
        self.task_hi = [t.task_hours_max for t in rnd]
        self.review_lo, self.review_hi = [review.task_hours_min], [review.task_hours_max]
        c = sc.capability
        self.econ_lo, self.econ_hi = [c.economy_task_hours_min], [c.economy_task_hours_max]

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
        for jur, regulator in self.regulators.items():
            regulator.neighbours = [(self.regulators[other], data["weight"]) for other, data
                                    in sorted(self.coordination_graph[jur].items())]

    def _init_labs(self) -> None:
        for lab in self.lab_list:
            lab.rnd_auto = [0.0] * len(self.task_lo)
            lab.entered_year = self.t0
            if lab.active:
                self._start_lab(lab)
        # Research input is normalised to the largest lab at start (R/R0 = 1 there).
        present = self.active_labs or self.lab_list
        ref = max(present, key=lambda lab: (lab.stock, -lab.index))
        self.labour0 = self.compute0 = 1.0
        per_s = ref.s_inf * ref.stock / self.spec.labour.inference_flop_per_s_per_researcher
        self.labour0 = max(self._labour(ref, ref.humans, per_s)[0], 1e-300)
        self.compute0 = max(ref.s_exp * ref.stock, 1e-300)
        for lab in self.active_labs:
            self._lab_outputs_now(lab)
        for ctl in self.spec.export_controls:
            self.log_event("export_controls", -1, ctl.price_multiplier,
                           f"on {ctl.target} from {ctl.start_year:.2f}", year=self.t0)

    def _start_lab(self, lab: Lab) -> None:
        """Put a lab on its balanced-growth path now and deploy its initial system."""
        g0 = self.log_spend_growth + self.log_pp_growth + self.log_util_growth
        depreciation = self.spec.hardware.depreciation_per_year
        rel = max(g0 + depreciation, _MIN_BALANCED_RATE)
        price = self.price_performance(self.year) / self.export_price_multiplier(lab.jurisdiction)
        lab.spend0 = lab.stock * rel / price
        lab.stock = balanced_stock(lab.spend0 * price, rel - depreciation, depreciation)
        lab.growth = g0
        lab.spend_now = lab.spend_next = lab.spend0
        flop = lab.spec.initial_system_flop
        self.deploy(lab, flop, flop)

    def _lab_outputs_now(self, lab: Lab) -> None:
        per_s = lab.s_inf * lab.stock / self.spec.labour.inference_flop_per_s_per_researcher
        self._research_outputs(lab, lab.humans, per_s, lab.s_exp * lab.stock / self.compute0)

    @property
    def active_labs(self) -> list[Lab]:
        """Labs that have entered, in index order (cached; changes only when a lab enters)."""
        if self._active is None:
            self._active = [lab for lab in self.lab_list if lab.active]
        return self._active

    # -- what agents ask of the world ------------------------------------------------------

    def uniform(self) -> float:
        """One draw from the run's seeded generator (the only source of chance), in blocks."""
        if not self._uniforms:
            self._uniforms = self.rng.random(256).tolist()[::-1]
        return self._uniforms.pop()

    def enter(self, lab: Lab) -> None:
        """A new lab enters now with its configured compute and initial system."""
        lab.active = True
        self._active = None
        lab.entered_year = self.year
        self._start_lab(lab)
        self._lab_outputs_now(lab)
        self.log_event("lab_entered", lab.index, lab.stock, f"{lab.spec.strategy} strategy")

    def regulator_for(self, jurisdiction: str) -> Regulator | None:
        return self.regulators.get(jurisdiction)

    def rival_gap_months(self, lab: Lab) -> float:
        """Months of frontier progress between a lab and its nearest active rival (inf if none)."""
        return self.rival_gaps.get(lab.index, math.inf)

    def _update_rival_gaps(self) -> None:
        labs = self.active_labs
        self.rival_gaps: dict[int, float] = {}
        if len(labs) < 2:
            return
        labs = sorted(labs, key=lambda lab: lab.best_effective)
        months_per_oom = 12.0 / max(self.pace_oom_per_year, 0.1)
        logs = [math.log10(lab.best_effective) for lab in labs]
        last = len(labs) - 1
        for i, lab in enumerate(labs):
            below = logs[i] - logs[i - 1] if i > 0 else math.inf
            above = logs[i + 1] - logs[i] if i < last else math.inf
            self.rival_gaps[lab.index] = months_per_oom * (below if below < above else above)

    def log_event(self, kind: str, lab: int, value: float, detail: str = "",
                  year: float | None = None) -> None:
        """Append an event; ``lab`` is an index, or -1 for world and regulator events."""
        if kind in ("policy_change", "policy_repeal"):
            self.policy_change_count += 1
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
                          review, econ, lab.multiplier, self.assurance(lab))
        self.largest_run = max(self.largest_run, physical)
        if effective >= lab.best_effective:
            lab.deployed = system
            lab.best_physical, lab.best_effective, lab.horizon = physical, effective, horizon
            lab.rnd_auto = auto
            full = bool(all(a >= 1.0 for a in auto))
            lab.rnd_mass = 1.0 if full else float(sum(a * w for a, w in zip(auto, self.task_weight)))
            lab.review_auto, lab.econ_auto = review, econ
            self._milestone_events(lab, system)
        return system

    def _milestone_events(self, lab: Lab, system: AISystem) -> None:
        for level in AUTOMATION_MILESTONES:
            if level not in lab.milestones and lab.rnd_mass >= level:
                lab.milestones.add(level)
                self.log_event("rnd_automation", lab.index, level,
                               f"{lab.rnd_mass:.3f} of AI R&D automated")
                if level == NEWS_MILESTONE and not self.news_milestone_seen:
                    self.news_milestone_seen = self.milestone_news = True
                    self.concern = min(1.0, self.concern + self.spec.risk.concern_per_milestone)
        if not lab.trains_successor and system.trains_successor:
            lab.trains_successor = True
            self.log_event("successor_training", lab.index, system.effective_flop,
                           f"generation {system.generation} can train its successor autonomously")

    # -- risk --------------------------------------------------------------------------------

    def overload(self) -> float:
        """How far the frontier's pace exceeds what oversight absorbs (>= 1)."""
        risk = self.spec.risk
        return max(1.0, self.pace_oom_per_year / risk.oversight_oom_per_year) ** risk.pace_exponent

    def assurance(self, lab: Lab, overload: float | None = None) -> float:
        """Alignment assurance 0..1: safety effort against the pace it must keep up with."""
        share = lab.safety_share
        half = self.spec.risk.safety_half_share * (self.overload() if overload is None else overload)
        return share / (share + half) if share + half > 0 else 0.0

    def _incidents(self) -> None:
        """Hazard per lab; sample incidents; update public concern (decays, jumps on news)."""
        risk = self.spec.risk
        self.major_incident = False
        self.concern *= 0.5 ** (self.dt / risk.concern_half_life_years)
        overload = self.overload()
        total = 0.0
        for lab in self.active_labs:
            capability = risk.hazard_growth_per_oom ** (math.log10(lab.best_effective)
                                                        - self.ref_log10_flop)
            lab.hazard = (risk.hazard_per_year_2023 * capability * overload
                          * 2.0 * (1.0 - self.assurance(lab, overload))
                          * (1.0 + risk.unreviewed_hazard * lab.unreviewed))
            total += lab.hazard
            if self.uniform() < -math.expm1(-lab.hazard * self.dt):
                major = self.uniform() < risk.major_share
                self.incident_count += 1
                self.log_event("incident_major" if major else "incident_minor", lab.index,
                               lab.hazard, f"hazard {lab.hazard:.3g}/yr")
                self.concern = min(1.0, self.concern + (risk.concern_per_major if major
                                                        else risk.concern_per_minor))
                self.major_incident = self.major_incident or major
        self.cum_hazard += total * self.dt

    def _treaties(self) -> None:
        """A treaty forms once regulators holding the set share of world compute share a rule."""
        if not self.regulators or max(r.level for r in self.regulators.values()) < min(TREATY_LEVELS):
            return  # nobody has a rule a treaty could be about
        world = sum(lab.stock for lab in self.active_labs)
        if world <= 0:
            return
        need = self.spec.networks.treaty_compute_share
        for level in TREATY_LEVELS:
            if level in self.treaty_levels:
                continue
            members = [r for r in self.regulators.values() if r.level >= level]
            names = {r.jurisdiction for r in members}
            share = sum(lab.stock for lab in self.active_labs if lab.jurisdiction in names) / world
            if len(members) >= 2 and share >= need:  # a treaty needs at least two parties
                self.treaty_levels.add(level)
                for r in members:
                    r.treaty = True
                self.log_event("treaty", -1, share, f"{POLICY_LEVELS[level]}: "
                               + ", ".join(sorted(names)))
                break

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """One month: regulators look, labs decide, the world advances, runs deploy, risk."""
        self.update_revenue()
        for regulator in self.regulators.values():
            regulator.observe()
        self.milestone_news = False
        self._update_rival_gaps()
        self.labs.shuffle_do("decide")
        self.advance()
        for lab in self.lab_list:
            lab.finish_run()
        self._incidents()
        self._treaties()
        self.step_index += 1
        self._record(self.step_index)

    def run(self) -> RunResult:
        """Run to the scenario's end year and return the recorded result."""
        for _ in range(self.n_steps):
            self.step()
        return summarise(self)


def simulate(spec: Scenario, seed: int = 0) -> RunResult:
    """Run a scenario once: the public entry point shared by the CLI, sweeps and dashboards."""
    return TakeoffModel(spec, seed=seed).run()
