"""Each named scenario differs from the baseline in the outcome its description is about, in the
direction it gives (seed 0; the mechanisms are deterministic at these margins)."""

from __future__ import annotations

from functools import cache

import numpy as np

from ixsim.sim.model import simulate
from ixsim.sim.scenario import load_scenario


@cache
def summary(name: str, **overrides) -> dict:
    return simulate(load_scenario(name, overrides), seed=0).summary()


BASE = "baseline"


def test_faster_software_stories_train_the_successor_sooner():
    base = summary(BASE)["successor_training_year"]
    for name in ("software-intelligence-explosion", "ai2027-like"):
        assert summary(name)["successor_training_year"] < base, name


def test_a_strong_compute_bottleneck_delays_the_successor():
    assert summary("slow-takeoff")["successor_training_year"] > summary(BASE)["successor_training_year"]


def test_compute_governance_delays_the_successor():
    got = summary("compute-governance")["successor_training_year"]
    assert got > summary(BASE)["successor_training_year"]


def test_the_ccf_story_automates_later_at_first():
    assert summary("ccf-like")["rnd_automation_20_year"] > summary(BASE)["rnd_automation_20_year"]


def test_open_weights_let_followers_close_the_gap():
    def challenger_at(name: str, year: float) -> float:
        result = simulate(load_scenario(name), seed=0)
        rows = result.labs["lab"] == "challenger"
        return float(np.interp(year, result.labs["time"][rows],
                               result.labs["effective_flop"][rows]))

    for year in (2025.0, 2026.0, 2027.0):
        assert challenger_at("open-weights-diffusion", year) > 1.5 * challenger_at(BASE, year)


def test_an_rsi_entrant_that_weighs_the_law_lightly_evades_rules():
    assert summary("rsi-startup")["evasions"] > summary(BASE)["evasions"]


def test_racing_moves_compute_into_capabilities_and_from_safety():
    def run(response: float):
        return simulate(load_scenario("us-china-race",
                                      {"strategies.frontier.race_response": response}), seed=0)

    calm, race = run(0.0), run(1.0)
    at = {name: np.interp(2027.0, r.world["time"], r.world["frontier_effective_flop"])
          for name, r in (("calm", calm), ("race", race))}
    assert at["race"] > 1.1 * at["calm"]  # more training compute, sooner deployment
    assert race.summary()["rnd_automation_20_year"] < calm.summary()["rnd_automation_20_year"]
    # while the race is on (before successor training, after which the leader pulls away)
    on = race.world["time"] < race.summary()["successor_training_year"]
    assert race.world["leader_safety_share"][on].mean() < \
        calm.world["leader_safety_share"][on].mean() / 2


def test_coordinated_regulators_reach_a_treaty_and_a_pause_sooner():
    base, coordinated = summary(BASE), summary("coordinated-pause")
    assert coordinated["treaty_year"] < base["treaty_year"]
    assert coordinated["first_pause_year"] <= base["first_pause_year"]
