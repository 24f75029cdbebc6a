"""``ixsim backtest``: the dated observations, the fit and its predictions, constrained or prior,
and the rate checks of CALIBRATION.md. The default calibration is not asserted to pass: the
tests pin that the rule is applied as stated, and that a setting far from the data fails."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import ixsim.analysis.backtest as backtest_module
from ixsim.analysis import observations as obs
from ixsim.analysis.backtest import (CANDIDATES, DEFAULT_SCENARIO, FREE_PARAMETERS, TOLERANCE,
                                     FitWindowError, change_points, checks_from_result,
                                     decimal_year, effective_compute_target, log_linear_fit,
                                     parse_fit_until, run_backtest, with_end_year)
from ixsim.cli.backtest import backtest_command
from ixsim.sim.model import simulate
from ixsim.sim.scenario import load_scenario

UNTIL = "2026.9"  # fixed, so that the tests do not depend on today's date
COUNTED = ("training_compute_growth", "training_compute_growth_frontier", "training_spend_growth",
           "algorithmic_progress", "horizon_doubling", "effective_compute_growth")
INFORMATIONAL = ("hardware_price_performance", "start_training_compute", "start_horizon")
FAR_MAPPING = "capability.oom_per_horizon_doubling=1.3"  # ~2x the long-run slope (CAL-5a)

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
app.command("backtest")(backtest_command)


@app.command("other")
def _other() -> None:  # a second command, so "backtest" is a subcommand as in cli/app.py
    """Unused."""


def backtest(*args: str, columns: int = 140):
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(app, ["backtest", *args])


@pytest.fixture(scope="module")
def baseline():
    return run_backtest(load_scenario(DEFAULT_SCENARIO), float(UNTIL), measured_path=None)


@pytest.fixture(scope="module")
def far():
    spec = load_scenario(DEFAULT_SCENARIO, {"capability.oom_per_horizon_doubling": 1.3})
    return run_backtest(spec, float(UNTIL), measured_path=None, profile=False)


# --- the observation rows ----------------------------------------------------------------------


def test_the_default_result_applies_the_stated_rule(baseline):
    """Whatever the default scores, pass/fail follows from the rows by the stated rule."""
    counted = [r for r in baseline.rows if r.counted]
    assert len(counted) >= 12  # METR rows 2023-03..2025-04 and the later training-FLOP rows
    assert {r.quantity for r in counted} == {"metr_p50_horizon", "training_flop"}
    inside = sum(1 for r in counted if r.inside)
    worst = max(abs(r.z) for r in counted)
    score = baseline.score()
    assert (score.n, score.inside) == (len(counted), inside)
    assert score.loglik == pytest.approx(sum(r.loglik for r in counted))
    expected = inside / len(counted) >= obs.MIN_COVERAGE and worst <= obs.MAX_ABS_Z
    assert baseline.observations_passed is expected
    assert baseline.passed is (expected and baseline.checks_passed)
    failing = {f"{r.date} {r.label} {r.subject}" for r in counted
               if not r.inside or abs(r.z) > obs.MAX_ABS_Z}
    named = baseline.failures()
    assert all(any(line.startswith(row) for line in named) for row in failing)
    assert bool(named) is not baseline.passed


def test_each_horizon_row_is_compared_with_the_best_model_released_by_its_date(baseline):
    rows = {r.subject: r for r in baseline.rows if r.quantity == "metr_p50_horizon"}
    assert rows["Claude 3 Opus"].compared_with == "GPT-4 1106"  # not state of the art
    assert rows["Claude 3 Opus"].observed == 4.04
    assert (rows["Claude 3 Opus"].low, rows["Claude 3 Opus"].high) == (1.87, 8.44)
    assert rows["o3"].compared_with == "o3" and rows["o3"].band == "95% CI"
    assert rows["GPT-2"].status == "before start" and rows["GPT-2"].model is None
    world = simulate(with_end_year(load_scenario(DEFAULT_SCENARIO), 2025.5)).world
    i = np.searchsorted(world["time"], rows["o3"].year, side="right") - 1
    assert rows["o3"].model == world["frontier_horizon_minutes"][i]


def test_loose_rows_are_shown_and_never_counted(baseline):
    loose = [r for r in baseline.rows if r.status == "loose"]
    assert {r.quantity for r in loose} == {"rnd_uplift", "lab_revenue_run_rate",
                                          "hyperscaler_capex"}
    assert all(not r.counted and r.model is not None and r.band.startswith("tolerance")
               for r in loose)
    gpt4_flop = next(r for r in baseline.rows if r.quantity == "training_flop"
                     and r.subject == "GPT-4")
    assert gpt4_flop.status == "start input" and not gpt4_flop.counted


def test_a_horizon_mapping_far_from_the_data_fails(far):
    assert not far.observations_passed and not far.passed
    o3 = next(r for r in far.rows if r.subject == "o3")
    assert not o3.inside and o3.z < -obs.MAX_ABS_Z
    assert any(line.startswith("2025-04-16 horizon o3") for line in far.failures())


def test_the_default_calibration_passes_inside_every_metr_interval(baseline):
    """The baseline passes the observation rows up to the METR cutoff, each METR row inside
    its 95% interval (the long-run slope with the 2024-25 post-training step)."""
    assert baseline.observations_passed
    metr = [r for r in baseline.rows if r.counted and r.quantity == "metr_p50_horizon"]
    assert len(metr) == 11 and all(r.inside for r in metr), [(r.subject, r.z) for r in metr]


def test_the_reviewed_mapping_without_the_2024_step_fails():
    """The setting the review measured (0.8 OOM per doubling, no post-training step) runs far
    below METR's 2025 horizons: the backtest fails it."""
    spec = load_scenario(DEFAULT_SCENARIO, {"capability.oom_per_horizon_doubling": 0.8,
                                            "capability.post_training_gain": 1.0})
    bt = run_backtest(spec, float(UNTIL), measured_path=None, profile=False)
    assert not bt.observations_passed
    o3 = next(r for r in bt.rows if r.subject == "o3")
    assert o3.z < -obs.MAX_ABS_Z


