"""The pure dynamics functions against closed forms, numerical integrals and limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.optimize import minimize_scalar

from ixsim.sim.dynamics import capability as cap
from ixsim.sim.dynamics import labour, risk, software
from ixsim.sim.dynamics.compute import balanced_stock, stock_step
from ixsim.sim.dynamics.growth import capped_log_growth, phi


def test_phi_is_the_integral_of_exponential_growth():
    for rate in (-2.0, -1e-14, 0.0, 1e-13, 0.7, 5.0):
        expected = quad(lambda t, rate=rate: math.exp(rate * t), 0.0, 0.25)[0]
        assert phi(rate, 0.25) == pytest.approx(expected, rel=1e-10)


def test_capped_growth_stops_at_the_ceiling():
    assert capped_log_growth(2.0, 0.5, 10.0) == pytest.approx(1.0)
    assert capped_log_growth(100.0, 0.5, 3.0) == pytest.approx(3.0, abs=1e-5)
    assert capped_log_growth(0.0, 0.5, 3.0) == 0.0
    # smooth: near the ceiling the factor is below both the line and the ceiling, no kink
    assert capped_log_growth(6.0, 0.5, 3.0) == pytest.approx(3.0 - math.log(2) / 4, abs=1e-5)
    slopes = [(capped_log_growth(t + 1e-4, 0.5, 3.0) - capped_log_growth(t, 0.5, 3.0)) / 1e-4
              for t in (5.0, 5.5, 6.0, 6.5, 7.0)]
    assert all(a > b for a, b in zip(slopes, slopes[1:]))  # the slope falls smoothly to 0


def test_stock_step_matches_numerical_integration():
    k0, f0, g, delta, dt = 3.0, 2.0, 0.8, 0.25, 0.5
    sol = solve_ivp(lambda t, y: [f0 * math.exp(g * t) - delta * y[0], y[0]], (0, dt), [k0, 0.0],
                    rtol=1e-12, atol=1e-12, dense_output=True)
    end, mid, integral = stock_step(k0, f0, g, delta, dt)
    assert end == pytest.approx(sol.y[0, -1], rel=1e-9)
    assert mid == pytest.approx(sol.sol(dt / 2)[0], rel=1e-9)
    assert integral == pytest.approx(sol.y[1, -1], rel=1e-9)


def test_stock_step_is_continuous_where_growth_cancels_depreciation():
    a = stock_step(1.0, 1.0, -0.25, 0.25, 1 / 12)
    b = stock_step(1.0, 1.0, -0.25 + 1e-6, 0.25, 1 / 12)
    assert a == pytest.approx(b, rel=1e-5)


def test_balanced_stock_grows_exactly_at_the_purchase_rate():
    g, delta, dt = 1.548, 0.25, 1 / 12
    k = balanced_stock(10.0, g, delta)
    f = 10.0
    for _ in range(24):
        k_next, _, _ = stock_step(k, f, g, delta, dt)
        assert k_next / k == pytest.approx(math.exp(g * dt), rel=1e-12)
        k, f = k_next, f * math.exp(g * dt)


@pytest.mark.parametrize("k", [-0.3, 0.0, 0.5, 2.0])
def test_software_advance_is_the_exact_solution(k):
    a, u0, dt = 0.8, 1.3, 0.4
    if k * a * dt >= 1:
        pytest.skip("blows up")
    sol = solve_ivp(lambda t, u: [a * math.exp(k * (u[0] - u0))], (0, dt), [u0], rtol=1e-12,
                    atol=1e-12)
    assert software.advance(u0, a, k, dt) == pytest.approx(sol.y[0, -1], rel=1e-9)
    target = software.advance(u0, a, k, dt)
    assert software.time_to_reach(u0, target, a, k) == pytest.approx(dt, rel=1e-9)


def test_software_advance_reports_blow_up_within_the_step():
    assert software.advance(0.0, 2.0, 1.0, 0.5) == math.inf  # blow-up exactly at 1/(k a) = 0.5
    assert math.isfinite(software.advance(0.0, 2.0, 1.0, 0.49))


def test_closed_form_time_limits():
    assert software.closed_form_time(math.e, 2.0, 0.0) == pytest.approx(0.5)
    # k > 0: approaches the blow-up time 1/(k rate) as S grows
    assert software.closed_form_time(1e300, 2.0, 0.5) == pytest.approx(1.0)


def test_growth_rate_follows_the_jones_law():
    r, beta = 1.5, 0.4
    rate = software.growth_rate(1.0, 4.0, math.log(9.0), r, beta)
    assert rate == pytest.approx(4.0 ** (r * beta) * 9.0 ** -beta)
    assert software.rate_elasticity(1.0, r, beta) == pytest.approx(beta * (r - 1))


def test_task_labour_limits():
    h, a = 100.0, 1e4
    assert labour.task_labour(h, a, 0.0, -1.0)[0] == pytest.approx(h)
    assert labour.task_labour(h, a, 1.0, -1.0)[0] == pytest.approx(h + a)
    assert labour.task_labour(0.0, a, 1.0, -1.0)[0] == pytest.approx(a)
    assert labour.task_labour(0.0, a, 0.5, -1.0)[0] == 0.0  # complements: half the work undone


def test_task_labour_never_falls_as_automation_or_ai_rises():
    for rho in (-4.0, -1.0, -1e-4, 0.5):
        fs = np.linspace(0.0, 1.0, 41)
        for a in (0.0, 1.0, 50.0, 1e5):
            values = [labour.task_labour(100.0, a, f, rho)[0] for f in fs]
            assert np.all(np.diff(values) >= -1e-9 * max(values))
        values = [labour.task_labour(100.0, a, 0.6, rho)[0] for a in np.logspace(-2, 6, 40)]
        assert np.all(np.diff(values) >= 0)


@pytest.mark.parametrize("f", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("a", [10.0, 1e4])
def test_task_labour_elasticity_matches_finite_difference(f, a):
    eps = 1e-6
    lo = labour.task_labour(100.0, a * (1 - eps), f, -1.0)[0]
    hi = labour.task_labour(100.0, a * (1 + eps), f, -1.0)[0]
    numeric = (math.log(hi) - math.log(lo)) / (math.log1p(eps) - math.log1p(-eps))
    assert labour.task_labour(100.0, a, f, -1.0)[1] == pytest.approx(numeric, rel=1e-4, abs=1e-9)


def test_review_bottleneck_caps_ai_labour_by_the_share_humans_still_review():
    capped, e = labour.review_limited(1e6, 100.0, 1.0, 10.0)
    assert capped == pytest.approx(1e6 * 1e3 / (1e3 + 1e6))
    assert capped < 1e3 and 0 < e < 1
    assert labour.review_limited(1e6, 100.0, 0.0, 10.0) == (1e6, 1.0)


def test_human_review_need_falls_smoothly_past_full_automation():
    from ixsim.sim.dynamics.capability import REVIEW_SOFTNESS, human_review_need

    lo, hi = 1.0, 2000.0
    minutes = [60.0 * 2.0 ** (k / 4) for k in range(0, 80)]  # horizons 1 h .. 2^20 h
    need = [human_review_need(m, 1.0, lo, hi) for m in minutes]
    assert need[0] == pytest.approx(1.0)
    assert all(a > b > 0.0 for a, b in zip(need, need[1:]))  # falls, never reaches 0
    # at the old corner (f = 1 at 2000 h) humans still review softness * ln 2 of changes
    assert human_review_need(60.0 * hi, 1.0, lo, hi) == pytest.approx(REVIEW_SOFTNESS * math.log(2))
    # each quarter-doubling of the horizon cuts the need by a bounded factor (no cliff)
    ratios = [a / b for a, b in zip(need, need[1:])]
    bound = math.exp(math.log(2) / 4 / (math.log(hi / lo) * REVIEW_SOFTNESS))
    assert max(ratios) <= bound * (1 + 1e-9)


def test_research_input_is_normalised_and_bottlenecked():
    assert labour.research_input(1.0, 1.0, 0.5, -0.5)[0] == pytest.approx(1.0)
    # complements: infinite labour with fixed compute gives a finite ceiling
    big = labour.research_input(1e12, 1.0, 0.5, -0.5)[0]
    assert big == pytest.approx(0.5 ** (1 / -0.5), rel=1e-5)
    cd = labour.research_input(4.0, 1.0, 0.5, 0.0)
    assert cd == pytest.approx((2.0, 0.5))


def test_horizon_doubles_per_configured_oom():
    base = cap.horizon_minutes(25.0, 25.0, 5.0, 0.656)
    assert base == 5.0
    assert cap.horizon_minutes(25.0 + 0.656 * 3, 25.0, 5.0, 0.656) == pytest.approx(40.0)


def test_the_post_training_gain_is_a_smooth_one_time_step():
    """The reference system keeps its horizon; well past the step the horizon is the trend's
    times the gain (so the long-run slope is unchanged); half the step's doublings sit at its
    centre; the step is continuous and monotone in effective compute."""
    trend = lambda x: cap.horizon_minutes(25.0 + x, 25.0, 2.0, 0.656)  # noqa: E731
    step = lambda x: cap.horizon_minutes(25.0 + x, 25.0, 2.0, 0.656, 8.0, 1.7)  # noqa: E731
    assert step(0.0) == 2.0
    assert step(5.0) / trend(5.0) == pytest.approx(8.0 / (8.0 ** cap._logistic(-1.7 / 0.2)))
    assert math.log2(step(1.7) / trend(1.7)) == pytest.approx(
        3.0 * (0.5 - cap._logistic(-1.7 / 0.2)))
    xs = np.linspace(-1.0, 6.0, 2001)
    ratios = np.array([math.log2(step(x) / trend(x)) for x in xs])
    assert np.all(np.diff(ratios) >= 0.0) and np.max(np.diff(ratios)) < 0.02  # no jump
    assert cap.horizon_minutes(27.0, 25.0, 2.0, 0.656, 1.0, 1.7) == trend(2.0)  # gain 1: off


def test_automated_fraction_is_linear_in_log_horizon_between_task_lengths():
    lo, hi = np.array([1.0]), np.array([100.0])
    minutes = lambda hours: hours * 60.0 / 0.5  # noqa: E731 - reliability 0.5
    assert cap.automated_fraction(minutes(0.5), 0.5, lo, hi)[0] == 0.0
    assert cap.automated_fraction(minutes(10.0), 0.5, lo, hi)[0] == pytest.approx(0.5)
    assert cap.automated_fraction(minutes(100.0), 0.5, lo, hi)[0] == 1.0


def test_chinchilla_optimal_loss_is_the_minimum_over_allocations():
    E, A, B, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28
    flop = 1e24
    res = minimize_scalar(lambda ln_n: E + A * math.exp(-alpha * ln_n)
                          + B * (flop / 6 / math.exp(ln_n)) ** -beta, bounds=(10, 40),
                          method="bounded", options={"xatol": 1e-10})
    assert cap.chinchilla_optimal_loss(flop, E, A, B, alpha, beta) == pytest.approx(res.fun,
                                                                                  rel=1e-9)


def test_hazard_rises_with_capability_overload_and_unreviewed_decisions():
    # at the reference capability, no overload and assurance one half: the base hazard
    assert risk.incident_hazard(0.01, 2.0, 0.0, 1.0, 0.5, 1.0, 0.0) == pytest.approx(0.01)
    assert risk.incident_hazard(0.01, 2.0, 2.0, 1.0, 0.5, 1.0, 0.0) == pytest.approx(0.04)
    overload = risk.oversight_overload(3.0, 1.0, 1.0)
    assert overload == 3.0 and risk.oversight_overload(0.5, 1.0, 2.0) == 1.0
    assert risk.incident_hazard(0.01, 2.0, 0.0, overload, 0.5, 1.0, 0.0) == pytest.approx(0.03)
    assert risk.incident_hazard(0.01, 2.0, 0.0, 1.0, 0.5, 1.0, 1.0) == pytest.approx(0.02)
    assert risk.alignment_assurance(0.05, 0.05, 1.0) == 0.5
    assert risk.alignment_assurance(0.05, 0.05, 3.0) == pytest.approx(0.25)
    assert risk.alignment_assurance(0.0, 0.0, 1.0) == 0.0
