"""Recording a run into preallocated numpy arrays (no DataCollector: it deep-copies each value).

A mixin of ``TakeoffModel``; column names and order are ``sim.results.WORLD_COLUMNS`` and
``LAB_COLUMNS``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.dynamics import capability as cap
from sim.results import LAB_COLUMNS, WORLD_COLUMNS

MIN_PACE_OOM_PER_YEAR = 0.1  # floor when turning an OOM lead into months


class Recorder:
    """World and lab series, one row a step, plus the per-step aggregates agents read."""

    def _init_records(self) -> None:
        rows = self.n_steps + 1
        self.world = np.zeros((rows, len(WORLD_COLUMNS)))
        self.lab_rows = np.zeros((rows, len(self.lab_list), len(LAB_COLUMNS)))
        self.jurisdiction_codes: dict[str, int] = {}

    def _jurisdiction_code(self, name: str) -> int:
        return self.jurisdiction_codes.setdefault(name, len(self.jurisdiction_codes))

    def _frontier_pace(self, frontier) -> float:
        """How fast the frontier lab's effective compute capacity (stock x S) grows, OOM/year.

        Measured over the last step, so it is defined from the first month on (a trailing
        window of finished runs would be empty until the first run ends)."""
        if frontier.prev_log_capacity is None:
            return self.pace_oom_per_year
        now = math.log(frontier.stock) + frontier.log_s
        return max(0.0, (now - frontier.prev_log_capacity) / (self.dt * math.log(10.0)))

    def _record(self, row: int) -> None:
        labs = self.active_labs
        frontier = max(labs, key=lambda lab: (lab.best_effective, -lab.index))
        log10_e = math.log10(frontier.best_effective)
        self.pace_oom_per_year = self._frontier_pace(frontier)
        for lab in labs:
            lab.prev_log_capacity = math.log(lab.stock) + lab.log_s
        total_e = sum(lab.best_effective for lab in labs)
        hhi = sum((lab.best_effective / total_e) ** 2 for lab in labs)
        second = max((lab.best_effective for lab in labs if lab is not frontier), default=0.0)
        lead_oom = log10_e - math.log10(second) if second > 0 else 0.0
        lead_months = 12.0 * lead_oom / max(self.pace_oom_per_year, MIN_PACE_OOM_PER_YEAR)
        rnd = review = mult = log_s = econ = 0.0
        stock = spend = revenue = ai = humans = hazard = 0.0
        successor = False
        for lab in labs:
            if lab.rnd_mass > rnd:
                rnd = lab.rnd_mass
            if lab.review_auto > review:
                review = lab.review_auto
            if lab.multiplier > mult:
                mult = lab.multiplier
            if lab.log_s > log_s:
                log_s = lab.log_s
            if lab.econ_auto > econ:
                econ = lab.econ_auto
            stock += lab.stock
            spend += lab.spend_now
            revenue += lab.revenue
            ai += lab.ai_researchers
            humans += lab.humans
            hazard += lab.hazard
            successor = successor or lab.trains_successor
        rows = self.lab_rows[row]
        for lab in self.lab_list:
            rows[lab.index] = (
                lab.stock, lab.spend_now, lab.revenue, math.exp(lab.log_s), lab.best_physical,
                lab.best_effective, lab.horizon, lab.rnd_mass, lab.review_auto, lab.econ_auto,
                lab.multiplier, lab.humans, lab.ai_researchers, lab.research, lab.safety_share,
                lab.unreviewed, lab.hazard, self._jurisdiction_code(lab.jurisdiction),
                float(lab.active),
            )
        s = self.spec.scaling
        self.world[row] = (
            self.year, self.largest_run, frontier.best_effective, frontier.horizon, rnd, review, mult,
            math.exp(log_s), econ, stock, spend, revenue, ai, humans, hazard,
            -math.expm1(-self.cum_hazard),
            cap.chinchilla_optimal_loss(frontier.best_effective, s.E, s.A, s.B, s.alpha, s.beta),
            float(successor), frontier.unreviewed, frontier.safety_share, lead_months, hhi,
            self.concern, float(self.incident_count), float(self.policy_change_count),
            float(max((r.level for r in self.regulators.values()), default=0)),
        )