def test_a_far_mapping_exits_1_and_names_the_failing_rows(tmp_path):
    result = backtest("--until", UNTIL, "--out", str(tmp_path / "b.json"), "--set", FAR_MAPPING,
                      columns=80)
    assert result.exit_code == 1, result.output
    assert "backtest: FAIL" in result.stdout
    assert "- 2025-04-16 horizon o3: model" in result.stdout
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["passed"] is False and doc["observations"]["passed"] is False
    assert doc["overrides"] == [FAR_MAPPING]


# --- fit and predictions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fit_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "b.json"
    result = backtest("--until", UNTIL, "--fit-until", "2024-06-01", "--out", str(out),
                      columns=80)
    return result, json.loads(out.read_text())


def test_fit_until_fits_on_the_early_rows_and_predicts_the_later_ones(fit_run):
    result, doc = fit_run
    assert result.exit_code in (0, 1), result.output
    assert result.exit_code == (0 if doc["passed"] else 1)
    fit = doc["fit"]
    cut = decimal_year(datetime.date(2024, 6, 1))
    assert fit["fit_until"] == pytest.approx(cut) and fit["free"] == list(FREE_PARAMETERS)
    assert all(math.isfinite(v) and v > 0 for v in fit["values"].values())
    rows = doc["observations"]["rows"]
    early = [r for r in rows if r["counted"] and r["part"] == "fit"]
    later = [r for r in rows if r["counted"] and r["part"] == "predict"]
    assert fit["n"] == len(early) >= 2 and all(r["year"] < cut for r in early)
    assert len(later) >= 6 and all(r["year"] >= cut for r in later)
    assert all(math.isfinite(r["model"]) and math.isfinite(r["loglik"]) for r in later)
    parts = doc["observations"]["parts"]
    assert parts["predict"]["n"] == len(later)
    assert parts["fit"]["loglik"] == pytest.approx(fit["loglik"])
    assert doc["observations"]["model"] == "fitted"


def test_fit_until_text_shows_both_parts_within_80_columns(fit_run):
    result, _ = fit_run
    text = result.stdout
    assert "Observation rows fitted on (before 2024-06-01)" in text
    assert "Observation rows predicted (from 2024-06-01)" in text
    assert "predicted rows (from 2024-06-01):" in text and "Fit on the" in text
    assert max(len(line) for line in text.splitlines()) <= 80 and "…" not in text


