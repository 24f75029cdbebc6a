"""The forecast's statistics: history-matching weights, effective sample size, censored dates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixsim.analysis import forecast as fc
from ixsim.sim.sources import resolve_citation


def test_a_draw_that_fits_the_observations_weighs_more_than_one_that_does_not():
    loglik = np.array([-10.0, -12.0, -40.0, np.nan])
    max_z = np.array([1.0, 2.0, 3.5, 1.0])
    w = fc.history_weights(loglik, max_z, temperature=1.0)
    assert w.sum() == pytest.approx(1.0)
    assert w[0] > w[1] > w[2] >= 0.0 and w[3] == 0.0
    assert w[0] / w[1] == pytest.approx(math.exp(2.0))
    tempered = fc.history_weights(loglik, max_z)
    assert tempered[0] / tempered[1] == pytest.approx(math.exp(2.0 / fc.TEMPERATURE))
    ruled_out = fc.history_weights(np.array([-1.0, -2.0]), np.array([4.5, 1.0]))
    assert ruled_out[0] == 0.0 and ruled_out[1] == 1.0  # beyond 4 sigma: history matching


def test_effective_sample_size():
    assert fc.effective_sample_size(np.full(50, 0.02)) == pytest.approx(50.0)
    assert fc.effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert fc.effective_sample_size(np.zeros(3)) == 0.0


def test_censored_draws_count_as_later_never_dropped():
    dates = np.array([2027.5, 2028.2, np.nan, np.nan])
    w = np.full(4, 0.25)
    p = fc.p_by_year(dates, w, [2027, 2028, 2040])
    assert p[2027].p == pytest.approx(0.25)
    assert p[2028].p == pytest.approx(0.5)
    assert p[2040].p == pytest.approx(0.5)  # the censored half never counts as reached
    assert 0.0 <= p[2028].low < 0.5 < p[2028].high <= 1.0
    q = fc.weighted_quantiles(dates, w, (0.1, 0.5, 0.9))
    assert q[0.1] == 2027.5 and q[0.5] == 2028.2 and math.isinf(q[0.9])


def test_weighted_quantiles_follow_the_weights():
    dates = np.array([2030.0, 2040.0])
    assert fc.weighted_quantiles(dates, np.array([0.9, 0.1]), (0.5,))[0.5] == 2030.0
    assert fc.weighted_quantiles(dates, np.array([0.1, 0.9]), (0.5,))[0.5] == 2040.0


def test_reference_points_cite_rows_that_exist():
    assert all(resolve_citation(row) for row, _, _ in fc.REFERENCE_POINTS)


def test_the_observation_fit_of_a_run_ranks_settings_as_the_backtest_does():
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario

    good = simulate(load_scenario("baseline", {"meta.end_year": 2026.0}), seed=0)
    bad = simulate(load_scenario("baseline", {"meta.end_year": 2026.0,  # no 2024-25 step
                                              "capability.oom_per_horizon_doubling": 0.8,
                                              "capability.post_training_gain": 1.0}), seed=0)
    (ll_good, z_good), (ll_bad, z_bad) = fc.observation_fit(good), fc.observation_fit(bad)
    assert ll_good > ll_bad + 20 and z_bad > z_good
    w = fc.history_weights(np.array([ll_good, ll_bad]), np.array([z_good, z_bad]))
    assert w[0] > 0.99


def test_the_temperature_is_the_squared_birge_ratio_of_the_horizon_fit():
    from ixsim.analysis.horizon_fit import derive

    assert derive().birge ** 2 == pytest.approx(fc.TEMPERATURE, abs=0.15)
