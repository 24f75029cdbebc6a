"""Recording a run into preallocated numpy arrays (no DataCollector: it deep-copies each value).

A mixin of ``TakeoffModel``; column names and order are ``ixsim.sim.results.WORLD_COLUMNS`` and
``LAB_COLUMNS``.
"""

from __future__ import annotations

import math

import numpy as np

from ixsim.sim.dynamics import capability as cap
from ixsim.sim.results import LAB_COLUMNS, WORLD_COLUMNS

MIN_PACE_OOM_PER_YEAR = 0.1  # floor when turning an OOM lead into months
_S_MAX = WORLD_COLUMNS.index("software_level_max")
_S_LAB = LAB_COLUMNS.index("software_level")


class Recorder:
    """World and lab series, one row a step, plus the per-step aggregates agents read."""

    def _init_records(self) -> None:
        # rows are tuples of floats appended to lists; ``arrays()`` stacks them once at the end
        # (appending a tuple costs ~0.1 us, writing it into a numpy row ~3 us)
        self.world_rows: list[tuple[float, ...]] = []
        self.lab_row_list: list[tuple[float, ...]] = []
        self.jurisdiction_codes: dict[str, int] = {}

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """World (rows x columns) and labs (rows x labs x columns) as float arrays."""
        world = np.array(self.world_rows, dtype=float).reshape(-1, len(WORLD_COLUMNS))
        labs = np.array(self.lab_row_list, dtype=float).reshape(
            len(self.world_rows), len(self.lab_list), len(LAB_COLUMNS))
        world[:, _S_MAX] = np.exp(world[:, _S_MAX])  # recorded as ln S
        labs[:, :, _S_LAB] = np.exp(labs[:, :, _S_LAB])
        return world, labs

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
        """Append one row for the world and one per lab (software levels as ln S; see arrays)."""
        labs = self.active_labs
        frontier = second = None
        rnd = review = mult = log_s = econ = 0.0
        stock = spend = revenue = ai = humans = hazard = total_e = 0.0
        successor = False
        for lab in labs:
            e = lab.best_effective
            total_e += e
            if frontier is None or e > frontier.best_effective:
                frontier, second = lab, frontier
            elif second is None or e > second.best_effective:
                second = lab
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
        self.pace_oom_per_year = self._frontier_pace(frontier)
        hhi = 0.0
        for lab in labs:
            lab.prev_log_capacity = math.log(lab.stock) + lab.log_s
            hhi += (lab.best_effective / total_e) ** 2
        lead_months = 0.0
        if second is not None:
            lead_oom = math.log10(frontier.best_effective / second.best_effective)
            lead_months = 12.0 * lead_oom / max(self.pace_oom_per_year, MIN_PACE_OOM_PER_YEAR)
        append = self.lab_row_list.append
        for lab in self.lab_list:
            append((
                lab.stock, lab.spend_now, lab.revenue, lab.log_s, lab.best_physical,
                lab.best_effective, lab.horizon, lab.rnd_mass, lab.review_auto, lab.econ_auto,
                lab.multiplier, lab.humans, lab.ai_researchers, lab.research, lab.safety_share,
                lab.unreviewed, lab.hazard, self._jurisdiction_code(lab.jurisdiction),
                float(lab.active),
            ))
        self.world_rows.append((
            self.year, self.largest_run, frontier.best_effective, frontier.horizon, rnd, review, mult,
            log_s, econ, stock, spend, revenue, ai, humans, hazard,
            -math.expm1(-self.cum_hazard), self._frontier_loss(frontier.best_effective),
            float(successor), frontier.unreviewed, frontier.safety_share, lead_months, hhi,
            self.concern, float(self.incident_count), float(self.policy_change_count),
            float(self.max_policy_level()),
        ))

    def _frontier_loss(self, effective_flop: float) -> float:
        """Compute-optimal loss at the frontier's effective compute (memoised: it changes rarely)."""
        if getattr(self, "_loss_for", None) != effective_flop:
            s = self.spec.scaling
            self._loss_for = effective_flop
            self._loss = cap.chinchilla_optimal_loss(effective_flop, s.E, s.A, s.B, s.alpha, s.beta)
        return self._loss

    def max_policy_level(self) -> int:
        return max((r.level for r in self.regulators.values()), default=0)
