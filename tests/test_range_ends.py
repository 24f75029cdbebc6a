"""Every allowed value runs: each range end of every scenario number, alone and combined, gives a
finished run with finite metrics (the model handles it, or the schema's range excludes it)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ixsim.sim.model import simulate
from ixsim.sim.scenario import Scenario, ScenarioError, field_table, load_scenario, with_overrides

BASE = load_scenario("baseline")
ENDS = [(row["name"], end, row[end]) for row in field_table() for end in ("low", "high")
        if row[end] is not None]


def _paths(name: str, spec: Scenario) -> list[str]:
    """Concrete dotted paths of a schema row name (``labs[].x`` -> each lab's x)."""
    if "[]." in name:
        head, tail = name.split("[].", 1)
        if "." in head or "[]" in tail:  # nested lists (graph edges): none in the baseline
            return []
        return [f"{head}[{i}].{tail}" for i in range(len(getattr(spec, head)))]
    if ".<name>." in name:
        head, tail = name.split(".<name>.", 1)
        return [f"{head}.{key}.{tail}" for key in getattr(spec, head)]
    return [name]


def _check_runs(spec: Scenario) -> None:
    result = simulate(spec, seed=0)
    summary = result.summary()  # raises on a non-finite metric
    assert all(not isinstance(v, float) or math.isfinite(v) for v in summary.values())
    for name, values in result.world.items():
        assert np.all(np.isfinite(values)), name


@pytest.mark.parametrize("name,end,value", ENDS, ids=[f"{n}={e}" for n, e, _ in ENDS])
def test_each_range_end_alone_runs_to_the_end(name, end, value):
    overrides = {path: value for path in _paths(name, BASE)}
    if not overrides:
        pytest.skip(f"{name}: no such item in the baseline")
    try:
        spec = with_overrides(BASE, overrides)
    except ScenarioError as exc:  # refused by a cross-check (e.g. shares must sum to 1): fine
        assert all(line.startswith("error: ") for line in exc.lines())
        return
    _check_runs(spec)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ENDS), min_size=2, max_size=12, unique_by=lambda e: e[0]))
def test_range_ends_combined_run_to_the_end(ends):
    overrides = {path: value for name, _, value in ends for path in _paths(name, BASE)}
    try:
        spec = with_overrides(BASE, overrides)
    except ScenarioError:
        return
    _check_runs(spec)


def test_every_lab_entering_after_the_start_runs():
    spec = with_overrides(BASE, {f"labs[{i}].entry_year": 2026.0 + i for i in range(3)})
    result = simulate(spec)
    assert result.world["frontier_effective_flop"][0] == 0.0
    assert result.summary()["peak_effective_compute_growth_oom_per_year"] > 0


def test_extreme_range_ends_found_by_search_run_to_the_end():
    """Combinations a wider random search found non-finite (fixed: exogenous growth capped at
    e^600, the software law in logs where its power overflows, revenue shared before it is
    multiplied, a reference lab without research labour normalised by one researcher)."""
    ends = {(n, e): v for n, e, v in ENDS}
    cases = [
        [("labs[].researchers", "low"), ("capability.oom_per_horizon_doubling", "low")],
        [("investment.gwp_growth_per_year", "high"), ("meta.end_year", "high")],
        [("software.beta", "high"), ("software.returns_r", "high"),
         ("hardware.price_performance_ceiling_oom", "high")],
        [("labs[].researchers", "high"), ("investment.gwp_growth_per_year", "high"),
         ("hardware.price_performance_growth_per_year", "high"), ("meta.end_year", "high"),
         ("software.labour_weight", "low"), ("software.compute_rho", "low")],
        [("software.beta", "high"), ("software.rate_per_year", "high"),
         ("software.returns_r", "high"), ("software.compute_rho", "high"),
         ("investment.max_spend_share_of_gwp", "high")],
    ]
    for case in cases:
        overrides = {path: ends[key] for key in case for path in _paths(key[0], BASE)}
        _check_runs(with_overrides(BASE, overrides))
