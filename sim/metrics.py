"""Summary metrics: pure functions of a ``RunResult`` (its series, typed events and identity), so
a sweep worker and a reader of the store compute them the same way."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ixsim.sim.events import EventKind
from ixsim.sim.schema.actors import POLICY_LEVELS

if TYPE_CHECKING:
    from ixsim.sim.results import RunResult

PROGRESS_MILESTONES = (5, 25, 250, 2000)  # AI 2027's multipliers (CAL-9), for comparison
PAUSE_LEVEL = POLICY_LEVELS.index("pause")
# event and row times are the same float sums of the step length; a hair of slack (about 0.03 s
# of a year) keeps a row recorded at the event's step from being missed by rounding
YEAR_TOLERANCE = 1e-9


def first_event_time(events: dict[str, list[Any]], kind: EventKind, *, value: float | None = None,
                     level: int | None = None) -> float | None:
    """Earliest time of an event of ``kind`` (with that value or policy level), None if none."""
    times = [t for t, k, v, lv in zip(events["time"], events["kind"], events["value"],
                                       events["level"])
             if k == kind and (value is None or v == value) and (level is None or lv == level)]
    return min(times) if times else None


def count_events(events: dict[str, list[Any]], *kinds: EventKind,
                 before: float = math.inf) -> int:
    """How many events have one of ``kinds`` and happen strictly before year ``before``
    (every one of them by default)."""
    return sum(1 for t, k in zip(events["time"], events["kind"]) if k in kinds and t < before)


class EventIndex:
    """A result's events grouped by kind in one pass, answering ``first_event_time`` and
    ``count_events`` (the same answers) without reading the whole log for each: the summary
    asks about a dozen questions of logs of about a thousand events."""

    def __init__(self, events: dict[str, list[Any]]):
        self.by_kind: dict[str, list[tuple[float, float, int]]] = {}
        for t, k, v, lv in zip(events["time"], events["kind"], events["value"], events["level"]):
            group = self.by_kind.get(k)
            if group is None:
                group = self.by_kind[k] = []
            group.append((t, v, lv))

    def first_event_time(self, kind: EventKind, *, value: float | None = None,
                         level: int | None = None) -> float | None:
        times = [t for t, v, lv in self.by_kind.get(kind, ())
                 if (value is None or v == value) and (level is None or lv == level)]
        return min(times) if times else None

    def count_events(self, *kinds: EventKind, before: float = math.inf) -> int:
        return sum(1 for kind in dict.fromkeys(kinds) for t, _, _ in self.by_kind.get(kind, ())
                   if t < before)


def value_at(world: dict[str, np.ndarray], column: str, year: float) -> float:
    """``column`` in the first recorded row at or after ``year`` (the last row if none)."""
    time = world["time"]
    i = min(int(np.searchsorted(time, year - YEAR_TOLERANCE)), len(time) - 1)
    return float(world[column][i])


def first_time_at_least(world: dict[str, np.ndarray], column: str, level: float) -> float | None:
    """First recorded time at which ``column`` reaches ``level`` (None if never)."""
    hits = np.flatnonzero(world[column] >= level)
    return float(world["time"][hits[0]]) if hits.size else None


def peak_growth_oom_per_year(time: np.ndarray, flop: np.ndarray, window_years: float = 1.0) -> float:
    """Largest rise of log10 ``flop`` over any trailing window of ``window_years`` (OOM/year),
    over the rows where ``flop`` > 0 (before any lab enters it is 0); 0 if there are none."""
    keep = flop > 0
    if not keep.all():
        first = int(np.argmax(keep)) if keep.any() else len(flop)
        time, flop = time[first:], flop[first:]
        if len(time) < 2:
            return 0.0
    logf = np.log10(flop)
    span = time[-1] - time[0]
    if span <= 0:
        return 0.0
    window = min(window_years, span)
    lag = int(round(window / (time[1] - time[0])))
    if lag < 1:
        return 0.0
    return float(np.max(logf[lag:] - logf[:-lag]) / (lag * (time[1] - time[0])))


def summary_metrics(result: RunResult) -> dict[str, Any]:
    """The headline metrics of a run, with its identity (scenario, seed, calibration, version).

    Milestone years (``*_year``) are decimal years, None when the milestone is not reached by the
    run's end. Successor training is the headline: when it is not reached the run is censored,
    ``successor_training_year`` is None and ``censored_at`` holds the end year (read "later than
    ``censored_at``", never "never"); otherwise ``censored_at`` is None.

    Incidents: ``incidents_per_year`` is all incidents (minor and major) per year of the run;
    ``major_incidents_before_successor`` counts major incidents strictly before successor training
    (before the end when censored: then a lower bound); ``major_incident_before_successor`` is
    that count > 0, so its mean over seeds is the probability of a major incident while humans
    still train the systems. ``unreviewed_share_at_successor`` is the leader's share of R&D
    decisions taken without human review when successor training starts (None when censored):
    at the end of a run it is ~1 in every scenario, at successor training it differs.

    The leader's lead over the runner-up: ``max_leader_lead_oom`` in orders of magnitude of
    effective compute, ``max_leader_lead_months`` in months of the frontier's progress (the
    recorder's ``leader_lead_months``: months since the frontier had the runner-up's effective
    compute); ``lead_at_successor_*`` the same when successor training starts, the lead that
    decides who gets there first (None when censored). ``final_rnd_automation`` is gone: it was
    1.0 at the end of every run. Every value is finite or None (JSON-clean)."""
    world, index = result.world, EventIndex(result.events)
    t20 = index.first_event_time(EventKind.RND_AUTOMATION, value=0.2)
    t50 = index.first_event_time(EventKind.RND_AUTOMATION, value=0.5)
    t100 = index.first_event_time(EventKind.RND_AUTOMATION, value=1.0)
    successor = index.first_event_time(EventKind.SUCCESSOR_TRAINING)
    meta = result.meta
    end_year = float(world["time"][-1])
    run_years = end_year - meta["start_year"]
    incidents = (EventKind.INCIDENT_MINOR, EventKind.INCIDENT_MAJOR)
    horizon = math.inf if successor is None else successor  # "before successor training"
    major_before = index.count_events(EventKind.INCIDENT_MAJOR, before=horizon)
    summary = {
        "scenario": meta["scenario"],
        "seed": meta["seed"],
        "start_year": meta["start_year"],
        "end_year": end_year,
        "successor_training_year": successor,
        "censored_at": end_year if successor is None else None,
        "rnd_automation_20_year": t20,
        "rnd_automation_50_year": t50,
        "rnd_automation_100_year": t100,
        "takeoff_years": (t100 - t20) if (t20 is not None and t100 is not None) else None,
        "peak_effective_compute_growth_oom_per_year": peak_growth_oom_per_year(
            world["time"], world["frontier_effective_flop"]),
        **{f"progress_multiplier_{m}_year": first_time_at_least(world, "rnd_progress_multiplier", m)
           for m in PROGRESS_MILESTONES},
        "final_frontier_effective_flop": float(world["frontier_effective_flop"][-1]),
        "final_horizon_minutes": float(world["frontier_horizon_minutes"][-1]),
        "reported_training_runs": index.count_events(EventKind.RUN_REPORTED),
        "incidents_minor": index.count_events(EventKind.INCIDENT_MINOR),
        "incidents_major": index.count_events(EventKind.INCIDENT_MAJOR),
        "incidents_per_year": (index.count_events(*incidents) / run_years
                               if run_years > 0 else None),
        "major_incidents_before_successor": major_before,
        "major_incident_before_successor": major_before > 0,
        "unreviewed_share_at_successor": (None if successor is None else
                                          value_at(world, "unreviewed_share", successor)),
        "policy_changes": index.count_events(EventKind.POLICY_CHANGE, EventKind.POLICY_REPEAL),
        "first_pause_year": index.first_event_time(EventKind.POLICY_CHANGE, level=PAUSE_LEVEL),
        "treaty_year": index.first_event_time(EventKind.TREATY),
        "relocations": index.count_events(EventKind.RELOCATION_STARTED),
        "evasions": index.count_events(EventKind.EVASION),
        "evasions_detected": index.count_events(EventKind.EVASION_DETECTED),
        "max_leader_lead_oom": float(world["leader_lead_oom"].max()),
        "max_leader_lead_months": float(world["leader_lead_months"].max()),
        "lead_at_successor_oom": (None if successor is None else
                                  value_at(world, "leader_lead_oom", successor)),
        "lead_at_successor_months": (None if successor is None else
                                     value_at(world, "leader_lead_months", successor)),
        "final_compute_hhi": float(world["compute_hhi"][-1]),
        "peak_public_concern": float(world["public_concern"].max()),
        "calibration": meta["calibration"],
        "calibration_source": dict(meta["calibration_source"]),
        "ixsim_version": meta["ixsim_version"],
    }
    for key, value in summary.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"summary.{key} is not finite ({value})")
    return summary
