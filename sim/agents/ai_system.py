"""An AI system: the product of one finished training run, deployed by its lab."""

from __future__ import annotations

import mesa
import numpy as np


class AISystem(mesa.Agent):
    """One trained model generation: its compute, capability and automation of each R&D task."""

    def __init__(self, model: mesa.Model, lab: mesa.Agent, generation: int, finished_year: float,
                 physical_flop: float, effective_flop: float, horizon_minutes: float,
                 automation: np.ndarray, review_automation: float, economic_automation: float):
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

    @property
    def trains_successor(self) -> bool:
        """True when every R&D category and human review are fully automated."""
        return bool(self.review_automation >= 1.0 and np.all(self.automation >= 1.0))
