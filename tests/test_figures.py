"""The trajectory figure: drawn for any run, its cost bounded in the number of labs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from ixsim.analysis import figures  # noqa: E402
from ixsim.sim.model import simulate  # noqa: E402
from ixsim.sim.scenario import load_scenario, with_overrides  # noqa: E402


def test_many_labs_draw_the_largest_few_and_one_band_for_the_rest(tmp_path, monkeypatch):
    base = load_scenario("baseline", {"meta.end_year": 2026.0})
    labs = [lab.model_dump() for lab in base.labs]
    many = [{**labs[i % 3], "name": f"lab{i}", "compute_flop_per_s":
             labs[i % 3]["compute_flop_per_s"] * 0.9 ** i} for i in range(30)]
    spec = with_overrides(base, {"labs": many, "networks.spillover.edges": []})
    result = simulate(spec)
    drawn = {}
    real_draw = figures._draw

    def spy(result, axes, shown):
        real_draw(result, axes, shown)
        drawn["lines"] = len(axes[0, 0].get_lines())
        drawn["legend"] = [t.get_text() for t in axes[0, 0].get_legend().get_texts()]

    monkeypatch.setattr(figures, "_draw", spy)
    figures.trajectory_figure(result, tmp_path / "t.png")
    assert drawn["lines"] == figures.MAX_LABS_SHOWN
    assert drawn["legend"][-1] == "22 other labs (range)"
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


def test_values_beyond_float_range_of_a_log_axis_are_clipped_not_fatal(tmp_path):
    spec = load_scenario("baseline", {"meta.end_year": 2025.0})
    result = simulate(spec)
    result.world["rnd_progress_multiplier"][:] = 1e308
    result.world["frontier_horizon_minutes"][:5] = 0.0
    result.world["frontier_horizon_minutes"][5:10] = 1e-290
    result.world["frontier_horizon_minutes"][10:] = 4e271  # capability.oom_per_horizon_doubling 0.01
    figures.trajectory_figure(result, tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 10_000


def test_a_figure_that_cannot_be_drawn_does_not_fail_the_run(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ixsim.cli.app import app

    def broken(result, path):
        path.write_bytes(b"half a png")
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(figures, "trajectory_figure", broken)
    out = tmp_path / "run"
    got = CliRunner().invoke(app, ["run", "baseline", "--set", "meta.end_year=2025",
                                   "--out", str(out)])
    assert got.exit_code == 0, got.output
    assert "warning: trajectory.png not drawn" in got.stderr
    assert (out / "summary.json").is_file()
    assert not (out / "trajectory.png").exists()
