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
from ixsim.sim.events import EVENT_COLUMNS
from ixsim.sim.scenario import field_table
from tests.conftest import BASELINE, ROOT

pytestmark = pytest.mark.slow


def ixsim(*args: str, cwd: Path | None = None, columns: int = 120) -> subprocess.CompletedProcess:
    """Run the installed command line as a user would (a fresh process)."""
    return subprocess.run([sys.executable, "-c", "from ixsim.cli.app import entry; entry()", *args],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=300,
                          env={**os.environ, "COLUMNS": str(columns)})


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The contract for bad input: exit 2, exactly one ``error: ...`` line, no traceback."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


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
    assert events.column_names == list(EVENT_COLUMNS)
    assert events.column_names[:4] == ["time", "kind", "lab", "value"]
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
    (["run", str(BASELINE), "--set", "nope.x=1"], "error: --set: nope.x: unknown field"),
    (["params", "baseline", "--set", "nope.x=1"], "error: --set: nope.x: unknown field"),
    (["run", str(BASELINE), "--until", "2001"], "meta.end_year: must be after start_year"),
    (["run", str(BASELINE), "--out", "/proc/ixsim-cannot-write"], "--out:"),
    (["validate", "missing.toml"], "missing.toml: file not found"),
    (["frobnicate"], "No such command"),
    (["rnu", "baseline"], "Did you mean 'run'?"),
    (["run", "baseline", "--sed", "3"], "--seed"),
])
def test_bad_input_is_one_line_exit_2_no_traceback(args, needle, tmp_path):
    line = one_error_line(ixsim(*args, cwd=tmp_path if args[0] == "validate" else None))
    assert needle in line


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


def test_a_scenario_name_resolves_to_its_file(tmp_path):
    proc = ixsim("run", "baseline", "--out", str(tmp_path), "--json", "--until", "2025",
                 "--no-plot")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["scenario"] == "baseline"
    assert summary["scenario_file"] == "scenarios/baseline.toml"  # as if given as a path
    proc = ixsim("validate", "baseline", "slow-takeoff", cwd=tmp_path)  # any working folder
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ok", "baseline", "ok", "slow-takeoff"]


@pytest.mark.parametrize("args", [["run", "baselin"], ["validate", "baselin"],
                                  ["params", "baselin"], ["backtest", "--scenario", "baselin"]])
def test_an_unknown_scenario_name_lists_the_available_ones(args, tmp_path):
    line = one_error_line(ixsim(*args, cwd=tmp_path))
    assert "baselin" in line
    for name in ("baseline", "slow-takeoff", "us-china-race"):
        assert name in line, line


def test_version(capsys):
    from ixsim import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"ixsim {__version__}\n"


def test_no_plot_writes_no_figure_and_imports_no_matplotlib(tmp_path):
    code = ("import sys; from ixsim.cli.app import main; code = main(sys.argv[1:]); "
            "print('matplotlib' in sys.modules); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, "run", "baseline", "--no-plot", "--until",
                           "2025", "--out", str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "False"  # matplotlib never imported
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events.parquet", "labs.parquet", "network.json", "summary.json", "world.parquet"]
    wrote = next(line for line in proc.stdout.splitlines() if line.startswith("wrote "))
    assert "summary.json" in wrote and "trajectory.png" not in wrote


def test_importing_the_command_line_imports_no_model_numpy_or_matplotlib():
    heavy = ("matplotlib", "numpy", "mesa", "pandas", "pydantic", "ixsim.sim.model",
             "ixsim.analysis.backtest")
    code = f"import sys, ixsim.cli.app; print([m for m in {heavy!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_params_at_80_columns_shows_full_dotted_names():
    longest = max((r["name"] for r in field_table()), key=len)
    assert longest.startswith("strategies.<name>.")  # the table's hardest case
    proc = ixsim("params", columns=80)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in proc.stdout
    names = {line.split()[0] for line in lines if line.strip()}
    assert {r["name"] for r in field_table()} <= names  # every name whole, on one line


def test_backtest_at_80_columns_cuts_no_number(tmp_path):
    out = tmp_path / "backtest.json"
    proc = ixsim("backtest", "--until", "2025.5", "--out", str(out), columns=80)
    assert proc.returncode in (0, 1), proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert "…" not in proc.stdout
    words = proc.stdout.split()  # every number whole: never folded onto two lines
    for check in json.loads(out.read_text())["checks"]:
        if check["modelled"] is not None:
            assert f"{check['modelled']:#.3g}" in words, check["name"]
        if check["published"] is not None:
            assert f"{check['published']:.3g}" in words, check["name"]
        if check["low"] is not None and check["high"] is not None:
            assert f"{check['low']:.3g}..{check['high']:.3g}" in words, check["name"]
