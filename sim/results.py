"""The one result type of a run: monthly world and lab series, the typed event log, the
networks and the run's identity. Metrics are pure functions of it (``sim/metrics.py``), so they
are computed the same way in a worker and from the store."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ixsim.sim.events import EVENT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

WORLD_COLUMNS = (
    "time",  # decimal year
    "frontier_training_flop",  # largest physical training run finished so far, FLOP
    "frontier_effective_flop",  # physical FLOP x software level at the run's start, FLOP
    "frontier_horizon_minutes",  # 50% time horizon of the frontier system
    "rnd_automation",  # share of AI R&D automated at the most automated lab, 0..1
    "review_automation",  # share of human review of AI changes automated, 0..1
    "rnd_progress_multiplier",  # software progress rate vs the 2023 humans-only rate (AI 2027)
    "software_level_max",  # effective FLOP per physical FLOP, best lab
    "economic_automation",  # share of economic work hours automated by the frontier, 0..1
    "compute_flop_per_s",  # all labs' compute stock, effective FLOP/s
    "spend_usd_per_year",  # all labs' compute spending
    "revenue_usd_per_year",  # all labs' AI revenue
    "gwp_usd_per_year",  # gross world product, raised by automation of work hours
    "ai_researchers",  # AI researcher-equivalents at work in all labs
    "human_researchers",  # human researchers in all labs
    "hazard_per_year",  # incident hazard summed over labs
    "cumulative_risk",  # probability of at least one incident so far (from the hazard)
    "frontier_loss_nats",  # compute-optimal loss at the frontier's effective compute
    "successor_training",  # 1 once any AI system can train its successor autonomously
    "unreviewed_share",  # share of the leader's R&D decisions taken without human review
    "leader_safety_share",  # share of the leader's compute spent on safety
    "leader_lead_oom",  # leader's lead over the runner-up, OOM of effective compute
    "leader_lead_months",  # months since the frontier had the runner-up's effective compute
    "compute_hhi",  # concentration: Herfindahl index of labs' effective compute, 0..1
    "public_concern",  # concern index 0..1 that regulators react to
    "incidents",  # incidents so far (minor and major)
    "policy_changes",  # policy levels enacted or repealed so far
    "max_policy_level",  # strictest policy in force: 0 none .. 5 pause
)

LAB_COLUMNS = (
    "compute_flop_per_s",
    "spend_usd_per_year",
    "revenue_usd_per_year",
    "software_level",
    "training_flop",
    "effective_flop",
    "horizon_minutes",
    "rnd_automation",
    "review_automation",
    "economic_automation",
    "rnd_progress_multiplier",
    "human_researchers",
    "ai_researchers",
    "research_input",
    "safety_share",
    "unreviewed_share",
    "hazard_per_year",
    "jurisdiction",  # replaced by its name in RunResult.labs
    "active",  # 0 before a lab enters
)



@dataclass(frozen=True)
class RunResult:
    """Everything one run produced; a pure function of (scenario, seed).

    ``meta``: scenario name, seed, start year, calibration and its sources, ixsim version.
    ``world``: one array per ``WORLD_COLUMNS`` entry, one row a step. ``labs``: long format,
    one row per lab per step (``time``, ``lab`` and ``LAB_COLUMNS``). ``events``: one list per
    ``EVENT_COLUMNS`` entry, in time order. ``network``: node-link document of the networks."""

    meta: dict[str, Any]
    lab_names: list[str]
    world: dict[str, np.ndarray]
    labs: dict[str, np.ndarray]
    events: dict[str, list[Any]]
    network: dict[str, Any]

    @property
    def scenario(self) -> str:
        return self.meta["scenario"]

    @property
    def seed(self) -> int:
        return self.meta["seed"]

    @cached_property
    def _summary(self) -> dict[str, Any]:
        from ixsim.sim.metrics import summary_metrics

        return summary_metrics(self)

    def summary(self) -> dict[str, Any]:
        """The headline metrics and the run's identity (a new dict each call)."""
        return dict(self._summary)

    def frames(self) -> dict[str, pd.DataFrame]:
        """pandas DataFrames ``world``, ``labs`` and ``events`` (pandas is imported on demand)."""
        import pandas as pd

        return {"world": pd.DataFrame(self.world), "labs": pd.DataFrame(self.labs),
                "events": pd.DataFrame({c: self.events[c] for c in EVENT_COLUMNS})}
