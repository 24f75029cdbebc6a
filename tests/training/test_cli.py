"""The calibrate command's handling of bad input: one error line, exit status 2, no traceback."""

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from ixsim.cli.calibrate import calibrate_command

from .test_measured import minimal_calibration

app = typer.Typer(add_completion=False)
app.command("calibrate")(calibrate_command)
runner = CliRunner()


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_unknown_budget_is_one_error_line():
    line = _one_error_line(runner.invoke(app, ["--budget", "huge"]))
    assert "--budget must be one of smoke, cpu, gpu (got 'huge')" in line


def test_unknown_device_is_one_error_line():
    line = _one_error_line(runner.invoke(app, ["--budget", "smoke", "--device", "tpu"]))
    assert "--device" in line


def test_output_under_a_regular_file_is_unwritable(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    line = _one_error_line(runner.invoke(app, ["--budget", "smoke", "--out", str(blocker / "m.json")]))
    assert line == f"error: --out: {blocker}: is a file, not a folder"


def test_output_that_is_a_directory_is_refused(tmp_path):
    line = _one_error_line(runner.invoke(app, ["--budget", "smoke", "--out", str(tmp_path)]))
    assert line == f"error: --out: {tmp_path}: is a folder, not a file"


def test_smoke_does_not_overwrite_a_cpu_calibration_at_the_default_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "scenarios" / "calibration" / "measured.json"
    default.parent.mkdir(parents=True)
    default.write_text(json.dumps(minimal_calibration("cpu")))
    before = default.read_bytes()
    line = _one_error_line(runner.invoke(app, ["--budget", "smoke"]))
    assert "holds a cpu-budget calibration" in line and "--out" in line
    assert default.read_bytes() == before


def test_module_entry_point_reports_bad_budget_without_traceback():
    out = subprocess.run([sys.executable, "-m", "ixsim.training", "--budget", "nope"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --budget must be one of smoke, cpu, gpu (got 'nope')"


def test_gpu_device_without_a_gpu_is_one_error_line(tmp_path):
    jax = pytest.importorskip("jax")
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("this machine has a GPU")
    out = subprocess.run([sys.executable, "-m", "ixsim.training", "--budget", "smoke", "--device", "gpu",
                          "--out", str(tmp_path / "m.json")], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.startswith("error: --device gpu: no usable GPU found")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