def test_the_fit_on_every_row_through_april_2025_improves_on_the_scenario():
    bt = run_backtest(load_scenario(DEFAULT_SCENARIO), float(UNTIL),
                      fit_until=parse_fit_until("2025-04-17"), measured_path=None,
                      profile=False)
    assert bt.fit.n == bt.score().n  # every counted row is dated before 2025-04-17
    assert bt.fit.loglik >= obs.score(bt.scenario_rows).loglik - 1e-9
    assert bt.fit.loglik == pytest.approx(bt.reference.loglik, abs=1e-6)
    gain = bt.fit.values["capability.post_training_gain"]
    where = bt.fit.values["capability.post_training_gain_oom"]
    assert 2.0 < gain < 100.0  # the data identify the step: far from its schema ends 1 and 1e4
    assert 1.0 < where < 2.5  # late 2024 on the baseline's path, between GPT-4o and o3


@pytest.mark.parametrize("text,needle", [
    ("2019", "is not after the model start"),
    ("2030", "nothing to predict"),
    ("2023-04-01", "the fit needs at least 3"),
    ("2024-13-01", "not an ISO date (YYYY-MM-DD) or a decimal year"),
    ("nan", "must be a finite decimal year"),
])
def test_a_bad_fit_until_is_one_line_exit_2(text, needle, tmp_path):
    out = tmp_path / "b.json"
    result = backtest("--until", UNTIL, "--fit-until", text, "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --fit-until") and needle in lines[0]
    assert not out.exists()


def test_parse_fit_until():
    assert parse_fit_until("2024.5") == 2024.5
    assert parse_fit_until("2024-07-02") == pytest.approx(2024 + 183 / 366)
    with pytest.raises(ValueError):
        parse_fit_until("June 2024")


def test_a_window_without_rows_to_fit_is_refused():
    with pytest.raises(FitWindowError, match="only 1 counted observation row"):
        run_backtest(load_scenario(DEFAULT_SCENARIO), 2026.0, fit_until=2023.5, profile=False)


# --- constrained or prior ---------------------------------------------------------------------


def test_every_candidate_is_listed_constrained_or_prior_by_the_threshold(baseline):
    profiles = {p.path: p for p in baseline.profiles}
    assert set(profiles) == set(CANDIDATES)
    for p in profiles.values():
        drops = [abs(d) for d in (p.drop_low, p.drop_high)]
        assert p.status == ("constrained" if max(drops) > obs.LR_95_HALF else "prior"), p
        assert p.low < p.value < p.high or p.path.endswith("_rho"), p
    # the horizon mapping is what the METR rows pin
    assert profiles["capability.oom_per_horizon_doubling"].status == "constrained"
    # ranges: a published interval where one exists
    assert (profiles["software.returns_r"].low, profiles["software.returns_r"].high) == (0.4, 3.6)
    assert profiles["investment.spend_growth_per_year"].source == "CAL-4a 95% CI"


def test_constrained_and_prior_are_in_the_json(baseline):
    doc = json.loads(baseline.to_json())
    listing = doc["parameters"]
    assert sorted(listing["constrained"] + listing["prior"]) == sorted(CANDIDATES)
    assert listing["threshold"] == obs.LR_95_HALF and "profile likelihood" in listing["method"]
    assert set(listing["reference"]["values"]) == set(FREE_PARAMETERS)
    assert all({"drop_low", "drop_high", "status", "source", "moved_low"} <= set(row)
               for row in listing["rows"])


# --- rate checks ------------------------------------------------------------------------------


def test_rate_checks_that_read_back_inputs_do_not_count(baseline):
    checks = {c.key: c for c in baseline.checks}
    assert set(checks) == set(COUNTED) | set(INFORMATIONAL)
    for key in INFORMATIONAL:
        assert checks[key].informational and checks[key].passed is None
    assert checks["hardware_price_performance"].basis == "model input"
    assert "not an independent test" in checks["hardware_price_performance"].note
    assert checks["start_training_compute"].basis == "tuned to the row"
    for key in COUNTED:
        assert checks[key].basis == "model output" and not checks[key].informational
        assert checks[key].modelled is not None, checks[key].note
        assert checks[key].passed is (checks[key].low <= checks[key].modelled
                                      <= checks[key].high)
    assert checks["horizon_doubling"].range_kind == TOLERANCE


def test_effective_compute_target_combines_the_published_intervals():
    central, low, high = effective_compute_target()
    assert central == pytest.approx(4.7 * 2 ** 1.5)
    assert low == pytest.approx(4.3 * 2 ** (12 / 14))
    assert high == pytest.approx(5.2 * 2 ** (12 / 5))


