"""fits.py: the scaling-law fit, compute-equivalent gains and the returns estimator."""

import numpy as np
import pytest

from ixsim.training import fits

TRUE = {"E": 1.0, "A": 50.0, "B": 300.0, "alpha": 0.35, "beta": 0.40}


def _synthetic(noise: float, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(1e4, 1e7, 6), 5)
    d = np.tile(np.geomspace(1e6, 1e9, 5), 6)
    loss = TRUE["E"] + TRUE["A"] / n ** TRUE["alpha"] + TRUE["B"] / d ** TRUE["beta"]
    return n, d, loss * np.exp(rng.normal(0.0, noise, loss.size))


def test_scaling_fit_recovers_known_parameters_from_noisy_losses():
    fit = fits.fit_scaling_law(*_synthetic(noise=0.003))
    assert fit.alpha == pytest.approx(TRUE["alpha"], abs=0.02)
    assert fit.beta == pytest.approx(TRUE["beta"], abs=0.02)
    assert fit.E == pytest.approx(TRUE["E"], rel=0.03)
    assert fit.A == pytest.approx(TRUE["A"], rel=0.3)
    assert fit.B == pytest.approx(TRUE["B"], rel=0.3)


def test_allocation_exponents_are_beta_and_alpha_shares():
    fit = fits.ScalingFit(E=1, A=1, B=1, alpha=0.34, beta=0.28, objective=0)
    assert fit.allocation_a == pytest.approx(0.28 / 0.62)
    assert fit.allocation_a + fit.allocation_b == pytest.approx(1.0)


def test_scaling_bootstrap_interval_covers_true_exponents():
    n, d, loss = _synthetic(noise=0.01, seed=2)
    fit = fits.fit_scaling_law(n, d, loss)
    boot = fits.bootstrap_scaling_law(n, d, loss, fit, n_boot=30, rng=np.random.default_rng(0))
    for key in ("alpha", "beta"):
        low, high = fits.interval(boot[key])
        assert low <= TRUE[key] <= high
        assert high - low < 0.3


def test_returns_slope_recovers_known_r():
    rng = np.random.default_rng(3)
    compute = 2.0 ** np.arange(6) * 1e12
    efficiency = 1.3 * (compute / compute[0]) ** 1.4 * np.exp(rng.normal(0, 0.02, compute.size))
    assert fits.returns_slope(compute, efficiency) == pytest.approx(1.4, abs=0.05)


def test_returns_bootstrap_interval_covers_known_r():
    rng = np.random.default_rng(4)
    compute = 2.0 ** np.arange(6)

    def draw(r: np.random.Generator) -> np.ndarray:
        return compute**0.8 * np.exp(r.normal(0, 0.05, compute.size))

    boot = fits.bootstrap_returns(compute, draw, n_boot=200, rng=rng)
    low, high = fits.interval(boot)
    assert low < 0.8 < high


def test_compute_to_reach_is_exact_on_a_power_law():
    compute = np.geomspace(1e10, 1e13, 7)
    loss = 10.0 * compute**-0.05
    target_compute = 3.3e11
    c, where = fits.compute_to_reach(compute, loss, 10.0 * target_compute**-0.05)
    assert c == pytest.approx(target_compute, rel=1e-9)
    assert where == ""


def test_gain_of_the_reference_recipe_on_its_own_curve_is_one():
    compute = np.geomspace(1e10, 1e12, 5)
    by_seed = np.stack([3.0 * compute**-0.03, 3.1 * compute**-0.03])
    gain = fits.compute_equivalent_gain(compute, by_seed, by_seed[:, 2], compute[2])
    assert gain.gain == pytest.approx(1.0)


def test_gain_beyond_the_measured_curve_is_extrapolated_and_flagged():
    compute = np.geomspace(1e10, 1e12, 5)
    loss = 5.0 * compute**-0.05
    target = 5.0 * 1e13**-0.05  # the old recipe would need 1e13 FLOP
    gain = fits.compute_equivalent_gain(compute, loss[None, :], [target], 1e11)
    assert gain.extrapolated == "above"
    assert gain.gain == pytest.approx(100.0, rel=1e-6)


def test_diverged_recipe_gets_the_smallest_measured_gain():
    compute = np.geomspace(1e10, 1e12, 5)
    gain = fits.compute_equivalent_gain(compute, [5.0 * compute**-0.05], [np.nan], 1e11)
    assert gain.extrapolated == "below"
    assert gain.gain == pytest.approx(0.1)
