"""An AI system: the product of one finished training run, deployed by its lab."""

from __future__ import annotations

import mesa


class AISystem(mesa.Agent):
    """One trained model generation: compute, capability, automation and alignment assurance."""

    def __init__(self, model: mesa.Model, lab: mesa.Agent, generation: int, finished_year: float,
                 physical_flop: float, effective_flop: float, horizon_minutes: float,
                 automation: list[float], review_automation: float, economic_automation: float,
                 progress_multiplier: float, alignment_assurance: float):
        super().__init__(model)
        self.lab = lab
        self.generation = generation
        self.finished_year = finished_year
        self.physical_flop = physical_flop  # FLOP
        self.effective_flop = effective_flop  # FLOP at start-year software
        self.horizon_minutes = horizon_minutes
        self.automation = automation  # fraction automated per R&D category (review excluded)
        self.review_automation = review_automation
        self.economic_automation = economic_automation
        self.progress_multiplier = progress_multiplier  # its lab's, when it was deployed
        self.alignment_assurance = alignment_assurance  # 0..1, from safety effort vs pace

    @property
    def trains_successor(self) -> bool:
        """True when every R&D category and human review are fully automated."""
        return self.review_automation >= 1.0 and all([a >= 1.0 for a in self.automation])
