"""A lab: decides its compute spending and schedules training runs; deploys the systems it trains."""

from __future__ import annotations

import math

import mesa
import numpy as np


class Lab(mesa.Agent):
    """One AI lab: its decisions, and the state the model's dynamics advance for it."""

    def __init__(self, model: mesa.Model, index: int, spec):
        super().__init__(model)
        self.index = index
        self.spec = spec
        self.name = spec.name
        self.jurisdiction = spec.jurisdiction
        shares = spec.shares
        self.s_train = shares.training
        self.s_exp = shares.experiments
        self.s_inf = shares.internal_inference
        self.s_dep = shares.deployment
        # continuous state (advanced by the model's dynamics)
        self.stock = spec.compute_flop_per_s  # effective FLOP/s
        self.log_s = 0.0  # ln software level S (S = 1 at start_year)
        self.growth = 0.0  # log growth of compute purchases over the last step, 1/year
        self.spend_now = 0.0  # USD/year
        self.spend_next = 0.0
        self.revenue = 0.0  # USD/year
        self.humans = spec.researchers
        self.ai_researchers = 0.0  # researcher-equivalents
        self.research = 1.0  # research input R/R0
        self.multiplier = 1.0  # software progress rate vs humans alone
        # capability of the deployed system
        self.deployed = None
        self.best_physical = 0.0
        self.best_effective = 0.0
        self.horizon = 0.0
        self.rnd_auto = np.zeros(0)
        self.rnd_mass = 0.0
        self.review_auto = 0.0
        self.econ_auto = 0.0
        self.milestones: set[float] = set()
        self.trains_successor = False
        # the training run in progress
        self.generation = 0
        self.training = False
        self.run_end_step = -1
        self.run_log_s = 0.0  # ln S when the run started: the recipe it trains with
        self.run_flop = 0.0  # physical FLOP so far

    def decide(self) -> None:
        """Monthly decisions: compute spending now and next month; start a run when idle."""
        m = self.model
        self.spend_now = m.spend_rule(self, m.year)
        self.spend_next = m.spend_rule(self, m.year + m.dt)
        if not self.training:
            self.start_run()

    def start_run(self) -> None:
        """Start the next training run with today's recipe; report it to the regulator."""
        m = self.model
        months = self.spec.run_months
        self.training = True
        self.run_end_step = m.step_index + months
        self.run_log_s = self.log_s
        self.run_flop = 0.0
        planned = m.planned_run_flop(self, months)
        m.log_event("training_run_started", self.index, planned, f"generation {self.generation + 1}")
        regulator = m.regulator_for(self.jurisdiction)
        if regulator is not None:
            regulator.review_run(self, planned)

    def finish_run(self) -> None:
        """Deploy the run's system once the run has ended."""
        m = self.model
        if not self.training or m.step_index + 1 < self.run_end_step:  # after `run_months` advances
            return
        self.training = False
        self.generation += 1
        m.log_event("training_run_finished", self.index, self.run_flop,
                    f"generation {self.generation}")
        m.deploy(self, self.run_flop, self.run_flop * math.exp(self.run_log_s))
