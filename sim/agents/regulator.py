"""A regulator: one per jurisdiction; climbs a policy ladder on triggers, after lags, and copies
its neighbours along the coordination graph."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa

from ixsim.sim.events import WORLD, EventKind
from ixsim.sim.schema.actors import POLICY_LEVELS, RegulatorSpec

REPORTING, EVALUATIONS, LICENSING, COMPUTE_CAP, PAUSE = (POLICY_LEVELS.index(name) for name in (
    "reporting", "evaluations", "licensing", "compute_cap", "pause"))


@dataclass
class PendingPolicy:
    level: int
    year: float  # decimal year the policy takes effect
    reason: str


class Regulator(mesa.Agent):
    """Reporting thresholds, a ladder (reporting .. pause) climbed after lags, repeal, diffusion."""

    def __init__(self, model: mesa.Model, spec: RegulatorSpec):
        super().__init__(model)
        self.spec = spec
        self.jurisdiction = spec.jurisdiction
        self.level = POLICY_LEVELS.index(spec.initial_level)
        self.max_level = POLICY_LEVELS.index(spec.max_level)
        self.pending: PendingPolicy | None = None
        self.neighbours: list[tuple[Regulator, float]] = []
        self.treaty = False  # a treaty member does not repeal
        self.reported_runs = 0
        self.watched: set[int] = set()  # labs caught evading: every later evasion is detected
        # chance of a repeal in one step (a Poisson rate of repeal_per_year)
        self.repeal_chance = -math.expm1(-spec.repeal_per_year * model.dt)
        # compute an evader caught here loses, in OOM (what rule responses weigh in months)
        self.penalty_oom = -math.log10(1.0 - min(spec.penalty_compute_share, 0.999999))

    @property
    def level_name(self) -> str:
        return POLICY_LEVELS[self.level]

    # -- what a run in this jurisdiction must accept -------------------------------------

    def terms(self, planned_flop: float) -> tuple[float, float]:
        """(months of delay, largest allowed run in FLOP) for a run of ``planned_flop``."""
        s = self.spec
        if planned_flop < s.reporting_threshold_flop or self.level < EVALUATIONS:
            return 0.0, math.inf
        delay = s.evaluation_months
        cap = math.inf
        if self.level >= LICENSING:
            delay += s.licensing_delay_months
        if self.level >= COMPUTE_CAP:
            cap = s.compute_cap_flop
        if self.level >= PAUSE:
            cap = min(cap, s.reporting_threshold_flop)  # nothing above the governed line
        return delay, cap

    def pauses(self) -> bool:
        """True while a pause is in force here."""
        return self.level >= PAUSE

    def detection_for(self, lab: mesa.Agent) -> float:
        """Chance this regulator detects the lab evading: certain once it was caught before."""
        return 1.0 if lab.index in self.watched else self.spec.detection_probability

    def review_run(self, lab: mesa.Agent, planned_flop: float) -> None:
        """A lab here starts a run: log a report when it is governed and above the threshold."""
        if self.level >= REPORTING and planned_flop >= self.spec.reporting_threshold_flop:
            self.reported_runs += 1
            self.model.log_event(EventKind.RUN_REPORTED, lab.index, planned_flop,
                                 jurisdiction=self.jurisdiction, detail=self.jurisdiction)

    # -- the ladder ------------------------------------------------------------------------

    def schedule(self, level: int, lag_years: float, reason: str) -> None:
        """Plan a move to ``level`` after ``lag_years``, unless a stricter one is already planned."""
        level = min(level, self.max_level)
        if level <= self.level or (self.pending is not None and self.pending.level >= level):
            return
        self.pending = PendingPolicy(level, self.model.year + lag_years, reason)

    def set_level(self, level: int, reason: str) -> None:
        self.level = level
        self.model.log_event(EventKind.POLICY_CHANGE, WORLD, level, jurisdiction=self.jurisdiction,
                             level=level,
                             detail=f"{self.jurisdiction}: {POLICY_LEVELS[level]} ({reason})")
        for neighbour, _weight in self.neighbours:
            neighbour.schedule(level, neighbour.spec.lag_years
                               * self.model.spec.networks.diffusion_lag_factor,
                               f"copied from {self.jurisdiction}")

    def observe(self) -> None:
        """Monthly: enact a due policy, react to triggers, and maybe repeal."""
        m = self.model
        s = self.spec
        if self.pending is not None and m.year >= self.pending.year - 1e-9:
            pending, self.pending = self.pending, None
            self.set_level(pending.level, pending.reason)
        if self.level < self.max_level:
            if m.major_incident:
                self.schedule(self.level + 1, s.emergency_lag_years, "major incident")
            elif m.concern >= s.trigger_concern:
                self.schedule(self.level + 1, s.lag_years, "public concern")
            elif m.milestone_news:
                self.schedule(self.level + 1, s.lag_years, "half of AI R&D automated")
        if self.level > 0 and not self.treaty and s.repeal_per_year > 0:
            draw = next(m._uniforms, None)  # m.uniform(), without its call
            if draw is None:
                draw = m.uniform()
            if draw < self.repeal_chance:
                self.level -= 1
                self.pending = None
                m.log_event(EventKind.POLICY_REPEAL, WORLD, self.level,
                            jurisdiction=self.jurisdiction, level=self.level,
                            detail=f"{self.jurisdiction}: back to {self.level_name}")
