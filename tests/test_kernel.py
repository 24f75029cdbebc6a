"""The fused monthly laws (``sim/kernel.py``) against the pure functions they fuse, bit for bit,
and the model's memos and fast paths against what they stand for.

Bit for bit means equal ``repr`` of every float (so -0.0 differs from 0.0): the kernel must
compute the same operations in the same order, not merely close values.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os

import pytest

from ixsim.sim import continuous as dyn
from ixsim.sim import kernel
from ixsim.sim.dynamics import capability as cap
from ixsim.sim.metrics import EventIndex, count_events, first_event_time
from ixsim.sim.model import TakeoffModel, simulate
from ixsim.sim.events import EventKind
from ixsim.sim.scenario import load_scenario, scenario_names
from tests.conftest import BASELINE, SOFTWARE_ONLY

SCENARIOS = [*scenario_names(), str(SOFTWARE_ONLY)]


def _bits(state: dyn.LabState) -> str:
    return repr(dataclasses.astuple(state))


def _spec_step(c, state, jurisdiction, year, p_now, p_next, humans, spill_rate, spill_slope):
    """What the kernel fuses: hand_over, then advance_lab."""
    dyn.hand_over(c, state)
    return dyn.advance_lab(c, state, jurisdiction, year, p_now, p_next, humans,
                           (spill_rate, spill_slope))


def _kernel_step(c, state, jurisdiction, year, p_now, p_next, humans, spill_rate, spill_slope):
    """The kernel with the export terms the model passes (the export functions' values)."""
    return kernel.step_lab(c, state, year, p_now, p_next, humans, spill_rate, spill_slope,
                           dyn.export_price_multiplier(c, jurisdiction, year),
                           dyn.export_stock_cap(c, jurisdiction, year))


def _assert_same_step(c, state, *args):
    a, b = copy.copy(state), copy.copy(state)
    try:
        expected = _spec_step(c, a, *args)
    except (ArithmeticError, ValueError, RuntimeError) as error:  # the kernel fails alike
        with pytest.raises(type(error)):
            _kernel_step(c, b, *args)
        return
    got = _kernel_step(c, b, *args)
    assert repr(got) == repr(expected)
    assert _bits(b) == _bits(a)


def _recorded_steps(monkeypatch, spec, seed=0):
    """Every (constants, state before, jurisdiction, step_lab arguments) of one run."""
    model = TakeoffModel(spec, seed=seed, record=False)
    lab_of = {id(lab.state): lab for lab in model.lab_list}
    calls = []
    real = kernel.step_lab

    def spy(c, state, year, p_now, p_next, humans, spill_rate, spill_slope, price, stock_cap):
        jurisdiction = lab_of[id(state)].jurisdiction
        assert price == dyn.export_price_multiplier(c, jurisdiction, year)
        assert stock_cap == dyn.export_stock_cap(c, jurisdiction, year) or not c.export_controls
        calls.append((c, copy.copy(state), jurisdiction, year, p_now, p_next, humans, spill_rate,
                      spill_slope))
        return real(c, state, year, p_now, p_next, humans, spill_rate, spill_slope, price,
                    stock_cap)

    monkeypatch.setattr("ixsim.sim.model.step_lab", spy)
    model.run()
    return calls


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_step_lab_is_hand_over_then_advance_lab_bit_for_bit(monkeypatch, scenario):
    calls = _recorded_steps(monkeypatch, load_scenario(scenario))
    assert calls
    for c, state, *args in calls:
        _assert_same_step(c, state, *args)


def _consistent(c: dyn.Constants, **changes) -> dyn.Constants:
    """``c`` with ``changes`` and the fields derived from them as ``Constants.of`` derives them."""
    c = dataclasses.replace(c, **changes)
    return dataclasses.replace(
        c, research_exponent=c.returns_r * c.beta,
        decay_over_step=math.exp(-c.depreciation * c.dt),
        decay_over_half_step=math.exp(-c.depreciation * c.dt / 2),
        decayed_share_integral=dyn.phi(-c.depreciation, c.dt))


def _edge_cases():
    """States and constants that take the branches no shipped scenario takes every month."""
    spec = load_scenario(BASELINE)
    model = TakeoffModel(spec, seed=0, record=False)
    for _ in range(60):  # a few years in: automation under way, runs deployed
        model.step()
    lab = model.active_labs[0]
    c, base = model.constants, lab.state
    assert base.rnd_handover > 0.0
    year = model.year
    prices = (model.price_at(year), model.price_at(year + c.dt))
    states = {
        "as is": {},
        "no handover": {"rnd_handover": 0.0, "rnd_handover_target": 0.0},
        "first handover": {"rnd_handover": 0.0, "rnd_handover_target": 0.4},
        "all handed over": {"rnd_handover": 1.0, "rnd_handover_target": 1.0},
        "no review need": {"review_need": 1e-45, "review_need_target": 1e-45},
        "more review need": {"review_need": 0.1, "review_need_target": 0.9},
        "no experiments": {"share_experiments": 0.0},
        "no inference": {"share_inference": 0.0},
        "steady purchases": {"spend_next": base.spend_now * prices[0] / prices[1]},
        "nearly steady purchases": {"spend_next": base.spend_now * prices[0] / prices[1]
                                    * (1 + 5e-13)},
        "no spending": {"spend_now": 0.0, "spend_next": 0.0},
        "at the ceiling": {"ln_software": c.ln_software_ceiling},
        **{f"crossing a power of ten from {gap}": {"ln_software": 2 * math.log(10) - gap}
           for gap in (1e-3, 2.7e-3, 4.1e-3, 6e-3)},
        "crossing two powers of ten": {"ln_software": 2 * math.log(10) - 1e-3,
                                       "rnd_handover": 0.999, "rnd_handover_target": 0.999,
                                       "share_inference": 0.5},
    }
    constants = {
        "as is": {},
        "task Cobb-Douglas": {"task_rho": 1e-4},
        "task substitutes": {"task_rho": 0.5},
        "compute CES": {"compute_rho": -0.7},
        "compute substitutes": {"compute_rho": 0.6},
        "labour only": {"labour_weight": 1.0},
        "compute only": {"labour_weight": 0.0},
        "fast software": {"rate_per_year": 40.0},
        "k zero": {"beta": 0.0},
        "no depreciation": {"depreciation": 1e-13},
        "depreciation cancels growth": {"depreciation": -math.log(prices[1] / prices[0]) / c.dt},
    }
    spills = {"spillover": (0.3, -0.2), "no spillover": (0.0, 0.0)}
    for s_name, s_changes in states.items():
        for c_name, c_changes in constants.items():
            for spill_name, spill in spills.items():
                yield (f"{s_name}, {c_name}, {spill_name}", _consistent(c, **c_changes),
                       dataclasses.replace(base, **s_changes),
                       (lab.jurisdiction, year, *prices, base.humans, *spill))
    args = (lab.jurisdiction, year, *prices, base.humans, 0.3, -0.2)
    yield "no humans", c, copy.copy(base), args[:4] + (0.0,) + args[5:]
    # hand_over's branches: review need and R&D handover toward, away from and at their targets
    for need, need_target, handover, handover_target in (
            (1.0, 1.0, 0.0, 0.0), (1.0, 0.2, 0.0, 0.4), (0.5, 0.9, 0.3, 0.1), (0.5, 0.0, 0.3, 1.0),
            (0.0, 0.3, 0.6, 0.6), (0.4, 0.399, 0.2, 0.2001), (0.4, -0.1, -0.2, 0.5),
            (0.9, 0.1, 0.999, 0.2), (0.9, 0.1, 0.2, 0.95)):
        yield (f"hand-over {need}->{need_target}, {handover}->{handover_target}", c,
               dataclasses.replace(base, review_need=need, review_need_target=need_target,
                                   rnd_handover=handover, rnd_handover_target=handover_target),
               args)
    capped = dataclasses.replace(c, export_controls=tuple(
        ctl.model_copy(update={"target": lab.jurisdiction, "stock_cap_flop_per_s": base.stock / 2})
        for ctl in spec.export_controls))
    assert capped.export_controls
    yield "stock above an export cap", capped, copy.copy(base), args


@pytest.mark.parametrize("case", list(_edge_cases()), ids=lambda case: case[0])
def test_step_lab_matches_the_laws_at_their_edges(case):
    _, c, state, args = case
    _assert_same_step(c, state, *args)


def test_plan_spending_is_two_spend_rules_bit_for_bit(monkeypatch):
    calls = []
    real = kernel.plan_spending

    def spy(c, state, *args):
        calls.append((c, copy.copy(state), args))
        return real(c, state, *args)

    monkeypatch.setattr("ixsim.sim.agents.lab.plan_spending", spy)
    for name in scenario_names():
        TakeoffModel(load_scenario(name), seed=0, record=False).run()
    c0, s0, a0 = calls[len(calls) // 2]
    calls += [(c0, dataclasses.replace(s0, **changes), a0) for changes in (
        {"revenue": 0.0}, {"spend0": 0.0}, {"revenue": 1e30}, {"spend_now": 0.0})]
    calls.append((c0, s0, (a0[0], math.inf, a0[2], math.inf)))
    for c, state, (year, world, next_year, next_world) in calls:
        a, b = copy.copy(state), copy.copy(state)
        ramp = c.spend_ramp_per_step
        a.spend_now = min(dyn.spend_rule(c, a, year, world), a.spend_now * ramp)
        a.spend_next = min(dyn.spend_rule(c, a, next_year, next_world), a.spend_now * ramp)
        kernel.plan_spending(c, b, year, world, next_year, next_world)
        assert _bits(b) == _bits(a)


def test_constants_hold_the_logs_and_factors_they_name():
    c = dyn.Constants.of(load_scenario(BASELINE))
    assert c.log_task_hours_min == tuple(math.log(h) for h in c.task_hours_min)
    assert c.log_task_hours_max == tuple(math.log(h) for h in c.task_hours_max)
    assert c.log_review_hours == (math.log(c.review_hours[0][0]), math.log(c.review_hours[1][0]))
    assert c.decay_over_step == math.exp(-c.depreciation * c.dt)
    assert c.decayed_share_integral == dyn.phi(-c.depreciation, c.dt)
    assert c.spend_ramp_per_step == math.exp(c.log_max_spend_growth * c.dt)
    assert c.handover_floor_per_step == math.exp(-c.handover_efolds_per_step)


def test_capability_shares_from_logs_equal_the_shares_from_hours():
    lo, hi = (0.25, 2.0), (40.0, 500.0)
    for minutes in (1.0, 30.0, 600.0, 1e5, 1e9):
        log_fit = cap.log_fit_hours(minutes, 0.2)
        assert cap.automated_fraction(minutes, 0.2, lo, hi) == [
            cap.automated_share(log_fit, math.log(a), math.log(b)) for a, b in zip(lo, hi)]
        assert cap.human_review_need(minutes, 0.2, lo[0], hi[0]) == cap.review_need(
            log_fit, math.log(lo[0]), math.log(hi[0]))


@pytest.mark.parametrize("scenario", ["baseline", "coordinated-pause", "us-china-race"])
def test_event_index_answers_as_the_event_functions(scenario):
    events = simulate(load_scenario(scenario), seed=1).events
    index = EventIndex(events)
    for kind in EventKind:
        assert index.first_event_time(kind) == first_event_time(events, kind)
        for before in (math.inf, 2030.0, 2023.0):
            assert index.count_events(kind, before=before) == count_events(events, kind,
                                                                           before=before)
    for value in (0.2, 0.5, 1.0):
        assert (index.first_event_time(EventKind.RND_AUTOMATION, value=value)
                == first_event_time(events, EventKind.RND_AUTOMATION, value=value))
    for level in range(6):
        assert (index.first_event_time(EventKind.POLICY_CHANGE, level=level)
                == first_event_time(events, EventKind.POLICY_CHANGE, level=level))
    both = (EventKind.INCIDENT_MINOR, EventKind.INCIDENT_MAJOR, EventKind.INCIDENT_MAJOR)
    assert index.count_events(*both) == count_events(events, *both)


def test_year_memos_return_what_the_functions_give_now(monkeypatch):
    """price_at and gwp_at are memoised per year; gwp_at's memo is dropped when automation
    changes (a deploy or an entry), so each answer is the function's value at that moment."""
    real_gwp = TakeoffModel.gwp_at
    checked = []

    def checked_gwp(self, year):
        automated = max([lab.state.economic_automation for lab in self.active_labs],
                        default=0.0)
        value = real_gwp(self, year)
        assert value == dyn.gwp(self.constants, year, automated)
        assert self.price_at(year) == dyn.price_performance(self.constants, year)
        checked.append(year)
        return value

    monkeypatch.setattr(TakeoffModel, "gwp_at", checked_gwp)
    for name in ("baseline", "rsi-startup", "open-weights-diffusion"):
        TakeoffModel(load_scenario(name), seed=0, record=False).run()
    assert len(checked) > 1000


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_system_capability_and_review_needs_are_the_capability_laws_bit_for_bit(scenario):
    spec = load_scenario(scenario)
    c, s = dyn.Constants.of(spec), spec.capability
    for log10_effective in (-400.0, 0.0, 20.0, 24.5, 25.3, 27.0, 29.9, 33.0, 40.0, 400.0,
                            math.nan, math.inf):
        horizon = cap.horizon_minutes(log10_effective, c.reference_log10_flop,
                                      s.reference_horizon_minutes, s.oom_per_horizon_doubling,
                                      s.post_training_gain, s.post_training_gain_oom)
        log_fit = cap.log_fit_hours(horizon, s.automation_reliability)
        expected = (horizon, log_fit,
                    [cap.automated_share(log_fit, lo, hi)
                     for lo, hi in zip(c.log_task_hours_min, c.log_task_hours_max)],
                    float(cap.automated_share(log_fit, *c.log_review_hours)),
                    cap.automated_hours_share(horizon, 1.0, c.economy_hours[0][0],
                                              c.economy_hours[1][0]))
        assert repr(kernel.system_capability(c, s, log10_effective)) == repr(expected)
        needs = ([cap.review_need(log_fit, lo, hi)
                  for lo, hi in zip(c.log_task_hours_min, c.log_task_hours_max)],
                 cap.review_need(log_fit, *c.log_review_hours))
        assert repr(kernel.review_needs(c, log_fit)) == repr(needs)


def test_shuffle_is_random_shuffle():
    """The model's shuffle draws and swaps as ``random.Random.shuffle`` does."""
    import random

    from ixsim.sim.model import shuffle

    for seed in range(50):
        for n in (0, 1, 2, 3, 5, 8, 20, 100):
            a, b = random.Random(seed), random.Random(seed)
            mine, theirs = list(range(n)), list(range(n))
            shuffle(a, mine)
            b.shuffle(theirs)
            assert mine == theirs
            assert a.getstate() == b.getstate()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_price_performance_is_the_law_bit_for_bit(scenario):
    c = dyn.Constants.of(load_scenario(scenario))
    variants = [c, dataclasses.replace(c, log_utilisation_ceiling=0.0),
                dataclasses.replace(c, log_price_performance_ceiling=-1.0,
                                    log_utilisation_growth=-0.2),
                dataclasses.replace(c, log_price_performance_ceiling=1e-3)]
    for constants in variants:
        for year in (c.start_year - 3.0, c.start_year, c.start_year + 1 / 12, 2031.37, 2045.0,
                     2200.0):
            assert (repr(kernel.price_performance(constants, year))
                    == repr(dyn.price_performance(constants, year)))


def test_incident_hazards_are_the_risk_laws_bit_for_bit(monkeypatch):
    """``_incidents`` writes out incident_hazard and alignment_assurance: each lab's hazard
    after it is the laws' value at that moment."""
    from ixsim.sim.dynamics import risk as hazard

    real = TakeoffModel._incidents
    checked = []

    def checked_incidents(self):
        real(self)
        risk = self.spec.risk
        overload = self.overload()
        for lab in self.active_labs:
            expected = hazard.incident_hazard(
                risk.hazard_per_year_2023, risk.hazard_growth_per_oom,
                lab.log10_effective - self.constants.reference_log10_flop, overload,
                hazard.alignment_assurance(lab.safety_share, risk.safety_half_share, overload),
                risk.unreviewed_hazard, lab.state.unreviewed)
            assert repr(lab.hazard) == repr(expected)
            checked.append(lab.hazard)

    monkeypatch.setattr(TakeoffModel, "_incidents", checked_incidents)
    for name in ("baseline", "coordinated-pause", "rsi-startup"):
        TakeoffModel(load_scenario(name), seed=0, record=False).run()
    assert len(checked) > 1000


def test_export_terms_memo_returns_what_the_functions_give_now(monkeypatch):
    """export_terms keeps each jurisdiction's terms until the next of its controls starts:
    every answer is the export functions' value at that year."""
    real = TakeoffModel.export_terms
    checked = []

    def checked_terms(self, jurisdiction):
        terms = real(self, jurisdiction)
        c = self.constants
        assert terms == (dyn.export_price_multiplier(c, jurisdiction, self.year),
                         dyn.export_stock_cap(c, jurisdiction, self.year))
        checked.append(terms)
        return terms

    monkeypatch.setattr(TakeoffModel, "export_terms", checked_terms)
    for name in ("baseline", "compute-governance"):
        TakeoffModel(load_scenario(name), seed=0, record=False).run()
    assert len(checked) > 100


# -- the C forms (sim/_ckernel.c) against the Python forms of sim/kernel.py ----------------------


def _ckernel():
    """The C extension, bound by sim/kernel.py (also under IXSIM_PURE_PYTHON=1); skipped only
    where it is not built, which CI (CI=true) does not allow."""
    if kernel._ckernel is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("the C extension ixsim.sim._ckernel is not built (CI builds it)")
        pytest.skip("the optional C extension ixsim.sim._ckernel is not built "
                    "(no C compiler at install)")
    return kernel._ckernel


def _same_call(python_form, c_form, c, state, args):
    """Both forms on copies of ``state``: the same return (or exception type) and the same state,
    bit for bit."""
    a, b = copy.copy(state), copy.copy(state)
    try:
        expected = python_form(c, a, *args)
    except (ArithmeticError, ValueError, RuntimeError) as error:
        with pytest.raises(type(error)):
            c_form(c, b, *args)
        return
    got = c_form(c, b, *args)
    assert repr(got) == repr(expected)
    assert _bits(b) == _bits(a)


def _all_calls(monkeypatch, scenarios, pure=None):
    """Every (constants, state before, arguments) of step_lab and of plan_spending in a run of
    each scenario (seed 0), every month; and, in ``pure`` where given, every (constants,
    argument) of price_performance and review_needs."""
    steps, plans = [], []
    real_step, real_plan = kernel.step_lab, kernel.plan_spending
    if pure is not None:
        for name in ("price_performance", "review_needs"):
            def spy(c, x, real=getattr(kernel, name), name=name):
                pure.append((name, c, x))
                return real(c, x)

            monkeypatch.setattr(f"ixsim.sim.model.{name}", spy)

    def step_spy(c, state, *args):
        steps.append((c, copy.copy(state), args))
        return real_step(c, state, *args)

    def plan_spy(c, state, *args):
        plans.append((c, copy.copy(state), args))
        return real_plan(c, state, *args)

    monkeypatch.setattr("ixsim.sim.model.step_lab", step_spy)
    monkeypatch.setattr("ixsim.sim.agents.lab.plan_spending", plan_spy)
    for scenario in scenarios:
        TakeoffModel(load_scenario(scenario), seed=0, record=False).run()
    return steps, plans


def test_c_forms_are_the_python_forms_bit_for_bit_every_month(monkeypatch):
    ck = _ckernel()
    pure = []
    steps, plans = _all_calls(monkeypatch, SCENARIOS, pure)
    assert len(steps) > 1000 and len(plans) > 1000
    assert {name for name, *_ in pure} == {"price_performance", "review_needs"}
    before = ck.fallback_count()
    for c, state, args in steps:
        _same_call(kernel.py_step_lab, ck.step_lab, c, state, args)
    for c, state, args in plans:
        _same_call(kernel.py_plan_spending, ck.plan_spending, c, state, args)
    for name, c, x in pure:
        assert repr(getattr(ck, name)(c, x)) == repr(getattr(kernel, f"py_{name}")(c, x))
    # the shipped scenarios run wholly in C: the comparison above is of C, not of a fallback
    assert ck.fallback_count() == before


@pytest.mark.parametrize("case", list(_edge_cases()), ids=lambda case: case[0])
def test_c_step_lab_is_the_python_form_at_the_laws_edges(case):
    ck = _ckernel()
    _, c, state, (jurisdiction, year, p_now, p_next, humans, spill_rate, spill_slope) = case
    args = (year, p_now, p_next, humans, spill_rate, spill_slope,
            dyn.export_price_multiplier(c, jurisdiction, year),
            dyn.export_stock_cap(c, jurisdiction, year))
    _same_call(kernel.py_step_lab, ck.step_lab, c, state, args)


def test_c_forms_fall_back_alike_on_unusual_inputs(monkeypatch):
    """Ints, NaN, infinities, zeros and negatives: the C forms give what the Python forms give,
    or raise the same exception."""
    ck = _ckernel()
    steps, plans = _all_calls(monkeypatch, [BASELINE])
    c, state, args = steps[len(steps) // 2]
    _, c_plan, state_plan, plan_args = (None, *plans[len(plans) // 2])
    odd = (0, 1, -1.0, 0.0, -0.0, math.nan, math.inf, -math.inf, 1e308, 5e-324)
    for i in range(len(args)):
        for value in odd:
            _same_call(kernel.py_step_lab, ck.step_lab, c, state,
                       args[:i] + (value,) + args[i + 1:])
    for i in range(len(plan_args)):
        for value in odd:
            _same_call(kernel.py_plan_spending, ck.plan_spending, c_plan, state_plan,
                       plan_args[:i] + (value,) + plan_args[i + 1:])
    for field in ("stock", "ln_software", "spend_now", "spend_next", "share_inference",
                  "share_experiments", "review_need", "rnd_handover", "rnd_handover_target",
                  "spend0", "revenue", "entered_year"):
        for value in odd:
            changed = dataclasses.replace(state, **{field: value})
            _same_call(kernel.py_step_lab, ck.step_lab, c, changed, args)
            changed = dataclasses.replace(state_plan, **{field: value})
            _same_call(kernel.py_plan_spending, ck.plan_spending, c_plan, changed, plan_args)
    for field in ("dt", "inference_flop_per_s_per_researcher", "compute0", "labour0",
                  "rate_per_year", "beta", "research_exponent", "ai_parallel_exponent",
                  "reference_rate", "ln_software_ceiling", "spend_ramp_per_step",
                  "max_spend_share_of_gwp", "log_spend_growth"):
        for value in (0, 0.0, -1.0, math.nan, math.inf, 1e300):
            changed = dataclasses.replace(c, **{field: value})
            _same_call(kernel.py_step_lab, ck.step_lab, changed, state, args)
            changed = dataclasses.replace(c_plan, **{field: value})
            _same_call(kernel.py_plan_spending, ck.plan_spending, changed, state_plan, plan_args)
    for x in (*odd, 2023.0, 1e5, -1e5):
        for constants in (c, dataclasses.replace(c, log_utilisation_ceiling=0.0),
                          dataclasses.replace(c, log_price_performance_ceiling=math.nan),
                          dataclasses.replace(c, log_task_hours_max=c.log_task_hours_min),
                          dataclasses.replace(c, log_review_hours=(1.0, 1.0)),
                          dataclasses.replace(c, log_task_hours_min=())):
            for name in ("price_performance", "review_needs"):
                try:
                    expected = repr(getattr(kernel, f"py_{name}")(constants, x))
                except (ArithmeticError, ValueError) as error:
                    with pytest.raises(type(error)):
                        getattr(ck, name)(constants, x)
                    continue
                assert repr(getattr(ck, name)(constants, x)) == expected
    with pytest.raises(TypeError):  # a wrong call is Python's error too
        ck.step_lab(c, state)
