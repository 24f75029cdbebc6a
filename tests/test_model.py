"""Model behaviour: determinism, events, agents, regulators and spillovers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixsim.sim.agents import AISystem, Lab, Regulator
from ixsim.sim.model import TakeoffModel, simulate
from ixsim.sim.results import LAB_COLUMNS, WORLD_COLUMNS
from ixsim.sim.scenario import load_scenario
from tests.conftest import BASELINE


@pytest.fixture(scope="module")
def baseline():
    return simulate(load_scenario(BASELINE), seed=3)


def test_one_row_per_month_from_start_to_end(baseline):
    t = baseline.world["time"]
    assert len(t) == 22 * 12 + 1
    assert t[0] == 2023.0 and t[-1] == pytest.approx(2045.0)
    assert np.allclose(np.diff(t), 1 / 12)
    assert set(baseline.world) == set(WORLD_COLUMNS)
    assert len(baseline.labs["time"]) == len(t) * 3
    assert set(LAB_COLUMNS) <= set(baseline.labs)


def test_outputs_are_finite(baseline):
    for name, values in baseline.world.items():
        assert np.all(np.isfinite(values)), name
    for name in LAB_COLUMNS:
        if name not in ("jurisdiction", "active"):
            assert np.all(np.isfinite(baseline.labs[name])), name


def test_same_seed_same_result_and_arrays():
    spec = load_scenario(BASELINE)
    a, b = simulate(spec, seed=7), simulate(spec, seed=7)
    assert a.summary() == b.summary()
    assert a.events == b.events
    for name in WORLD_COLUMNS:
        assert np.array_equal(a.world[name], b.world[name])


def test_frontier_series_never_fall(baseline):
    w = baseline.world
    for name in ("frontier_training_flop", "frontier_effective_flop", "rnd_automation",
                 "software_level_max", "cumulative_risk"):
        assert np.all(np.diff(w[name]) >= 0), name


def test_software_oom_events_mark_each_first_crossing(baseline):
    ev = baseline.events
    for lab in baseline.lab_names:
        powers = [v for k, la, v in zip(ev["kind"], ev["lab"], ev["value"])
                  if k == "software_oom" and la == lab]
        assert powers == list(range(1, len(powers) + 1))
        series = baseline.labs["software_level"][baseline.labs["lab"] == lab]
        assert len(powers) == int(math.floor(math.log10(series[-1]) + 1e-9))


def test_successor_training_only_when_everything_is_automated(baseline):
    ev = baseline.events
    year = baseline.summary()["successor_training_year"]
    assert year is not None
    w = baseline.world
    i = int(np.searchsorted(w["time"], year - 1e-9))
    assert w["rnd_automation"][i] == 1.0 and w["review_automation"][i] == 1.0
    assert w["rnd_automation"][i - 1] < 1.0 or w["review_automation"][i - 1] < 1.0
    assert baseline.summary()["rnd_automation_20_year"] <= baseline.summary()["rnd_automation_50_year"]
    assert "successor_training" in ev["kind"]


def test_agents_are_mesa_agents_and_runs_create_ai_systems():
    model = TakeoffModel(load_scenario(BASELINE, {"meta.end_year": 2025.0}))
    assert len(model.agents_by_type[Lab]) == 3
    assert len(model.agents_by_type[Regulator]) == len(model.spec.regulators) == 5
    before = len(model.agents_by_type[AISystem])
    model.run()
    systems = model.agents_by_type[AISystem]
    assert len(systems) > before
    gens = sorted(s.generation for s in systems if s.lab.name == "frontier-a")
    assert gens == list(range(len(gens)))  # one system per finished run, generation by generation


def test_regulator_reports_only_runs_above_its_threshold():
    spec = load_scenario(BASELINE, {"meta.end_year": 2026.0})
    result = simulate(spec)
    ev = result.events
    started = {(t, la): v for t, k, la, v in zip(ev["time"], ev["kind"], ev["lab"], ev["value"])
               if k == "training_run_started"}
    reported = {(t, la): v for t, k, la, v in zip(ev["time"], ev["kind"], ev["lab"], ev["value"])
                if k == "run_reported"}
    thresholds = {r.jurisdiction: r.reporting_threshold_flop for r in spec.regulators}
    where = {lab.name: lab.jurisdiction for lab in spec.labs}
    for key, flop in started.items():
        above = flop >= thresholds[where[key[1]]]
        assert (key in reported) == above, key


def test_spillover_lets_a_laggard_catch_up():
    base = {"meta.end_year": 2030.0, "labs[2].researchers": 10, "labs[2].compute_flop_per_s": 1e17}
    linked = simulate(load_scenario(BASELINE, base))
    alone = simulate(load_scenario(BASELINE, {**base, "networks.spillover_rate_per_year": 0}))

    def final_s(result, lab):
        return result.labs["software_level"][result.labs["lab"] == lab][-1]

    assert final_s(linked, "challenger") > 1.5 * final_s(alone, "challenger")


def test_until_stops_early():
    result = simulate(load_scenario(BASELINE, {"meta.end_year": 2024.5}))
    assert result.world["time"][-1] == pytest.approx(2024.5)
    assert result.summary()["end_year"] == pytest.approx(2024.5)
