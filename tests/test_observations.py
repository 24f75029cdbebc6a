"""Scoring dated observations against a run (analysis/observations.py), on hand-made rows and a
hand-made run whose values are known exactly; no model runs, so every test takes milliseconds."""

from __future__ import annotations

import datetime
import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from ixsim.analysis import observations as obs
from ixsim.sim.sources import Observation, observations

START = 2023.0
MONTHS = START + np.arange(49) / 12.0  # 2023.0 .. 2027.0, monthly


def _obs(day: str, value: float, low: float | None = None, high: float | None = None,
         quantity: str = "metr_p50_horizon", subject: str = "m", sota: bool = True) -> Observation:
    return Observation(datetime.date.fromisoformat(day), quantity, subject, value, low, high,
                       "minutes", sota, "hand-made", "Y")


def _run(horizon, flop=None, revenue_by_lab=None) -> SimpleNamespace:
    """A stand-in for RunResult: monthly world columns, and labs in long format."""
    n = len(MONTHS)
    world = {"time": MONTHS,
             "frontier_horizon_minutes": np.asarray(horizon, float) * np.ones(n),
             "frontier_training_flop": (np.full(n, 2e25) if flop is None
                                        else np.asarray(flop, float))}
    labs = {"time": np.empty(0), "lab": np.empty(0), "revenue_usd_per_year": np.empty(0)}
    if revenue_by_lab:
        names = list(revenue_by_lab)
        labs = {"time": np.tile(MONTHS, len(names)), "lab": np.repeat(names, n),
                "revenue_usd_per_year": np.concatenate([np.full(n, revenue_by_lab[k], float)
                                                        for k in names])}
    return SimpleNamespace(world=world, labs=labs)


def test_score_and_coverage_of_three_hand_made_rows():
    rows = [_obs("2023-07-01", 4.0, 2.0, 8.0), _obs("2024-01-01", 10.0, 5.0, 20.0),
            _obs("2025-01-01", 30.0, 15.0, 60.0)]
    model = np.where(MONTHS < 2023.9, 4.0, np.where(MONTHS < 2024.9, 20.0, 120.0))
    result = obs.compare(_run(model), obs.targets(rows, START, 2026.0))
    sigma = math.log(4.0) / (2 * 1.96)  # every interval spans a factor 4
    assert [r.model for r in result] == [4.0, 20.0, 120.0]
    assert [r.z for r in result] == pytest.approx([0.0, 1.96, 3.92])
    assert [r.inside for r in result] == [True, True, False]  # 20 is the interval's edge
    expected = [norm.logpdf(math.log(m), math.log(o), sigma)
                for m, o in ((4, 4), (20, 10), (120, 30))]
    assert [r.loglik for r in result] == pytest.approx(expected)
    assert result[0].loglik == pytest.approx(-math.log(sigma) - 0.5 * math.log(2 * math.pi))
    s = obs.score(result)
    assert (s.n, s.inside) == (3, 2) and s.coverage == pytest.approx(2 / 3)
    assert s.loglik == pytest.approx(sum(expected)) and s.max_abs_z == pytest.approx(3.92)
    assert not s.passed
    assert [r.subject for r in obs.failing_rows(result)] == ["m"] and result[2] in \
        obs.failing_rows(result)


@pytest.mark.parametrize("inside,n,worst,passed", [
    (4, 5, 2.0, True),  # coverage 80%: the boundary passes
    (3, 4, 2.0, False),  # 75%
    (5, 5, 3.01, False),  # every row inside, yet one lies beyond 3 sigma
    (0, 0, 0.0, False),  # nothing counted: nothing shown
])
def test_the_pass_rule(inside, n, worst, passed):
    assert obs.Score(n, inside, -1.0, worst).passed is passed


def test_a_row_that_is_not_state_of_the_art_is_compared_with_the_best_row_released_by_then():
    rows = [_obs("2023-03-01", 4.0, 2.0, 8.0, subject="old"),
            _obs("2024-02-01", 3.0, 1.0, 9.0, subject="weaker", sota=False),
            _obs("2024-06-01", 6.0, 3.0, 12.0, subject="newer"),
            _obs("2024-09-01", 5.0, 2.5, 10.0, subject="later weaker", sota=False)]
    by = {t.row.subject: t for t in obs.targets(rows, START, 2026.0)}
    assert by["weaker"].best.subject == "old" and (by["weaker"].low, by["weaker"].high) == (2, 8)
    assert by["later weaker"].best.subject == "newer"
    assert by["newer"].best.subject == "newer" and by["old"].best.subject == "old"


def test_rows_without_an_interval_use_the_stated_tolerance_and_the_start_input_does_not_count():
    rows = [_obs("2023-02-01", 2e25, quantity="training_flop"),
            _obs("2024-01-01", 5e25, quantity="training_flop")]
    flop = np.where(MONTHS < 2023.5, 2e25, 1e26)
    targets = obs.targets(rows, START, 2026.0)
    assert targets[1].band == "tolerance x3" and targets[1].low == pytest.approx(5e25 / 3)
    assert targets[1].sigma == pytest.approx(math.log(9.0) / 3.92)
    first, second = obs.compare(_run(4.0, flop=flop), targets)
    assert first.status == "start input" and not first.counted and first.model == 2e25
    assert second.counted and second.model == 1e26 and second.inside  # 2x, inside 3x
    assert obs.score([first, second]).n == 1


