"""The ixsim command line: outputs, byte-identical reruns, one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ixsim.cli.app import main, params_markdown
from ixsim.sim.scenario import field_table
from tests.conftest import BASELINE, ROOT

pytestmark = pytest.mark.slow


def ixsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed command line as a user would (a fresh process)."""
    return subprocess.run([sys.executable, "-c", "from ixsim.cli.app import entry; entry()", *args],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=300,
                          env={**os.environ, "COLUMNS": "120"})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    proc = ixsim("run", str(BASELINE), "--out", str(out), "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert "AI trains its successor autonomously" in proc.stdout
    return out


def test_run_writes_summary_tables_and_figure(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("scenario", "seed", "successor_training_year", "rnd_automation_20_year",
                "rnd_automation_50_year", "rnd_automation_100_year", "takeoff_years",
                "peak_effective_compute_growth_oom_per_year", "ixsim_version"):
        assert key in summary
    assert summary["seed"] == 5 and summary["scenario"] == "baseline"
    world = pq.read_table(run_dir / "world.parquet")
    for col in ("time", "frontier_training_flop", "frontier_effective_flop",
                "frontier_horizon_minutes", "rnd_automation", "rnd_progress_multiplier",
                "software_level_max"):
        assert col in world.column_names
    assert world.num_rows == 22 * 12 + 1
    labs = pq.read_table(run_dir / "labs.parquet")
    assert labs.num_rows == world.num_rows * 3
    events = pq.read_table(run_dir / "events.parquet")
    assert events.column_names == ["time", "kind", "lab", "value", "detail"]
    assert "software_oom" in events.column("kind").to_pylist()
    png = (run_dir / "trajectory.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary left


def test_same_scenario_and_seed_give_identical_bytes(run_dir, tmp_path):
    proc = ixsim("run", str(BASELINE), "--out", str(tmp_path), "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    for name in ("summary.json", "world.parquet", "labs.parquet", "events.parquet"):
        assert (tmp_path / name).read_bytes() == (run_dir / name).read_bytes(), name


def test_json_flag_prints_the_summary(tmp_path):
    proc = ixsim("run", str(BASELINE), "--out", str(tmp_path), "--json", "--until", "2026",
                 "--set", "software.returns_r=2.0")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["end_year"] == pytest.approx(2026.0)
    assert summary["overrides"] == ["software.returns_r=2.0"]


@pytest.mark.parametrize("args,needle", [
    (["run", "missing.toml"], "missing.toml: file not found"),
    (["run", str(BASELINE), "--seed", "abc"], "--seed"),
    (["run", str(BASELINE), "--set", "software.returns_r=abc"], "software.returns_r:"),
    (["run", str(BASELINE), "--set", "nope.x=1"], "nope.x: unknown field"),
    (["run", str(BASELINE), "--until", "2001"], "meta.end_year: must be after start_year"),
    (["run", str(BASELINE), "--out", "/proc/ixsim-cannot-write"], "--out:"),
    (["validate", "missing.toml"], "missing.toml: file not found"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_is_one_line_exit_2_no_traceback(args, needle, tmp_path):
    proc = ixsim(*args, cwd=tmp_path if args[0] == "validate" else None)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_validate_prints_ok_per_valid_file_and_errors_for_bad_ones(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[software]\nreturns_r = 99\n")
    code = main(["validate", str(BASELINE), str(bad)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out.strip() == f"ok {BASELINE}"
    assert err.strip() == (f"error: {bad}: software.returns_r: input should be less than or equal "
                           "to 10 (got 99)")
    assert main(["validate", str(BASELINE)]) == 0


def test_parameter_doc_is_up_to_date():
    doc = ROOT / "docs" / "parameters.md"
    assert doc.read_text() == params_markdown(field_table()), \
        "docs/parameters.md is stale: run `make params-doc`"


def test_params_with_a_scenario_shows_its_values(capsys):
    assert main(["params", str(BASELINE), "--markdown", "--set", "software.returns_r=1.7"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| `software.returns_r`"))
    assert "| 1.7 |" in row and "CAL-7b" in row
