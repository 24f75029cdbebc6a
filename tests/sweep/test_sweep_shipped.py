"""The sweep specs shipped in scenarios/sweeps/ load and check against their base scenario."""

from __future__ import annotations

import importlib.util

import pytest

from ixsim.analysis.sweep import load_sweep, plan_for, sweep_names

CATALOGUE = importlib.util.find_spec("ixsim.analysis.priors") is not None
needs_catalogue = pytest.mark.skipif(not CATALOGUE, reason="catalogue not present")


def test_the_three_specs_are_shipped():
    assert {"forecast", "sensitivity", "policy"} <= set(sweep_names())


@needs_catalogue
def test_forecast_is_monte_carlo_over_the_catalogue():
    from ixsim.analysis.priors import load_priors

    sweep = load_sweep("forecast")
    assert (sweep.sampler, sweep.base, sweep.from_catalogue) == ("monte-carlo", "baseline", True)
    assert sweep.parameters == load_priors().names
    assert plan_for(sweep).n_runs == sweep.samples == 1000


def test_sensitivity_is_sobol_over_at_least_twelve_independent_parameters():
    sweep = load_sweep("sensitivity")
    assert sweep.sampler == "sobol" and not sweep.from_catalogue
    assert len(sweep.parameters) >= 12
    assert plan_for(sweep).n_runs == sweep.samples * (len(sweep.parameters) + 2)


@needs_catalogue
def test_policy_pairs_lever_sets_over_the_same_draws():
    sweep = load_sweep("policy")
    assert set(sweep.lever_names) == {
        "regulators[0].trigger_concern", "regulators[0].compute_cap_flop",
        "export_controls[0].price_multiplier", "strategies.frontier.race_response"}
    plan = plan_for(sweep)
    chunk = plan.chunk(0)
    n_sets = len(sweep.lever_sets)
    assert n_sets == 36 and set(chunk.lever_set[:n_sets].tolist()) == set(range(n_sets))
    assert set(chunk.seed[:n_sets].tolist()) == {chunk.seed[0]}  # one seed for every lever set
    assert set(chunk.sample_id[:n_sets].tolist()) == {0}
