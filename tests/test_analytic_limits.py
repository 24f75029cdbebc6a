"""The model against its analytic limits: the software law's closed form and pure compute growth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixsim.sim.dynamics.software import closed_form_time
from ixsim.sim.model import simulate
from ixsim.sim.scenario import load_scenario
from tests.conftest import BASELINE, SOFTWARE_ONLY


def _oom_events(result):
    ev = result.events
    return [(t, v) for t, k, v in zip(ev["time"], ev["kind"], ev["value"]) if k == "software_oom"]


@pytest.mark.parametrize("r", [0.7, 1.0, 1.5, 3.0])
def test_software_oom_times_match_closed_form(r):
    spec = load_scenario(SOFTWARE_ONLY, {"software.returns_r": r})
    sw = spec.software
    k = sw.beta * (r - 1)
    events = _oom_events(simulate(spec))
    assert len(events) >= 4
    assert [v for _, v in events] == list(range(1, len(events) + 1))
    for year, power in events:
        expected = closed_form_time(10.0 ** power, sw.rate_per_year, k)
        assert year - spec.meta.start_year == pytest.approx(expected, rel=0.01)
    if k > 0:  # every crossing before the blow-up, all the way to the ceiling
        assert len(events) == int(sw.ceiling_oom)
        assert events[-1][0] - spec.meta.start_year <= 1 / (k * sw.rate_per_year) + 1e-9


def test_blow_up_inside_one_month_is_resolved():
    # k * rate = 24/yr: the blow-up comes half a month after the start
    spec = load_scenario(SOFTWARE_ONLY, {"software.returns_r": 3.0, "software.rate_per_year": 24.0,
                                         "meta.end_year": 2024.0})
    events = _oom_events(simulate(spec))
    assert len(events) == 30
    for year, power in events:
        expected = closed_form_time(10.0 ** power, 24.0, 1.0)
        assert year - 2023.0 == pytest.approx(expected, rel=1e-6)
    assert events[-1][0] <= 2023.0 + 1 / 24 + 1e-9  # S reaches 1e30 just before the blow-up


def test_frontier_compute_grows_at_spending_times_hardware_rate_without_automation():
    sets = {
        "capability.oom_per_horizon_doubling": 10.0,  # the horizon barely moves: no automation
        "investment.value_capture_share": 0.0,
        "investment.max_spend_share_of_gwp": 0.5,
        "hardware.price_performance_ceiling_oom": 30,
        "hardware.utilisation_ceiling_oom": 30,
        "meta.end_year": 2033.0,
    }
    spec = load_scenario(BASELINE, sets)
    result = simulate(spec)
    w = result.world
    assert w["rnd_automation"].max() == 0.0
    hw, inv = spec.hardware, spec.investment
    expected = (inv.spend_growth_per_year * hw.price_performance_growth_per_year
                * hw.utilisation_growth_per_year)
    t = w["time"]
    i, j = np.searchsorted(t, 2025.0 - 1e-9), np.searchsorted(t, 2032.0 - 1e-9)
    years = t[j] - t[i]
    measured = (w["frontier_training_flop"][j] / w["frontier_training_flop"][i]) ** (1 / years)
    assert measured == pytest.approx(expected, rel=0.01)
    assert math.isclose(years, 7.0, rel_tol=1e-9)