def test_fits_and_change_points():
    t = 2023.0 + 0.25 * np.arange(9)
    y = 3.0 * 4.7 ** (t - 2023.0)
    assert log_linear_fit(t, y).slope == pytest.approx(math.log(4.7))
    assert log_linear_fit(t[:1], y[:1]) is None
    ct, cy = change_points(t, np.array([1, 1, 2, 2, 2, 5, 5, 5, 9.0]))
    assert list(ct) == [2023.5, 2024.25, 2025.0] and list(cy) == [2.0, 5.0, 9.0]
    assert decimal_year(datetime.date(2026, 1, 1)) == 2026.0


def test_too_short_a_window_is_not_measurable_and_fails():
    spec = with_end_year(load_scenario(DEFAULT_SCENARIO), 2023.2)
    checks = checks_from_result(spec, simulate(spec), 2023.2, measured_path=None)
    growth = next(c for c in checks if c.key == "training_compute_growth")
    assert growth.modelled is None and growth.passed is False
    assert growth.result == "not measurable"


def test_perturbed_scenario_fails_algorithmic_progress_and_exits_1(tmp_path):
    out = tmp_path / "b.json"
    result = backtest("--json", "--until", UNTIL, "--out", str(out),
                      "--set", "software.rate_per_year=0.3")
    assert result.exit_code == 1, result.output
    doc = json.loads(out.read_text())
    row = next(c for c in doc["checks"] if c["key"] == "algorithmic_progress")
    assert row["passed"] is False and row["modelled"] > row["high"]
    assert doc["checks_passed"] is False and doc["passed_count"] < doc["total"]
    assert any(f.startswith("algorithmic halving time (CAL-2)") for f in doc["failures"])


# --- the command ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("json") / "b.json"
    return backtest("--json", "--until", UNTIL, "--out", str(out)), out


def test_json_output_parses_matches_the_file_and_sets_the_exit_status(default_json):
    result, out = default_json
    assert result.exit_code == (0 if json.loads(out.read_text())["passed"] else 1), result.output
    doc = json.loads(result.stdout)
    assert result.stdout == out.read_text()
    assert doc["until"] == float(UNTIL) and doc["scenario"] == "baseline" and doc["fit"] is None
    assert {"until", "scenario", "ixsim_version", "checks", "passed", "passed_count", "total",
            "observations", "parameters", "failures"} <= set(doc)
    fields = {"key", "name", "cal", "modelled", "published", "low", "high", "units", "range_kind",
              "basis", "informational", "passed", "result", "note"}
    assert all(fields <= set(c) for c in doc["checks"])
    row_fields = {"date", "quantity", "subject", "observed", "low", "high", "model", "inside",
                  "z", "loglik", "counted", "status"}
    assert all(row_fields <= set(r) for r in doc["observations"]["rows"])
    assert doc["observations"]["rule"] == obs.RULE


def test_the_same_inputs_give_the_same_bytes():
    spec = load_scenario(DEFAULT_SCENARIO)
    texts = [run_backtest(spec, 2025.5, fit_until=2024.5, measured_path=None,
                          profile=False).to_json() for _ in range(2)]
    assert texts[0] == texts[1]


