"""Summary metrics: censoring of the headline, incidents counted before successor training, the
leader's lead, on hand-built results (exact values) and on short real runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ixsim.analysis.store import summary_json
from ixsim.sim.events import EVENT_COLUMNS, EventKind
from ixsim.sim.metrics import count_events, summary_metrics, value_at
from ixsim.sim.model import simulate
from ixsim.sim.results import LAB_COLUMNS, WORLD_COLUMNS, RunResult
from ixsim.sim.scenario import load_scenario

START, END, STEPS_PER_YEAR = 2023.0, 2027.0, 12


def _result(events: list[tuple[float, EventKind, float]], **world_columns: np.ndarray) -> RunResult:
    """A one-lab RunResult from 2023 to 2027, monthly, with these (time, kind, value) events and
    these world columns (every other column 1.0, so log-scale metrics stay finite)."""
    time = START + np.arange(int((END - START) * STEPS_PER_YEAR) + 1) / STEPS_PER_YEAR
    world = {name: np.ones_like(time) for name in WORLD_COLUMNS}
    world["time"] = time
    world.update(world_columns)
    labs = {"time": time.copy(), "lab": np.array(["lab"] * len(time), dtype=object),
            **{name: np.ones_like(time) for name in LAB_COLUMNS}}
    rows = [(t, str(kind), "lab", value, "", -1, "") for t, kind, value in sorted(events)]
    log = {column: [row[j] for row in rows] for j, column in enumerate(EVENT_COLUMNS)}
    meta = {"scenario": "hand-built", "seed": 0, "start_year": START, "calibration": "published",
            "calibration_source": {}, "ixsim_version": "test"}
    return RunResult(meta, ["lab"], world, labs, log, {})


MAJOR, MINOR = EventKind.INCIDENT_MAJOR, EventKind.INCIDENT_MINOR
SUCCESSOR = EventKind.SUCCESSOR_TRAINING


def test_without_successor_training_the_headline_is_censored_at_the_end_year():
    s = summary_metrics(_result([(2024.5, MAJOR, 1.0), (2026.0, MAJOR, 1.0)]))
    assert s["successor_training_year"] is None
    assert s["censored_at"] == END
    assert s["unreviewed_share_at_successor"] is None
    # censored: "before successor training" means before the end, so every major incident counts
    assert s["major_incidents_before_successor"] == 2
    assert s["major_incident_before_successor"] is True


def test_with_successor_training_nothing_is_censored():
    s = summary_metrics(_result([(2025.25, SUCCESSOR, 1e30)]))
    assert s["successor_training_year"] == 2025.25
    assert s["censored_at"] is None


def test_only_major_incidents_strictly_before_successor_training_count():
    events = [(2024.0, MAJOR, 1.0), (2024.5, MINOR, 1.0), (2025.0, MAJOR, 1.0),
              (2025.5, SUCCESSOR, 1e30), (2025.5, MAJOR, 1.0), (2026.0, MAJOR, 1.0)]
    s = summary_metrics(_result(events))
    assert s["major_incidents_before_successor"] == 2  # the one in the same month is not before
    assert s["major_incident_before_successor"] is True
    assert s["incidents_major"] == 4 and s["incidents_minor"] == 1
    assert s["incidents_per_year"] == pytest.approx(5 / (END - START))


def test_no_major_incident_before_successor_training_is_false_not_zero_incidents():
    events = [(2024.5, MINOR, 1.0), (2025.0, SUCCESSOR, 1e30), (2025.1, MAJOR, 1.0)]
    s = summary_metrics(_result(events))
    assert s["major_incidents_before_successor"] == 0
    assert s["major_incident_before_successor"] is False
    assert s["incidents_major"] == 1


def test_unreviewed_share_is_read_in_the_month_successor_training_starts():
    time = START + np.arange(int((END - START) * STEPS_PER_YEAR) + 1) / STEPS_PER_YEAR
    unreviewed = np.clip((time - START) / (END - START), 0.0, 1.0)  # 0 -> 1 over the run
    successor = float(time[18])  # 2024.5, the same float sum as the recorded row
    s = summary_metrics(_result([(successor, SUCCESSOR, 1e30)], unreviewed_share=unreviewed))
    assert s["unreviewed_share_at_successor"] == pytest.approx(18 / 48)
    assert value_at({"time": time, "x": unreviewed}, "x", END + 5.0) == 1.0  # past the end: last


def test_lead_keys_are_the_largest_lead_in_oom_and_in_months():
    n = int((END - START) * STEPS_PER_YEAR) + 1
    lead_oom = np.zeros(n)
    lead_oom[10] = 0.7
    lead_oom[30] = 1.9
    lead_months = np.zeros(n)
    lead_months[20] = 14.0
    s = summary_metrics(_result([], leader_lead_oom=lead_oom, leader_lead_months=lead_months))
    assert s["max_leader_lead_oom"] == 1.9
    assert s["max_leader_lead_months"] == 14.0


def test_saturated_outcomes_are_no_longer_in_the_summary():
    s = summary_metrics(_result([]))
    assert "cumulative_risk" not in s and "final_unreviewed_share" not in s


def test_count_events_before_a_year_is_strict():
    events = {"time": [1.0, 2.0, 2.0, 3.0], "kind": [MAJOR, MAJOR, MINOR, MAJOR]}
    assert count_events(events, MAJOR) == 3
    assert count_events(events, MAJOR, before=2.0) == 1
    assert count_events(events, MAJOR, MINOR, before=2.5) == 3


def test_a_short_real_run_is_censored_at_its_end_and_json_clean():
    result = simulate(load_scenario("baseline", {"meta.end_year": 2026.0}), seed=0)
    s = result.summary()
    assert s["successor_training_year"] is None
    assert s["censored_at"] == pytest.approx(2026.0)
    majors = sum(1 for k in result.events["kind"] if k == EventKind.INCIDENT_MAJOR)
    assert s["major_incidents_before_successor"] == majors
    assert json.loads(summary_json(s))["censored_at"] == s["censored_at"]


def test_a_full_real_run_counts_only_incidents_before_its_successor_training():
    result = simulate(load_scenario("baseline"), seed=0)
    s = result.summary()
    year = s["successor_training_year"]
    assert year is not None and s["censored_at"] is None
    ev = result.events
    majors = [t for t, k in zip(ev["time"], ev["kind"]) if k == EventKind.INCIDENT_MAJOR]
    assert s["major_incidents_before_successor"] == sum(t < year for t in majors)
    assert s["major_incidents_before_successor"] < s["incidents_major"]  # most come later
    assert 0.0 <= s["unreviewed_share_at_successor"] < 1.0
    assert s["max_leader_lead_oom"] > 0.0
