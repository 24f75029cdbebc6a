"""Measured calibrations in the model: which numbers come from where, and bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ixsim.cli.app import main
from ixsim.sim.model import simulate
from ixsim.sim.scenario import ScenarioError, load_scenario
from tests.conftest import BASELINE


def measured_doc(r=1.7, alpha=0.31, beta=0.42) -> dict:
    est = lambda v: {"value": v, "low": v * 0.8, "high": v * 1.2}  # noqa: E731
    return {
        "scaling": {"E": est(0.9), "A": est(20.0), "B": est(300.0), "alpha": est(alpha),
                    "beta": est(beta), "allocation": {"a": est(0.57), "b": est(0.43)}},
        "returns_r": est(r),
        "recipe_gains": [{"name": "adamw", "gain": 2.0, "low": 1.5, "high": 2.5}],
        "provenance": {"ixsim_version": "x", "python_version": "3.12", "jax_version": "x",
                       "optax_version": "x", "flax_version": "x", "optuna_version": "x",
                       "device": "cpu", "corpus": {}, "seeds": [0], "wall_seconds": 1.0,
                       "budget": "cpu", "tokens_per_second": 1.0, "created_utc": "now"},
    }


@pytest.fixture
def measured_file(tmp_path) -> Path:
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(measured_doc()))
    return path


def test_calibration_file_replaces_r_and_exponents_and_says_so(measured_file):
    spec = load_scenario(BASELINE, calibration=measured_file)
    assert spec.software.returns_r == 1.7
    assert (spec.scaling.alpha, spec.scaling.beta) == (0.31, 0.42)
    assert spec.scaling.E == 1.69  # per-byte losses are not per-token losses: E, A, B stay
    assert spec.calibration == "measured"
    assert spec.calibration_source["software.returns_r"].startswith(f"measured: {measured_file}")
    summary = simulate(spec).summary()
    assert summary["calibration"] == "measured"
    assert summary["calibration_source"]["scaling.beta"].endswith("(cpu budget)")


def test_published_by_default_and_set_wins_over_measured(measured_file):
    spec = load_scenario(BASELINE)
    assert spec.calibration_source == {"software.returns_r": "published: CAL-7b",
                                       "scaling.alpha": "published: CAL-6a",
                                       "scaling.beta": "published: CAL-6a"}
    spec = load_scenario(BASELINE, {"software.returns_r": 0.9}, calibration=measured_file,
                         overrides_label="--set")
    assert spec.software.returns_r == 0.9
    assert spec.calibration_source["software.returns_r"] == "override: --set"
    assert spec.scaling.alpha == 0.31
    assert spec.calibration_source["scaling.alpha"].startswith(f"measured: {measured_file}")


def test_set_calibration_measured_reads_the_file_beside_the_scenario(tmp_path):
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "measured.json").write_text(json.dumps(measured_doc(r=2.2)))
    shutil.copy(BASELINE, tmp_path / "baseline.toml")
    spec = load_scenario(tmp_path / "baseline.toml", {"calibration": "measured"})
    assert (spec.calibration, spec.software.returns_r) == ("measured", 2.2)
    with pytest.raises(ScenarioError, match="calibration file is given"):
        load_scenario(BASELINE, {"calibration": "published"},
                      calibration=tmp_path / "calibration" / "measured.json")


def test_scenario_can_ask_for_measured_next_to_it(tmp_path):
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "measured.json").write_text(json.dumps(measured_doc(r=2.2)))
    shutil.copy(BASELINE, tmp_path / "baseline.toml")
    (tmp_path / "m.toml").write_text('extends = "baseline.toml"\ncalibration = "measured"\n')
    assert load_scenario(tmp_path / "m.toml").software.returns_r == 2.2


@pytest.mark.parametrize("content,needle", [
    (None, "file not found"),
    ("{not json", "not valid JSON"),
    (json.dumps({"scaling": {}}), "scaling.E: missing"),
    (json.dumps(measured_doc()).replace("1.7", "NaN", 1), "not valid JSON"),
])
def test_bad_calibration_files_are_one_line_errors(tmp_path, content, needle, capsys):
    path = tmp_path / "measured.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, calibration=path)
    (line,) = info.value.lines()  # the calibration file's problem, named against it
    assert line.startswith(f"error: {path}: ") and needle in line and str(BASELINE) not in line
    code = main(["run", str(BASELINE), "--calibration", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and needle in err[0]
    assert not (tmp_path / "o").exists()



def test_values_outside_the_scenario_range_are_the_calibration_files_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(measured_doc(beta=2.1)))
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, calibration=path)
    assert info.value.source == str(path)
    assert info.value.lines() == [f"error: {path}: scaling.beta.value: 2.1 is outside the "
                                  "scenario's range 0.01..2 for scaling.beta"]
    # an override of the field wins over the file, so its value is not used and not checked
    spec = load_scenario(BASELINE, {"scaling.beta": 0.3}, calibration=path)
    assert spec.scaling.beta == 0.3


def test_a_missing_default_file_says_why_it_is_read(tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "baseline.toml", {"calibration": "measured"})
    (line,) = info.value.lines()
    assert line.startswith(f"error: {tmp_path / 'calibration' / 'measured.json'}: file not found "
                           '(calibration = "measured" reads it; make it with ixsim calibrate')
