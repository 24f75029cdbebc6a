"""The one result type of a run: monthly world and lab series, the event log, summary metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ixsim.sim.model import TakeoffModel

WORLD_COLUMNS = (
    "time",  # decimal year
    "frontier_training_flop",  # largest physical training run finished so far, FLOP
    "frontier_effective_flop",  # physical FLOP x software level at the run's start, FLOP
    "frontier_horizon_minutes",  # 50% time horizon of the frontier system
    "rnd_automation",  # share of AI R&D automated at the most automated lab, 0..1
    "review_automation",  # share of human review of AI changes automated, 0..1
    "rnd_progress_multiplier",  # software progress rate vs the same lab's humans alone
    "software_level_max",  # effective FLOP per physical FLOP, best lab
    "economic_automation",  # share of economic tasks automated by the frontier, 0..1
    "compute_flop_per_s",  # all labs' compute stock, effective FLOP/s
    "spend_usd_per_year",  # all labs' compute spending
    "revenue_usd_per_year",  # all labs' AI revenue
    "ai_researchers",  # AI researcher-equivalents at work in all labs
    "human_researchers",  # human researchers in all labs
    "hazard_per_year",  # incident hazard summed over labs
    "cumulative_risk",  # probability of at least one incident so far (from the hazard)
    "frontier_loss_nats",  # compute-optimal loss at the frontier's effective compute
    "successor_training",  # 1 once any AI system can train its successor autonomously
    "unreviewed_share",  # share of the leader's R&D decisions taken without human review
    "leader_safety_share",  # share of the leader's compute spent on safety
    "leader_lead_months",  # leader's lead over the runner-up, months of frontier progress
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

EVENT_COLUMNS = ("time", "kind", "lab", "value", "detail")


@dataclass
class RunResult:
    """Everything one run produced; a pure function of (scenario, seed)."""

    scenario: str
    seed: int
    lab_names: list[str]
    world: dict[str, np.ndarray]
    labs: dict[str, np.ndarray]  # long format: one row per lab per month
    events: dict[str, list[Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)  # node-link document of the networks


def _first_time(events: list[tuple], kind: str, value: float | None = None) -> float | None:
    times = [e[0] for e in events if e[1] == kind and (value is None or e[3] == value)]
    return min(times) if times else None


PROGRESS_MILESTONES = (5, 25, 250, 2000)  # AI 2027's multipliers (CAL-9), for comparison


def _first_row_at(world: dict[str, np.ndarray], column: str, level: float) -> float | None:
    """First recorded time at which ``column`` reaches ``level`` (None if never)."""
    hits = np.flatnonzero(world[column] >= level)
    return float(world["time"][hits[0]]) if hits.size else None


def _count(events: dict[str, list[Any]], kind: str) -> int:
    return sum(1 for k in events["kind"] if k == kind)


def _first_policy(events: list[tuple], level: str) -> float | None:
    times = [e[0] for e in events if e[1] == "policy_change" and f": {level} (" in e[4]]
    return min(times) if times else None


def peak_growth_oom_per_year(time: np.ndarray, flop: np.ndarray, window_years: float = 1.0) -> float:
    """Largest rise of log10 ``flop`` over any trailing window of ``window_years`` (OOM/year)."""
    logf = np.log10(flop)
    span = time[-1] - time[0]
    if span <= 0:
        return 0.0
    window = min(window_years, span)
    lag = int(round(window / (time[1] - time[0])))
    if lag < 1:
        return 0.0
    return float(np.max(logf[lag:] - logf[:-lag]) / (lag * (time[1] - time[0])))


def summarise(model: TakeoffModel) -> RunResult:
    """Turn a finished model's arrays and events into a RunResult with summary metrics."""
    world_array, lab_array = model.arrays()
    world = {name: world_array[:, j].copy() for j, name in enumerate(WORLD_COLUMNS)}
    rows, n_labs, _ = lab_array.shape
    labs: dict[str, np.ndarray] = {
        "time": np.repeat(world["time"], n_labs),
        "lab": np.tile(np.array([lab.name for lab in model.lab_list], dtype=object), rows),
    }
    for j, name in enumerate(LAB_COLUMNS):
        labs[name] = lab_array[:, :, j].reshape(-1).copy()
    codes = {code: name for name, code in model.jurisdiction_codes.items()}
    labs["jurisdiction"] = np.array([codes[int(c)] for c in labs["jurisdiction"]], dtype=object)
    labs["active"] = labs["active"].astype(bool)
    names = [lab.name for lab in model.lab_list] + [""]  # index -1: world and regulator events
    ordered = sorted(model.events, key=lambda e: (e[0], e[2], e[1], e[3]))
    events = {
        "time": [e[0] for e in ordered],
        "kind": [e[1] for e in ordered],
        "lab": [names[e[2]] for e in ordered],
        "value": [e[3] for e in ordered],
        "detail": [e[4] for e in ordered],
    }
    t20 = _first_time(ordered, "rnd_automation", 0.2)
    t50 = _first_time(ordered, "rnd_automation", 0.5)
    t100 = _first_time(ordered, "rnd_automation", 1.0)
    from ixsim.sim import __version__

    summary = {
        "scenario": model.spec.meta.name,
        "seed": model.seed,
        "start_year": model.t0,
        "end_year": float(world["time"][-1]),
        "successor_training_year": _first_time(ordered, "successor_training"),
        "rnd_automation_20_year": t20,
        "rnd_automation_50_year": t50,
        "rnd_automation_100_year": t100,
        "takeoff_years": (t100 - t20) if (t20 is not None and t100 is not None) else None,
        "peak_effective_compute_growth_oom_per_year": peak_growth_oom_per_year(
            world["time"], world["frontier_effective_flop"]),
        **{f"progress_multiplier_{m}_year": _first_row_at(world, "rnd_progress_multiplier", m)
           for m in PROGRESS_MILESTONES},
        "final_frontier_effective_flop": float(world["frontier_effective_flop"][-1]),
        "final_rnd_automation": float(world["rnd_automation"][-1]),
        "final_horizon_minutes": float(world["frontier_horizon_minutes"][-1]),
        "cumulative_risk": float(world["cumulative_risk"][-1]),
        "reported_training_runs": _count(events, "run_reported"),
        "incidents_minor": _count(events, "incident_minor"),
        "incidents_major": _count(events, "incident_major"),
        "policy_changes": _count(events, "policy_change") + _count(events, "policy_repeal"),
        "first_pause_year": _first_policy(ordered, "pause"),
        "treaty_year": _first_time(ordered, "treaty"),
        "relocations": _count(events, "relocation_started"),
        "evasions": _count(events, "evasion"),
        "evasions_detected": _count(events, "evasion_detected"),
        "max_leader_lead_months": float(world["leader_lead_months"].max()),
        "final_compute_hhi": float(world["compute_hhi"][-1]),
        "final_unreviewed_share": float(world["unreviewed_share"][-1]),
        "peak_public_concern": float(world["public_concern"].max()),
        "calibration": model.spec.calibration,
        "calibration_source": model.spec.calibration_source,
        "ixsim_version": __version__,
    }
    for key, value in summary.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"summary.{key} is not finite ({value})")
    from ixsim.sim.networks import network_document

    network = network_document(model.spillover_graph, model.coordination_graph,
                               {lab.name: lab.jurisdiction for lab in model.lab_list})
    return RunResult(model.spec.meta.name, model.seed, names[:-1], world, labs, events, summary,
                     network)
