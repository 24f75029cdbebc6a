"""``ixsim backtest``: the default calibration against the published rates of CALIBRATION.md."""

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
from ixsim.analysis.backtest import (DEFAULT_SCENARIO, TOLERANCE, change_points, checks_from_result,
                               decimal_year, effective_compute_target, log_linear_fit,
                               run_backtest, to_json, with_end_year)
from ixsim.cli.backtest import backtest_command
from ixsim.sim.model import simulate
from ixsim.sim.scenario import load_scenario

UNTIL = "2026.9"  # fixed, so that the tests do not depend on today's date
KEYS = ("training_compute_growth", "training_compute_growth_frontier", "training_spend_growth",
        "algorithmic_progress", "hardware_price_performance", "horizon_doubling",
        "start_training_compute", "start_horizon", "effective_compute_growth")

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
app.command("backtest")(backtest_command)


@app.command("other")
def _other() -> None:  # a second command, so "backtest" is a subcommand as in sim/cli.py
    """Unused."""


def backtest(*args: str):
    return CliRunner(env={"COLUMNS": "140"}).invoke(app, ["backtest", *args])


@pytest.fixture(scope="module")
def baseline_checks():
    spec = load_scenario(DEFAULT_SCENARIO)
    return {c.key: c for c in run_backtest(spec, float(UNTIL), measured_path=None)}


@pytest.mark.parametrize("key", KEYS)
def test_default_calibration_passes_every_check(baseline_checks, key):
    check = baseline_checks[key]
    assert not check.informational
    assert check.modelled is not None, check.note
    assert check.low <= check.modelled <= check.high, (key, check.modelled, check.note)
    assert check.passed is True and check.result == "pass"
    assert check.note


def test_rows_measure_the_output_and_label_inputs_and_tolerances(baseline_checks):
    assert set(baseline_checks) == set(KEYS)
    hardware = baseline_checks["hardware_price_performance"]
    assert hardware.basis == "model input" and "not an independent test" in hardware.note
    for key in KEYS:
        if key != "hardware_price_performance":
            assert baseline_checks[key].basis == "model output"
    assert baseline_checks["horizon_doubling"].range_kind == TOLERANCE
    assert baseline_checks["start_training_compute"].range_kind == TOLERANCE
    assert (baseline_checks["start_training_compute"].low,
            baseline_checks["start_training_compute"].high) == pytest.approx((1.05e25, 4.2e25))
    # 2023 levels come from the first run the model trains, not from the scenario's inputs.
    assert baseline_checks["start_training_compute"].modelled != pytest.approx(2.1e25)
    assert baseline_checks["start_horizon"].modelled != pytest.approx(5.0)


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
    assert decimal_year(datetime.date(2024, 7, 2)) == pytest.approx(2024 + 183 / 366)


def test_too_short_a_window_is_not_measurable_and_fails():
    spec = with_end_year(load_scenario(DEFAULT_SCENARIO), 2023.2)
    checks = checks_from_result(spec, simulate(spec), 2023.2, measured_path=None)
    growth = next(c for c in checks if c.key == "training_compute_growth")
    assert growth.modelled is None and growth.passed is False
    assert growth.result == "not measurable"


def test_command_passes_on_the_baseline_and_prints_the_table(tmp_path):
    out = tmp_path / "backtest.json"
    result = backtest("--until", UNTIL, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"{len(KEYS)} of {len(KEYS)} checks pass" in result.stdout
    for header in ("check", "CAL row", "modelled", "published", "range", "units", "result"):
        assert header in result.stdout
    assert "tolerance (ixsim assumption)" in result.stdout
    doc = json.loads(out.read_text())
    assert doc["passed"] is True and doc["passed_count"] == doc["total"] == len(KEYS)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_json_output_parses_and_matches_the_file(tmp_path):
    out = tmp_path / "b.json"
    result = backtest("--json", "--until", UNTIL, "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == json.loads(out.read_text())
    assert result.stdout == out.read_text()
    assert doc["until"] == float(UNTIL) and doc["scenario"] == "baseline"
    assert {"until", "scenario", "ixsim_version", "checks", "passed", "passed_count",
            "total"} <= set(doc)
    fields = {"key", "name", "cal", "modelled", "published", "low", "high", "units", "range_kind",
              "basis", "informational", "passed", "result", "note"}
    assert all(fields <= set(c) for c in doc["checks"])


def test_perturbed_scenario_fails_algorithmic_progress_and_exits_1(tmp_path):
    out = tmp_path / "b.json"
    result = backtest("--json", "--until", UNTIL, "--out", str(out),
                      "--set", "software.rate_per_year=0.3")
    assert result.exit_code == 1, result.output
    doc = json.loads(out.read_text())
    row = next(c for c in doc["checks"] if c["key"] == "algorithmic_progress")
    assert row["passed"] is False and row["modelled"] > row["high"]
    assert doc["passed"] is False and doc["passed_count"] < doc["total"]
    assert doc["overrides"] == ["software.rate_per_year=0.3"]


def test_until_defaults_to_today(tmp_path):
    out = tmp_path / "b.json"
    result = backtest("--json", "--out", str(out))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    assert doc["until"] == pytest.approx(decimal_year(datetime.date.today()), abs=1 / 365)
    assert doc["until_source"] == "today"


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


def test_measured_rows_are_informational(tmp_path, monkeypatch):
    measured = {"scaling": {k: {"value": v, "low": v * 0.9, "high": v * 1.1}
                            for k, v in dict(E=1.7, A=400.0, B=410.0, alpha=0.36,
                                             beta=0.9).items()},
                "returns_r": {"value": 1.1, "low": 0.8, "high": 1.5}}
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(measured))
    monkeypatch.setattr(backtest_module, "load_measured", lambda p: json.loads(Path(p).read_text()))
    spec = with_end_year(load_scenario(DEFAULT_SCENARIO), float(UNTIL))
    checks = checks_from_result(spec, simulate(spec), float(UNTIL), measured_path=path)
    info = [c for c in checks if c.informational]
    assert [c.key for c in info] == ["measured_scaling_alpha", "measured_scaling_beta",
                                     "measured_returns_r_7b", "measured_returns_r_7a"]
    assert all(c.passed is None and c.result == "informational" for c in info)
    beta = next(c for c in info if c.key == "measured_scaling_beta")
    assert beta.modelled == 0.9 and not beta.in_range  # out of range, yet nothing fails
    doc = json.loads(to_json(checks, float(UNTIL), "baseline"))
    assert doc["passed"] is True and doc["total"] == len(KEYS)
    # without the file, no rows
    assert not [c for c in checks_from_result(spec, simulate(spec), float(UNTIL),
                                              measured_path=tmp_path / "none.json")
                if c.informational]


def test_an_unusable_measured_file_is_one_informational_row(tmp_path):
    path = tmp_path / "measured.json"
    path.write_text('{"scaling": {}}')
    spec = with_end_year(load_scenario(DEFAULT_SCENARIO), float(UNTIL))
    checks = checks_from_result(spec, simulate(spec), float(UNTIL), measured_path=path)
    info = [c for c in checks if c.informational]
    assert len(info) == 1 and info[0].modelled is None and "could not be read" in info[0].note
    assert all(c.passed for c in checks if not c.informational)
