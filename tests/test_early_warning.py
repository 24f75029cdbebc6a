"""Early warning (ixsim.analysis.early_warning): first crossings and lead times to successor
training, on analytic series where the answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ixsim.analysis.early_warning import (TRIGGERS, lead_quantiles, lead_times, survival,
                                          trigger_year, trigger_years)

TIMES = 2023.0 + np.arange(0, 121) / 12.0  # monthly, 2023 to 2033


def test_ramp_crosses_at_the_known_time():
    # series = t - 2023 reaches 2.5 at 2025.5 (between two monthly steps: interpolated)
    ramp = TIMES - 2023.0
    assert trigger_year(TIMES, ramp, 2.5) == pytest.approx(2025.5, abs=1e-12)
    assert trigger_year(TIMES, ramp, 2.51) == pytest.approx(2025.51, abs=1e-12)


def test_exponential_crossing_is_interpolated_in_log_space():
    # doubling every 7 months from 10 minutes: reaches 480 minutes after 7*log2(48) months
    series = 10.0 * 2.0 ** ((TIMES - 2023.0) * 12.0 / 7.0)
    expected = 2023.0 + 7.0 * math.log2(48.0) / 12.0
    assert trigger_year(TIMES, series, 480.0, log=True) == pytest.approx(expected, abs=1e-9)


def test_never_crossing_is_nan_and_starting_above_is_the_first_time():
    ramp = TIMES - 2023.0
    assert math.isnan(trigger_year(TIMES, ramp, 100.0))
    assert trigger_year(TIMES, ramp, -1.0) == TIMES[0]
    assert math.isnan(trigger_year(TIMES, np.full(TIMES.size, np.nan), 0.0))
    assert math.isnan(trigger_year(np.zeros(0), np.zeros(0), 1.0))


def test_trigger_years_is_per_row():
    rows = np.vstack([TIMES - 2023.0, 2.0 * (TIMES - 2023.0), np.zeros(TIMES.size)])
    got = trigger_years(TIMES, rows, 4.0)
    assert got[0] == pytest.approx(2027.0) and got[1] == pytest.approx(2025.0)
    assert math.isnan(got[2])


def _arrays(successor, slopes, **extra):
    """Draw i: rnd_automation = slope_i * (t - 2023), capped at 1."""
    series = np.clip(np.outer(slopes, TIMES - 2023.0), 0.0, 1.0)
    return {"times": TIMES, "rnd_automation": series,
            "successor_training_year": np.asarray(successor, dtype=float),
            "end_year": 2033.0, **extra}


def test_lead_times_statuses_are_explicit_and_nothing_is_dropped():
    # draw 0: 50% at 2025.5, successor 2028.0 -> lead 2.5 (observed)
    # draw 1: 50% at 2028.0, no successor by 2033 -> at least 5.0 (censored)
    # draw 2: never 50%, successor 2030 -> no warning (no_trigger)
    # draw 3: 50% at 2025.0, successor 2024.0 -> -1.0 (observed, too late)
    # draw 4: failed
    source = _arrays([2028.0, np.nan, 2030.0, 2024.0, np.nan], [0.2, 0.1, 0.0, 0.25, 0.2],
                     ok=np.array([True, True, True, True, False]))
    leads = lead_times(source, "automation", 0.5)
    assert list(leads.status) == ["observed", "censored", "no_trigger", "observed", "failed"]
    np.testing.assert_allclose(leads.years[:2], [2.5, 5.0])
    assert leads.years[3] == pytest.approx(-1.0)
    assert math.isnan(leads.years[2]) and math.isnan(leads.years[4])
    assert leads.counts() == {"observed": 2, "censored": 1, "no_trigger": 1,
                              "before_start": 0, "failed": 1}
    assert sum(leads.counts().values()) == 5
    assert list(leads.too_late) == [False, False, False, True, False]
    assert leads.share("observed") == pytest.approx(0.5)  # 2 of the 4 draws that ran


def test_threshold_already_reached_at_start_is_flagged():
    source = _arrays([2028.0], [0.2])
    leads = lead_times(source, "automation", 0.0)
    assert list(leads.status) == ["before_start"]
    assert leads.years[0] == pytest.approx(5.0)  # at least successor - start


def test_incident_trigger_uses_the_first_major_incident():
    source = _arrays([2030.0, np.nan, 2029.0], [0.0, 0.0, 0.0],
                     first_major_incident=np.array([2027.5, 2031.0, np.nan]))
    leads = lead_times(source, "incident")
    assert leads.threshold is None
    assert list(leads.status) == ["observed", "censored", "no_trigger"]
    np.testing.assert_allclose(leads.years[:2], [2.5, 2.0])


def test_unknown_trigger_and_bad_threshold_are_refused():
    with pytest.raises(ValueError, match="unknown trigger"):
        lead_times(_arrays([2030.0], [0.1]), "vibes", 1.0)
    source = {"times": TIMES, "frontier_horizon_minutes": np.ones((1, TIMES.size)),
              "successor_training_year": np.array([2030.0])}
    with pytest.raises(ValueError, match="above 0"):
        lead_times(source, "horizon", 0.0)


def test_survival_without_censoring_is_the_empirical_survival():
    xs, s = survival(np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4, bool))
    np.testing.assert_allclose(xs, [0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(s, [1.0, 0.75, 0.5, 0.25, 0.0])


def test_survival_counts_censored_runs_as_at_least():
    # Kaplan-Meier by hand: events at 1 and 3, one run censored at 2 (at risk at 1, not at 3)
    xs, s = survival(np.array([1.0, 2.0, 3.0]), np.array([False, True, False]))
    np.testing.assert_allclose(xs, [0.0, 1.0, 3.0])
    np.testing.assert_allclose(s, [1.0, 2.0 / 3.0, 0.0])


def test_lead_quantiles_beyond_the_censored_runs_are_infinite():
    source = _arrays([2028.0, np.nan, np.nan, np.nan], [0.2, 0.2, 0.2, 0.2])
    leads = lead_times(source, "automation", 0.5)  # all fire at 2025.5; 3 of 4 censored
    q = lead_quantiles(leads, (0.25, 0.5))
    assert q[0.25] == pytest.approx(2.5)
    assert math.isinf(q[0.5])


def test_every_trigger_has_a_series_of_the_ensemble_or_is_the_incident():
    from ixsim.analysis.ensemble import SERIES

    for trigger in TRIGGERS.values():
        assert trigger.series is None or trigger.series in SERIES


@pytest.mark.slow
def test_lead_times_on_a_small_ensemble_account_for_every_draw():
    from ixsim.analysis.ensemble import run_ensemble
    from ixsim.sim.scenario import load_scenario

    ensemble = run_ensemble(load_scenario("baseline"), 6, seed=0)
    for key in TRIGGERS:
        leads = lead_times(ensemble, key)
        assert sum(leads.counts().values()) == ensemble.size
        observed = leads.status == "observed"
        np.testing.assert_allclose(leads.years[observed],
                                   (leads.successor - leads.trigger_at)[observed])
