"""The trajectory figure: drawn for any run, its cost bounded in the number of labs, its dates the
summary's, its bytes a function of the run alone."""

from __future__ import annotations

import datetime

import matplotlib
import pytest

matplotlib.use("Agg")

from ixsim.analysis import figures  # noqa: E402
from ixsim.analysis.observations import decimal_year  # noqa: E402
from ixsim.sim.model import simulate  # noqa: E402
from ixsim.sim.scenario import load_scenario, with_overrides  # noqa: E402
from ixsim.sim.sources import observations  # noqa: E402


@pytest.fixture(scope="module")
def baseline():
    return simulate(load_scenario("baseline"), seed=0)


def _spy(monkeypatch) -> dict:
    """Replace ``figures._draw`` by itself plus a look at the panels it drew."""
    seen = {}
    real_draw = figures._draw

    def spy(result, axes, shown):
        real_draw(result, axes, shown)
        seen["axes"] = axes
        seen["figure_axes"] = len(axes["compute"].figure.axes)
        seen["lab_lines"] = [ln.get_label() for ln in axes["compute"].get_lines()
                             if ln.get_label() in result.lab_names]
        seen["legend"] = [t.get_text() for t in axes["compute"].get_legend().get_texts()]

    monkeypatch.setattr(figures, "_draw", spy)
    return seen


def test_many_labs_draw_the_largest_few_and_one_band_for_the_rest(tmp_path, monkeypatch):
    base = load_scenario("baseline", {"meta.end_year": 2026.0})
    labs = [lab.model_dump() for lab in base.labs]
    many = [{**labs[i % 3], "name": f"lab{i}", "compute_flop_per_s":
             labs[i % 3]["compute_flop_per_s"] * 0.9 ** i} for i in range(30)]
    spec = with_overrides(base, {"labs": many, "networks.spillover.edges": []})
    result = simulate(spec)
    seen = _spy(monkeypatch)
    figures.trajectory_figure(result, tmp_path / "t.png")
    assert len(seen["lab_lines"]) == figures.MAX_LABS_SHOWN
    assert seen["legend"][-1] == "22 other labs (range)"
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


def test_every_panel_has_one_y_axis_and_the_horizon_shows_metr_points(tmp_path, monkeypatch,
                                                                      baseline):
    seen = _spy(monkeypatch)
    figures.trajectory_figure(baseline, tmp_path / "t.png")
    assert seen["figure_axes"] == 7  # six panels and the key: no twin axis
    t0, t1 = baseline.world["time"][0], baseline.world["time"][-1]
    metr = [o for o in observations() if o.quantity == figures.METR_QUANTITY
            and t0 <= decimal_year(o.date) <= t1]
    (points,) = seen["axes"]["horizon"].containers  # one errorbar: value and 95% interval
    assert len(points.lines[0].get_xdata()) == len(metr) >= 10
    assert all(ax.get_xlim() == (t0, t1) for ax in seen["axes"].values())


def test_the_figure_dates_are_the_summary_dates(baseline):
    summary = baseline.summary()
    dates = dict(figures.headline_dates(baseline))
    assert dates["AI trains its successor"] == summary["successor_training_year"]
    assert dates["20% of AI R&D automated"] == summary["rnd_automation_20_year"]
    assert dates["all AI R&D automated"] == summary["rnd_automation_100_year"]
    key = [h.get_label() for h in figures._headline_key(baseline)]
    when = figures.month_year(summary["successor_training_year"])
    assert f"AI trains its successor: {when}" in key
    assert f"autonomously in {when}" in figures._title(baseline, None)


def test_a_censored_run_says_not_by_its_end_and_shows_its_overrides():
    result = simulate(load_scenario("baseline", {"meta.end_year": 2026.0}), seed=0)
    key = [h.get_label() for h in figures._headline_key(result)]
    assert "AI trains its successor: not by Jan 2026" in key
    title = figures._title(result, "overrides: meta.end_year=2026")
    assert title.splitlines()[1:] == ["No successor training by Jan 2026 (end of run)",
                                      "overrides: meta.end_year=2026"]
    meta_overrides = type(result)({**result.meta, "overrides": ["a.b=1"]}, result.lab_names,
                                  result.world, result.labs, result.events, result.network)
    assert figures._title(meta_overrides, None).endswith("overrides: a.b=1")


def test_the_same_run_draws_the_same_bytes_without_a_date_or_version(tmp_path, baseline):
    figures.trajectory_figure(baseline, tmp_path / "a.png")
    figures.trajectory_figure(baseline, tmp_path / "b.png")
    png = (tmp_path / "a.png").read_bytes()
    assert png == (tmp_path / "b.png").read_bytes()
    assert b"Software" not in png and b"Creation Time" not in png and b"tIME" not in png


def test_the_data_cutoff_is_the_last_metr_measurement():
    metr = [o.date for o in observations() if o.quantity == figures.METR_QUANTITY]
    assert figures.DATA_CUTOFF == max(metr) == datetime.date(2025, 4, 16)


@pytest.mark.parametrize("year, said", [(2028 + 4 / 12, "May 2028"), (2025.0, "Jan 2025"),
                                        (2025 + 11 / 12, "Dec 2025"), (2030.99, "Dec 2030")])
def test_month_year_reads_a_decimal_year_as_its_month(year, said):
    assert figures.month_year(year) == said


def test_a_figure_that_cannot_be_drawn_does_not_fail_the_run(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ixsim.cli.app import app

    def broken(result, path, **_):
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