def test_rows_outside_the_run_and_unknown_quantities_are_listed_not_scored():
    rows = [_obs("2020-01-01", 1.0, 0.5, 2.0), _obs("2027-06-01", 9.0, 5.0, 20.0),
            _obs("2024-01-01", 3.0, quantity="unicorns")]
    statuses = [r.status for r in obs.compare(_run(4.0), obs.targets(rows, START, 2026.5))]
    assert statuses == ["before start", "after until", "no model counterpart"]


def test_revenue_is_compared_with_the_leading_lab_and_never_counts():
    rows = [_obs("2025-08-01", 4.5e9, 4e9, 5e9, quantity="lab_revenue_run_rate", sota=False)]
    (row,) = obs.compare(_run(4.0, revenue_by_lab={"a": 2e9, "b": 6e9}),
                         obs.targets(rows, START, 2026.0))
    assert row.model == 6e9 and row.status == "loose" and not row.counted
    assert (row.low, row.high) == pytest.approx((2.25e9, 9e9))  # the x2 tolerance, not 4-5e9
    assert row.inside and obs.score([row]).n == 0


def test_model_value_is_the_last_monthly_row_at_or_before_the_date():
    horizon = np.arange(len(MONTHS), dtype=float) + 1.0
    run = _run(horizon)
    c = obs.COMPARISONS["metr_p50_horizon"]
    assert obs.model_value(run, c, START) == 1.0
    assert obs.model_value(run, c, START + 1 / 12 - 1e-6) == 1.0
    assert obs.model_value(run, c, START + 1 / 12) == 2.0
    assert obs.model_value(run, c, START - 0.1) is None


def _mapping_run(oom: float, ref: float) -> SimpleNamespace:
    """A run whose effective compute grows 1.2 OOM/year: horizon = ref x 2^(OOM / oom)."""
    return _run(ref * 2.0 ** (1.2 * (MONTHS - START) / oom))


def _evaluate(overrides):
    return _mapping_run(overrides.get("oom", 0.4), overrides.get("ref", 2.0))


def _exact_rows(oom: float, ref: float) -> list[obs.Target]:
    truth = _mapping_run(oom, ref).world["frontier_horizon_minutes"]
    rows = [_obs(f"{2023 + k // 12}-{k % 12 + 1:02d}-15", truth[k], truth[k] / 2, truth[k] * 2)
            for k in range(2, 30, 3)]
    return obs.targets(rows, START, 2026.0)


FREE = [obs.Free("oom", 0.4, 0.01, 10.0), obs.Free("ref", 2.0, 0.01, 1e6)]


def test_the_fit_recovers_the_mapping_that_made_the_rows():
    fit = obs.fit(_evaluate, _exact_rows(0.5, 3.0), FREE)
    assert fit.values["oom"] == pytest.approx(0.5, rel=1e-4)
    assert fit.values["ref"] == pytest.approx(3.0, rel=1e-4)
    sigma = math.log(4.0) / 3.92
    assert fit.loglik == pytest.approx(10 * norm.logpdf(0.0, 0.0, sigma), rel=1e-6)
    assert 0 < fit.evaluations < 100


def test_the_fit_stays_inside_its_bounds():
    bounded = [obs.Free("oom", 0.4, 0.3, 0.45), obs.Free("ref", 2.0, 0.01, 1e6)]
    fit = obs.fit(_evaluate, _exact_rows(0.5, 3.0), bounded)
    assert fit.values["oom"] == pytest.approx(0.45)


def test_profile_calls_a_parameter_the_rows_cannot_see_prior_and_the_mapping_constrained():
    rows = _exact_rows(0.5, 3.0)
    reference = obs.fit(_evaluate, rows, FREE)
    cands = [obs.Candidate("oom", 0.5, 0.25, 1.0, "test"),
             obs.Candidate("unused", 1.0, 0.5, 2.0, "test")]
    oom, unused = obs.profile(_evaluate, rows, FREE, cands, reference)
    assert unused.status == "prior" and unused.drop_low == pytest.approx(0.0, abs=1e-6)
    assert oom.status == "constrained" and oom.drop_low > obs.LR_95_HALF
    assert oom.drop_high > obs.LR_95_HALF and oom.moved_low is False


def test_the_shipped_rows_are_read_through_the_one_loader():
    targets = obs.targets(observations(), START, 2026.0)
    horizon = [t for t in targets if t.row.quantity == "metr_p50_horizon"
               and t.status == "scored"]
    assert horizon and all(t.band == "95% CI" for t in horizon)
    assert {t.row.quantity for t in targets} <= set(obs.COMPARISONS)
    assert obs.decimal_year(datetime.date(2024, 7, 2)) == pytest.approx(2024 + 183 / 366)
