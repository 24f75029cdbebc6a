"""Property tests: random valid scenarios never crash or emit NaN/inf; higher r never delays
successor training."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ixsim.sim.model import simulate
from ixsim.sim.results import LAB_COLUMNS
from ixsim.sim.scenario import parse_scenario, with_overrides


@st.composite
def scenarios(draw, min_growth: float = 0.6, min_end: float = 2024.0, max_oom: float = 2.0,
              min_ceiling: float = 1.0):
    """Random valid scenarios around the baseline's structure, shortened to keep tests fast.

    ``min_growth`` bounds the yearly growth factors of spending, hardware and researchers.
    """
    n_labs = draw(st.integers(1, 3))
    labs = []
    for i in range(n_labs):
        shares = [draw(st.floats(0.01, 1.0)) for _ in range(4)]
        total = sum(shares)
        shares = [s / total for s in shares]
        shares[-1] = 1.0 - sum(shares[:-1])
        labs.append({
            "name": f"lab{i}",
            # lab 0 leads every input; others are fractions of it
            "compute_flop_per_s": 5e18 * (1.0 if i == 0 else draw(st.floats(0.01, 1.0))),
            "researchers": 1000.0 * (1.0 if i == 0 else draw(st.floats(0.0, 1.0))),
            "initial_system_flop": 2.1e25 * (1.0 if i == 0 else draw(st.floats(0.01, 1.0))),
            "strategy": "s0",
        })
        if i == 0:
            strategy = {
                "run_months": draw(st.integers(1, 12)),
                "safety_share": draw(st.floats(0.0, 0.5)),
                "race_response": draw(st.floats(0.0, 1.0)),
                "openness": draw(st.floats(0.0, 1.0)),
                "shares": dict(zip(("training", "experiments", "internal_inference",
                                    "deployment"), shares)),
            }
    edges = [{"source": "lab0", "target": f"lab{i}", "weight": draw(st.floats(0.0, 3.0))}
             for i in range(1, n_labs)]
    jurisdictions = ("US", "EU", "CN", "UK", "RoW")
    for lab in labs:
        lab["jurisdiction"] = draw(st.sampled_from(jurisdictions))
    data = {
        "meta": {"name": "random", "end_year": draw(st.integers(round(min_end * 12), 2045 * 12)) / 12},
        "software": {
            "returns_r": draw(st.floats(0.3, 4.0)),
            "beta": draw(st.floats(0.05, 2.0)),
            "rate_per_year": draw(st.floats(0.1, 3.0)),
            "ceiling_oom": draw(st.floats(min_ceiling, 20.0)),
            "labour_weight": draw(st.floats(0.0, 1.0)),
            "compute_rho": draw(st.floats(-5.0, 0.8)),
        },
        "labour": {
            "task_rho": draw(st.floats(-5.0, 0.8)),
            "review_ratio": draw(st.floats(0.1, 1000.0)),
            "researcher_growth_per_year": draw(st.floats(max(min_growth, 0.5), 1.5)),
        },
        "hardware": {"price_performance_growth_per_year": draw(st.floats(min_growth, 2.0))},
        "investment": {
            "spend_growth_per_year": draw(st.floats(min_growth, 5.0)),
            "value_capture_share": draw(st.floats(0.0, 0.05)),
        },
        "capability": {"oom_per_horizon_doubling": draw(st.floats(0.2, max_oom))},
        "labs": labs,
        "strategies": {"s0": strategy},
        "networks": {"spillover": {"edges": edges},
                     "coordination": {"generator": draw(st.sampled_from(
                         ["none", "complete", "ring", "erdos_renyi"]))}},
        "risk": {"hazard_per_year_2023": draw(st.floats(0.0, 1.0)),
                 "major_share": draw(st.floats(0.0, 1.0))},
        "regulators": [{"jurisdiction": j, "lag_years": draw(st.floats(0.05, 5.0)),
                        "initial_level": draw(st.sampled_from(["none", "reporting",
                                                               "evaluations"])),
                        "trigger_concern": draw(st.floats(0.0, 1.0))}
                       for j in jurisdictions],
    }
    return parse_scenario(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=scenarios(), seed=st.integers(0, 2**31))
def test_random_valid_scenarios_never_crash_or_emit_nan(spec, seed):
    result = simulate(spec, seed=seed)
    for name, values in result.world.items():
        assert np.all(np.isfinite(values)), name
    for name in LAB_COLUMNS:
        if name not in ("jurisdiction", "active"):
            assert np.all(np.isfinite(result.labs[name])), name
    for key, value in result.summary().items():
        assert not (isinstance(value, float) and not math.isfinite(value)), key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=scenarios(min_growth=1.0, min_end=2035.0, max_oom=0.7, min_ceiling=6.0), step=st.floats(0.05, 1.5), seed=st.integers(0, 1000))
def test_raising_r_never_delays_successor_training(spec, step, seed):
    """Holds where research inputs do not shrink and lab 0 leads: a larger lambda = r*beta then
    only speeds up the leading lab (R/R0 >= 1), and every later step follows monotonically.

    Policy and racing are held fixed (no climb past today's level, no repeal): both answer
    progress and can reverse the effect (faster progress brings an earlier pause, or keeps a
    rule that a calmer world repeals), which is a finding, not a bug. So is the software
    coefficient (fit_window_years 0): refit to the observed 2023-25 rate, a larger r starts
    slower where research input grows, by design."""
    low = with_overrides(spec, {
        "software.fit_window_years": 0.0,
        **{f"regulators[{i}].max_level": r.initial_level for i, r in enumerate(spec.regulators)},
        **{f"regulators[{i}].repeal_per_year": 0.0 for i in range(len(spec.regulators))},
        **{f"strategies.{name}.race_response": 0.0 for name in spec.strategies}})
    high = with_overrides(low, {"software.returns_r": min(10.0, spec.software.returns_r + step)})
    t_low = simulate(low, seed=seed).summary()["successor_training_year"]
    t_high = simulate(high, seed=seed).summary()["successor_training_year"]
    event("successor reached" if t_low is not None else "no successor before end")
    if t_low is not None:
        # no slack: the one-month delay hypothesis once found (r 3 -> 4, 2026.67 -> 2026.75)
        # was a US repeal of pre-deployment evaluations in the slower world (fewer incidents,
        # a different draw), not the dynamics; repeal is held off above
        assert t_high is not None and t_high <= t_low + 1e-9
