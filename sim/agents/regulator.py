"""A regulator: one per jurisdiction; observes reported training runs above its threshold."""

from __future__ import annotations

import mesa


class Regulator(mesa.Agent):
    """Reporting thresholds now; the policy ladder hangs off ``review_run`` and ``observe``."""

    def __init__(self, model: mesa.Model, jurisdiction: str, reporting_threshold_flop: float):
        super().__init__(model)
        self.jurisdiction = jurisdiction
        self.reporting_threshold_flop = reporting_threshold_flop  # FLOP
        self.reported_runs = 0

    def review_run(self, lab: mesa.Agent, planned_flop: float) -> None:
        """A lab in this jurisdiction starts a run: log a report when it is above the threshold."""
        if planned_flop >= self.reporting_threshold_flop:
            self.reported_runs += 1
            self.model.log_event("run_reported", lab.index, planned_flop, self.jurisdiction)

    def observe(self) -> None:
        """Monthly look at the world; reporting regulators only count what they receive."""
