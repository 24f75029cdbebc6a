"""Samplers and the run plan are pure functions of (spec, seed): the same spec gives the same
points, values, run order and seeds, and seeds are paired across lever sets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ixsim.analysis.sweep import load_sweep, plan_for
from ixsim.analysis.sweep.runs import run_seed
from ixsim.analysis.sweep.samplers import design_size, problem, unit_design
from tests.sweep.conftest import SMALL, SMALL_RUNS, write_spec


@pytest.mark.parametrize("sampler", ["monte-carlo", "latin-hypercube", "sobol", "morris", "grid"])
def test_each_sampler_is_a_pure_function_of_its_seed(sampler):
    a = unit_design(sampler, 3, samples=8, seed=11, grid_points=3)
    b = unit_design(sampler, 3, samples=8, seed=11, grid_points=3)
    assert np.array_equal(a, b)
    assert a.shape == (design_size(sampler, 3, samples=8, grid_points=3), 3)
    assert a.min() >= 0.0 and a.max() <= 1.0
    if sampler != "grid":  # the grid has no randomness
        assert not np.array_equal(a, unit_design(sampler, 3, samples=8, seed=12, grid_points=3))


def test_design_sizes_follow_each_scheme():
    assert design_size("sobol", 14, samples=512) == 512 * 16  # Saltelli, no second order
    assert design_size("morris", 14, samples=10) == 10 * 15  # trajectories of k + 1 points
    assert design_size("grid", 3, samples=1, grid_points=5) == 125
    assert problem(["a", "b"]) == {"num_vars": 2, "names": ["a", "b"],
                                   "bounds": [[0.0, 1.0], [0.0, 1.0]]}


def test_latin_hypercube_puts_one_point_in_each_stratum():
    u = unit_design("latin-hypercube", 2, samples=10, seed=0)
    for j in range(2):
        assert sorted(np.floor(u[:, j] * 10).astype(int)) == list(range(10))


def test_grid_is_every_combination_of_quantile_midpoints():
    u = unit_design("grid", 2, samples=1, seed=0, grid_points=2)
    assert u.tolist() == [[0.25, 0.25], [0.25, 0.75], [0.75, 0.25], [0.75, 0.75]]


def test_values_are_each_distributions_ppf_of_the_unit_points(small_spec):
    sweep = load_sweep(small_spec)
    plan = plan_for(sweep)
    r = stats.lognorm(s=0.2, scale=1.2).ppf(plan.unit[:, 0])
    rho = stats.uniform(loc=-1.0, scale=1.3).ppf(plan.unit[:, 1])
    assert np.allclose(plan.values[:, 0], r, rtol=1e-12)
    assert np.allclose(plan.values[:, 1], rho, rtol=1e-12)
    again = plan_for(load_sweep(small_spec))
    assert np.array_equal(plan.unit, again.unit) and np.array_equal(plan.values, again.values)


def test_morris_faces_map_to_finite_values(tmp_path):
    # Morris levels include 0 and 1; points are clipped to [1e-9, 1 - 1e-9] before the ppf
    text = SMALL.replace('sampler = "monte-carlo"\nsamples = 12',
                         'sampler = "morris"\nsamples = 4')
    plan = plan_for(load_sweep(write_spec(tmp_path, text)))
    assert {0.0, 1.0} <= set(np.unique(plan.unit))
    assert np.all(np.isfinite(plan.values))


def test_runs_are_ordered_by_sample_lever_set_and_seed_with_paired_seeds(small_spec):
    plan = plan_for(load_sweep(small_spec))
    assert (plan.n_runs, plan.n_chunks) == (SMALL_RUNS, 16)
    chunks = [plan.chunk(c) for c in range(plan.n_chunks)]
    run_id = np.concatenate([c.run_id for c in chunks])
    sample = np.concatenate([c.sample_id for c in chunks])
    lever = np.concatenate([c.lever_set for c in chunks])
    seed_index = np.concatenate([c.seed_index for c in chunks])
    seed = np.concatenate([c.seed for c in chunks])
    assert run_id.tolist() == list(range(SMALL_RUNS))
    assert run_id.tolist() == ((sample * 2 + lever) * 2 + seed_index).tolist()
    by_key: dict[tuple[int, int], set[int]] = {}
    for s, i, d in zip(sample, seed_index, seed):
        by_key.setdefault((int(s), int(i)), set()).add(int(d))
    assert all(len(seeds) == 1 for seeds in by_key.values())  # the same for both lever sets
    assert len({next(iter(v)) for v in by_key.values()}) == len(by_key)  # distinct otherwise
    assert seed[0] == run_seed(7, 0, 0) == np.random.SeedSequence(7).spawn(1)[0].spawn(1)[
        0].generate_state(1, np.uint32)[0]
    assert np.array_equal(plan.chunk(5).unit, plan.unit[plan.chunk(5).sample_id])
