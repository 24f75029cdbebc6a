"""Each agent rule of the model, pinned: racing, rule responses, regulators, networks, risk."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest

from ixsim.sim.model import TakeoffModel, simulate
from ixsim.sim.networks import build_graph
from ixsim.sim.scenario import parse_scenario
from ixsim.sim.schema.actors import GraphSpec

QUIET_RISK = {"hazard_per_year_2023": 0.0, "concern_per_milestone": 0.0}


def scenario(labs, regulators, end=2027.0, **extra):
    data = {"meta": {"name": "rules", "end_year": end}, "labs": labs, "regulators": regulators,
            "risk": dict(QUIET_RISK)}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_scenario(data)


def events_of(result, kind, lab=None):
    ev = result.events
    return [(t, la, v, d) for t, k, la, v, d in zip(ev["time"], ev["kind"], ev["lab"], ev["value"],
                                                     ev["detail"])
            if k == kind and (lab is None or la == lab)]


def lab(name, jurisdiction="US", compute=5e18, strategy="frontier", **kw):
    return {"name": name, "jurisdiction": jurisdiction, "compute_flop_per_s": compute,
            "strategy": strategy, **kw}


def regulator(jurisdiction, level="none", **kw):
    return {"jurisdiction": jurisdiction, "initial_level": level, "repeal_per_year": 0.0,
            "trigger_concern": 1.0, **kw}


def test_racing_lowers_the_safety_share():
    alone = simulate(scenario([lab("a")], [regulator("US")]))
    close = simulate(scenario([lab("a"), lab("b", compute=4.9e18, initial_system_flop=2.1e25)],
                              [regulator("US")]))
    base = 0.05  # the frontier strategy's safety share
    assert alone.world["leader_safety_share"][5] == pytest.approx(base)
    assert close.world["leader_safety_share"][5] < 0.8 * base
    no_race = simulate(scenario([lab("a"), lab("b", compute=4.9e18)], [regulator("US")],
                                strategies={"frontier": {"race_response": 0.0}}))
    assert no_race.world["leader_safety_share"][5] == pytest.approx(base)


def test_compliant_lab_never_runs_above_a_binding_cap():
    cap = 3e26
    spec = scenario([lab("a", strategy="frontier")],
                    [regulator("US", "compute_cap", compute_cap_flop=cap)],
                    strategies={"frontier": {"law_abidance_months": 600.0}},
                    responses={"relocation_months": 120.0})
    result = simulate(spec)
    started = events_of(result, "training_run_started")
    finished = events_of(result, "training_run_finished")
    assert started and finished
    assert max(v for _, _, v, _ in started) <= cap * (1 + 1e-9)
    assert max(v for _, _, v, _ in finished) <= cap * 1.02  # planned at the current growth rate
    assert not events_of(result, "evasion")
    assert all("comply" in d for *_, d in events_of(result, "rule_response"))


def test_evasion_is_detected_at_the_configured_rate():
    p = 0.3
    spec = scenario([lab("a", compute=5e19)], [regulator("US", "pause", detection_probability=p)],
                    end=2024.0, strategies={"frontier": {"law_abidance_months": 0.0}},
                    responses={"relocation_months": 120.0})
    firsts = []
    for seed in range(400):
        result = simulate(spec, seed=seed)
        evasions = events_of(result, "evasion")
        assert evasions, "the lab should choose to evade"
        first_time = evasions[0][0]
        firsts.append(any(t == first_time for t, *_ in events_of(result, "evasion_detected")))
    n = len(firsts)
    rate = sum(firsts) / n
    assert abs(rate - p) < 3.5 * math.sqrt(p * (1 - p) / n)


def test_a_caught_lab_is_watched_and_stops_evading():
    spec = scenario([lab("a", compute=5e19)],
                    [regulator("US", "pause", detection_probability=0.5)], end=2025.0,
                    strategies={"frontier": {"law_abidance_months": 0.0}},
                    responses={"relocation_months": 120.0})
    caught = 0
    for seed in range(40):
        result = simulate(spec, seed=seed)
        detected = events_of(result, "evasion_detected")
        assert len(detected) <= 1
        if detected:
            caught += 1
            assert not [e for e in events_of(result, "evasion") if e[0] > detected[0][0]]
    assert caught > 5
    # certain detection makes evasion pointless: the lab never tries
    sure = scenario([lab("a", compute=5e19)], [regulator("US", "pause", detection_probability=1.0)],
                    end=2024.0, strategies={"frontier": {"law_abidance_months": 0.0}},
                    responses={"relocation_months": 120.0})
    assert not events_of(simulate(sure), "evasion")


def test_relocation_moves_a_lab_after_the_delay():
    spec = scenario([lab("a", compute=5e19)],
                    [regulator("US", "pause"), regulator("RoW", "none")],
                    strategies={"frontier": {"law_abidance_months": 600.0}},
                    responses={"relocation_months": 6.0, "relocation_compute_share": 0.1})
    result = simulate(spec)
    (t_start, _, months, detail), = events_of(result, "relocation_started")
    assert detail == "US -> RoW" and months == 6.0
    (t_done, _, _, _), = events_of(result, "relocated")
    assert t_done == pytest.approx(t_start + 0.5)
    labs = result.labs
    assert set(labs["jurisdiction"][labs["time"] < t_done - 1e-9]) == {"US"}
    assert set(labs["jurisdiction"][labs["time"] > t_done + 1e-9]) == {"RoW"}
    assert not [e for e in events_of(result, "training_run_started") if t_start <= e[0] < t_done]


def test_policy_diffuses_only_along_coordination_edges():
    regs = [regulator("US", trigger_concern=0.0, lag_years=0.5), regulator("UK"), regulator("CN")]
    spec = scenario([lab("a")], regs,
                    networks={"coordination": {"edges": [{"source": "US", "target": "UK"}]}})
    result = simulate(spec)
    changes = [(t, d.split(":")[0]) for t, _, _, d in events_of(result, "policy_change")]
    assert any(j == "US" for _, j in changes)
    assert any(j == "UK" for _, j in changes)
    assert not any(j == "CN" for _, j in changes)
    first_us = min(t for t, j in changes if j == "US")
    first_uk = min(t for t, j in changes if j == "UK")
    assert first_uk > first_us


def test_regulator_climbs_after_its_lag_and_faster_after_a_major_incident():
    spec = scenario([lab("a")], [regulator("US", trigger_concern=0.0, lag_years=1.0)])
    changes = events_of(simulate(spec), "policy_change")
    assert changes[0][0] == pytest.approx(2023.0 + 1.0 + 1 / 12, abs=1 / 12 + 1e-9)
    emergency = scenario([lab("a")], [regulator("US", lag_years=5.0, emergency_lag_years=0.25)],
                         risk={"hazard_per_year_2023": 10.0, "major_share": 1.0})
    result = simulate(emergency)
    first_major = events_of(result, "incident_major")[0][0]
    first_change = events_of(result, "policy_change")[0][0]
    assert first_change - first_major <= 0.25 + 2 / 12


def test_repeal_happens_at_the_configured_rate():
    spec = scenario([lab("a")], [regulator("US", "licensing", repeal_per_year=1.0,
                                           max_level="licensing")], end=2024.0)
    repealed = sum(bool(events_of(simulate(spec, seed=s), "policy_repeal")) for s in range(300))
    expected = 1 - math.exp(-1.0 * 1.0)  # at least one repeal within a year
    assert abs(repealed / 300 - expected) < 3.5 * math.sqrt(expected * (1 - expected) / 300)


def test_export_controls_raise_the_price_of_compute():
    base = [lab("a", "CN", compute=1e18)]
    free = simulate(scenario(base, [regulator("CN")]))
    controlled = simulate(scenario(base, [regulator("CN")], export_controls=[
        {"target": "CN", "start_year": 2023.0, "price_multiplier": 4.0}]))
    capped = simulate(scenario(base, [regulator("CN")], export_controls=[
        {"target": "CN", "start_year": 2023.0, "stock_cap_flop_per_s": 2e18}]))
    k_free = free.world["compute_flop_per_s"][-1]
    # less than the 4x price: the 2023 stock is bought already, and revenue-driven spending
    # grows alike for both once it dominates (0.73 in 2027 with the schema's defaults)
    assert controlled.world["compute_flop_per_s"][-1] < 0.8 * k_free
    assert capped.world["compute_flop_per_s"].max() <= 2e18 * 1.2


def test_treaty_forms_when_the_coalition_holds_enough_compute():
    labs = [lab("a", "US", compute=6e18), lab("b", "EU", compute=3e18), lab("c", "CN", 1e18)]
    regs = [regulator("US", "compute_cap"), regulator("EU", "compute_cap"), regulator("CN")]
    formed = simulate(scenario(labs, regs, end=2024.0, networks={"treaty_compute_share": 0.8}))
    assert events_of(formed, "treaty")
    not_formed = simulate(scenario(labs, regs, end=2024.0, networks={"treaty_compute_share": 0.95}))
    assert not events_of(not_formed, "treaty")


def test_incidents_follow_the_hazard_and_raise_concern():
    spec = scenario([lab("a")], [regulator("US")], end=2025.0,
                    risk={"hazard_per_year_2023": 2.0, "major_share": 0.0, "concern_per_minor": 0.1})
    result = simulate(spec)
    incidents = events_of(result, "incident_minor")
    assert incidents
    w = result.world
    i = int(np.searchsorted(w["time"], incidents[0][0] - 1e-9))
    assert w["public_concern"][i] >= 0.1 - 1e-12
    safe = scenario([lab("a")], [regulator("US")], end=2025.0,
                    strategies={"frontier": {"safety_share": 0.5, "race_response": 0.0}},
                    risk={"hazard_per_year_2023": 2.0})
    assert simulate(safe).world["hazard_per_year"][6] < w["hazard_per_year"][6]


def test_ai_systems_carry_alignment_assurance_and_successors_train_monthly():
    spec = scenario([lab("a")], [regulator("US")], end=2045.0)
    model = TakeoffModel(spec)
    result = model.run()
    year = result.summary()["successor_training_year"]
    assert year is not None
    systems = sorted((s for s in model.agents if hasattr(s, "alignment_assurance")),
                     key=lambda s: s.finished_year)
    assert all(0.0 <= s.alignment_assurance <= 1.0 for s in systems)
    after = [s.finished_year for s in systems if s.finished_year > year + 1e-9][:6]
    assert np.allclose(np.diff(after), 1 / 12)


def test_a_late_entrant_is_absent_until_it_enters():
    spec = scenario([lab("a"), lab("startup", strategy="rsi_startup", compute=1e18,
                                   entry_year=2025.0)], [regulator("US")])
    result = simulate(spec)
    (t, _, _, detail), = events_of(result, "lab_entered")
    assert t == pytest.approx(2025.0) and detail == "rsi_startup strategy"
    labs = result.labs
    before = (labs["lab"] == "startup") & (labs["time"] < 2025.0 - 1e-9)
    assert not labs["active"][before].any()
    assert not events_of(result, "training_run_started", "startup")[0][0] < 2025.0


@pytest.mark.parametrize("generator,edges", [("complete", 10), ("ring", 5), ("none", 0)])
def test_named_generators_build_the_expected_graph(generator, edges):
    graph = build_graph(GraphSpec(generator=generator), list("abcde"))
    assert graph.number_of_edges() == edges


def test_generated_graphs_are_part_of_the_scenario():
    a = build_graph(GraphSpec(generator="erdos_renyi", p=0.5, seed=3), list("abcdefgh"))
    b = build_graph(GraphSpec(generator="erdos_renyi", p=0.5, seed=3), list("abcdefgh"))
    assert sorted(a.edges) == sorted(b.edges)


def test_network_document_is_node_link_json(tmp_path):
    spec = scenario([lab("a"), lab("b", compute=1e18)], [regulator("US"), regulator("EU")],
                    end=2023.5, networks={"spillover": {"generator": "complete"},
                                          "coordination": {"generator": "complete"}})
    doc = simulate(spec).network
    graph = nx.node_link_graph(json.loads(json.dumps(doc)), edges="edges")
    kinds = sorted({d["kind"] for _, _, d in graph.edges(data=True)})
    assert kinds == ["coordination", "member", "spillover"]