def test_the_text_report_has_every_part(tmp_path):
    result = backtest("--until", UNTIL, "--out", str(tmp_path / "b.json"))
    doc = json.loads((tmp_path / "b.json").read_text())
    assert result.exit_code == (0 if doc["passed"] else 1), result.output
    text = result.stdout
    for needle in ("Observation rows against the scenario as given", "Loose comparisons",
                   "counted rows inside their 95% interval", "rule: pass when at least 80%",
                   "Best fit on all", "Constrained by the rows, or prior", "constrained:",
                   "prior:", "Rate checks", "tolerance (ixsim assumption)", "comparisons:"):
        assert needle in text, needle
    assert ("backtest: pass" in text) is doc["passed"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_until_defaults_to_the_latest_observation_and_rates_stop_at_the_cutoff(tmp_path):
    from ixsim.analysis.backtest import data_cutoff_year, last_observation_year

    out = tmp_path / "b.json"
    result = backtest("--json", "--out", str(out))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    assert doc["until"] == pytest.approx(last_observation_year())
    assert doc["until_source"] == "last observation"
    assert data_cutoff_year() == pytest.approx(decimal_year(datetime.date(2025, 4, 16)))
    again = tmp_path / "c.json"
    backtest("--json", "--out", str(again))
    assert again.read_bytes() == out.read_bytes()  # the same report whatever the day


@pytest.mark.parametrize("args,needle", [
    (["--until", "2022.5"], "error: --until: must be after the model start 2023.0"),
    (["--until", "2023"], "error: --until: must be after the model start 2023.0"),
    (["--until", "nan"], "error: --until: must be a finite decimal year"),
    (["--until", "2500"], "error: --until: input should be less than or equal to 2200"),
    (["--set", "software.rate_per_year=abc"], "software.rate_per_year:"),
    (["--set", "nope.x=1"], "nope.x: unknown field"),
])
def test_bad_input_is_one_line_exit_2(args, needle, tmp_path):
    out = tmp_path / "b.json"
    result = backtest(*args, "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
    assert not out.exists()


def test_unwritable_out_is_one_line_exit_2(tmp_path):
    result = backtest("--until", UNTIL, "--out", str(tmp_path / "missing" / "b.json"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --out:")


# --- training-loop rows -------------------------------------------------------------------------


def test_measured_rows_are_informational(tmp_path, monkeypatch):
    measured = {"scaling": {k: {"value": v, "low": v * 0.9, "high": v * 1.1}
                            for k, v in dict(E=1.7, A=400.0, B=410.0, alpha=0.36,
                                             beta=0.9).items()},
                "returns_r": {"value": 1.1, "low": 0.8, "high": 1.5}}
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(measured))
    monkeypatch.setattr(backtest_module, "load_measured", lambda p: json.loads(Path(p).read_text()))
    spec = with_end_year(load_scenario(DEFAULT_SCENARIO), float(UNTIL))
    result = simulate(spec)
    checks = checks_from_result(spec, result, float(UNTIL), measured_path=path)
    plain = checks_from_result(spec, result, float(UNTIL), measured_path=None)
    info = [c for c in checks if c.informational and c.basis.startswith("training loop")]
    assert [c.key for c in info] == ["measured_scaling_alpha", "measured_scaling_beta",
                                     "measured_returns_r_7b", "measured_returns_r_7a"]
    assert all(c.passed is None and c.result == "informational" for c in info)
    beta = next(c for c in info if c.key == "measured_scaling_beta")
    assert beta.modelled == 0.9 and not beta.in_range  # out of range, yet nothing fails
    assert backtest_module.all_passed(checks) == backtest_module.all_passed(plain)
    assert not [c for c in checks_from_result(spec, result, float(UNTIL),
                                              measured_path=tmp_path / "none.json")
                if c.basis.startswith("training loop")]


def test_an_unusable_measured_file_is_one_informational_row(tmp_path):
    path = tmp_path / "measured.json"
    path.write_text('{"scaling": {}}')
    spec = with_end_year(load_scenario(DEFAULT_SCENARIO), float(UNTIL))
    checks = checks_from_result(spec, simulate(spec), float(UNTIL), measured_path=path)
    info = [c for c in checks if c.basis.startswith("training loop")]
    assert len(info) == 1 and info[0].modelled is None and "could not be read" in info[0].note


def test_the_horizon_rate_check_compares_with_the_metr_rows_of_the_same_window():
    """The rate check's reference is METR's own doubling over the window (5.0 months for
    2023-03 .. 2025-04, from the rows' best-by-date horizons), not CAL-5a's 2019-25 average."""
    from ixsim.analysis.backtest import observed_horizon_doubling

    months, releases = observed_horizon_doubling(2023.0, 2025.3)
    assert releases == 9 and months == pytest.approx(5.04, abs=0.01)
    assert observed_horizon_doubling(2023.0, 2023.5) is None  # one release: no slope


def test_the_withheld_quantities_are_predicted_a_quarter_at_a_time(baseline, tmp_path):
    """METR horizons and frontier training FLOP after the April 2025 cutoff are not in the
    file: the backtest registers the model's values for them, quarter by quarter, in the report
    and the JSON."""
    dates = [p.date for p in baseline.predictions]
    assert dates[0] == "2025-07-01" and dates[-1] == "2026-10-01"  # --until 2026.9
    assert len(dates) == 6 and dates == sorted(dates)
    horizons = [p.horizon_minutes for p in baseline.predictions]
    assert all(b >= a for a, b in zip(horizons, horizons[1:]))  # the frontier never falls
    o3 = next(r for r in baseline.rows if r.subject == "o3")
    assert horizons[0] >= o3.model
    result = backtest("--until", UNTIL, "--out", str(tmp_path / "b.json"))
    assert "Predictions of the withheld rows" in result.stdout
    doc = json.loads((tmp_path / "b.json").read_text())
    assert [r["date"] for r in doc["predictions"]["rows"]] == dates
