"""`ixsim report`: one self-contained HTML file (no external URL, figures as PNG data URIs) with
the headline numbers, figures, method and sources; PNGs for slides; the same inputs give the
same bytes; a Sobol store gets the tornado; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import base64
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from ixsim.analysis import forecast as fc
from ixsim.analysis import report as rp
from ixsim.analysis import report_figures as rf
from ixsim.cli.app import main
from ixsim.sim.sources import calibration_rows
from tests.sweep_store import manifest_for, rows_for, write_store

DRAWS = "8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Every tag with its attributes, the ids, and whether the tags balance."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.unbalanced.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def attr(self, name: str) -> list[str]:
        return [a[name] for _, a in self.tags if a.get(name) is not None]


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def scenario_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    html, png = folder / "report.html", folder / "png"
    assert main(["report", "baseline", "--draws", DRAWS, "--seed", "3", "--out", str(html),
                 "--png-dir", str(png)]) == 0
    return html, png


def sobol_store(directory: Path, sampler: str = "sobol") -> Path:
    """A small store of a known function: successor training in 2026 + 6 x1 + 2 x2 (x3 inert),
    censored (missing) after 2031, on SALib's Saltelli design (or plain random points)."""
    names = ("a.x1", "a.x2", "a.x3")
    problem = {"num_vars": 3, "names": list(names), "bounds": [[0.0, 1.0]] * 3}
    if sampler == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(problem, 32, calc_second_order=False, seed=7)
    elif sampler == "morris":
        from SALib.sample import morris

        unit = morris.sample(problem, 16, num_levels=4, seed=3)
    else:
        unit = np.random.default_rng(0).random((64, 3))

    def outcome(x, seed_index, lever_set):
        year = 2026.0 + 6.0 * x[0] + 2.0 * x[1]
        return {"successor_training_year": year if year < 2031.0 else None,
                "start_year": 2023.0, "end_year": 2031.0, "takeoff_years": 1.0 + x[0]}

    manifest = manifest_for(sampler, names, unit, samples=32 if sampler == "sobol" else None,
                            outputs=["successor_training_year"])
    return write_store(directory, manifest, rows_for(names, unit, unit, outcome))


# --- the scenario report ------------------------------------------------------------------------

def test_report_is_one_html_file_with_no_external_resource(scenario_report):
    html, _ = scenario_report
    text = html.read_text(encoding="utf-8")
    page = parse(text)
    assert not page.unbalanced and not page.open
    assert "http://" not in text and "https://" not in text  # no URL at all, not even cited
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "object")]
    assert page.attr("href") == []
    sources = page.attr("src")
    assert len(sources) >= 4
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_SIGNATURE)


def test_report_has_the_headline_method_others_and_sources(scenario_report):
    html, _ = scenario_report
    text = html.read_text(encoding="utf-8")
    page = parse(text)
    ids = set(page.attr("id"))
    assert {"headline", "figures", "others", "method", "sources", "fig-successor", "fig-fans",
            "fig-lead-time", "fig-backtest"} <= ids
    words = " ".join(page.text)
    for year in ("2027", "2028", "2030"):
        assert year in words
    assert "95% Monte Carlo interval" in words and "effective sample size (Kish)" in words
    assert "priors alone" in words and "counts as 'later'" in words
    assert "not ixsim" in words
    for row, who, _ in fc.REFERENCE_POINTS:
        assert row in words and who in words
    for row in calibration_rows().values():
        assert row.cite in words
    assert "ixsim version" in words and "not stamped" in words and "baseline" in words
    assert len([t for t, _ in page.tags if t == "figcaption"]) == 4


def test_png_dir_holds_the_report_figures_byte_for_byte(scenario_report):
    html, png = scenario_report
    files = sorted(png.iterdir())
    assert [f.name for f in files] == ["backtest.png", "fans.png", "lead-time.png",
                                       "successor.png"]
    embedded = [base64.b64decode(s.split(",", 1)[1])
                for s in parse(html.read_text(encoding="utf-8")).attr("src")]
    for f in files:
        data = f.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and data in embedded
        assert b"Software" not in data[:2000]  # no matplotlib version in the metadata


def test_same_inputs_give_the_same_bytes(scenario_report, tmp_path):
    html, png = scenario_report
    again, again_png = tmp_path / "again.html", tmp_path / "png"
    assert main(["report", "baseline", "--draws", DRAWS, "--seed", "3", "--out", str(again),
                 "--png-dir", str(again_png)]) == 0
    assert again.read_bytes() == html.read_bytes()
    for f in png.iterdir():
        assert (again_png / f.name).read_bytes() == f.read_bytes()


def test_date_and_overrides_are_shown_when_given(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "baseline", "--draws", "3", "--out", str(out), "--date",
                 "2026-11-28", "--set", "software.returns_r=1.5"]) == 0
    words = " ".join(parse(out.read_text(encoding="utf-8")).text)
    assert "2026-11-28" in words and "software.returns_r=1.5" in words
    assert f"wrote {out}" in capsys.readouterr().out


# --- the sweep report ---------------------------------------------------------------------------

def test_sweep_report_with_sobol_samples_has_the_tornado(tmp_path):
    store = sobol_store(tmp_path / "store")
    out, png = tmp_path / "sweep.html", tmp_path / "png"
    assert main(["report", str(store), "--out", str(out), "--png-dir", str(png)]) == 0
    text = out.read_text(encoding="utf-8")
    page = parse(text)
    assert "fig-tornado" in page.attr("id") and "fig-successor" in page.attr("id")
    assert (png / "tornado.png").read_bytes().startswith(PNG_SIGNATURE)
    words = " ".join(page.text)
    assert "Wilson 95%" in words and "by end 2028" in words and "Sobol" in words
    assert "http://" not in text and "https://" not in text
    # the order of the indices: x1 moves the date most, x3 not at all
    from ixsim.analysis.query import load_runs
    from ixsim.analysis.sensitivity import sobol_indices

    manifest, runs = load_runs(store)
    st = {p["name"]: p["ST"] for p in sobol_indices(runs, manifest, rp.SUCCESSOR)["parameters"]}
    assert st["a.x1"] > st["a.x2"] > abs(st["a.x3"])


def test_sweep_report_with_morris_samples_has_a_mu_star_tornado(tmp_path):
    store = sobol_store(tmp_path / "store", sampler="morris")
    out, png = tmp_path / "morris.html", tmp_path / "png"
    assert main(["report", str(store), "--out", str(out), "--png-dir", str(png)]) == 0
    page = parse(out.read_text(encoding="utf-8"))
    assert "fig-tornado" in page.attr("id") and "Morris mu*" in " ".join(page.text)
    assert (png / "tornado.png").read_bytes().startswith(PNG_SIGNATURE)


def test_sweep_report_without_sensitivity_samples_says_why_there_is_no_tornado(tmp_path):
    store = sobol_store(tmp_path / "store", sampler="monte-carlo")
    out = tmp_path / "mc.html"
    assert main(["report", str(store), "--out", str(out)]) == 0
    page = parse(out.read_text(encoding="utf-8"))
    assert "fig-tornado" not in page.attr("id")
    assert "Sobol or Morris samples are needed" in " ".join(page.text)


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("args,needle", [
    (["baseline", "--out", "{tmp}/r.txt"], "error: --out:"),
    (["nope", "--out", "{tmp}/r.html"], "error: nope: no such scenario"),
    (["baseline", "--draws", "1", "--out", "{tmp}/r.html"], "--draws"),
    (["baseline", "--date", "28/11/2026", "--out", "{tmp}/r.html"], "error: --date:"),
    (["{tmp}/store", "--draws", "5", "--out", "{tmp}/r.html"], "error: --draws:"),
    (["{tmp}", "--out", "{tmp}/r.html"], "not a sweep store"),
    (["baseline", "--out", "{tmp}/r.html", "--png-dir", "{tmp}/file"], "error: --png-dir:"),
    (["baseline", "--set", "software.returns_r=-1", "--out", "{tmp}/r.html"], "returns_r"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(args, needle, tmp_path, capsys):
    sobol_store(tmp_path / "store")
    (tmp_path / "file").write_text("not a folder")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["report", *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# --- the pieces ----------------------------------------------------------------------------------

def test_reference_marks_are_the_forecasts_reference_points():
    assert set(rf.REFERENCE_MARKS) == {row for row, _, _ in fc.REFERENCE_POINTS}


def test_weighted_cdf_counts_censored_draws_as_never():
    dates = np.array([2027.5, np.nan, 2029.0, 2030.5])
    weights = np.array([0.1, 0.4, 0.2, 0.3])
    got = rf.weighted_cdf(dates, weights, np.array([2027.0, 2028.0, 2029.0, 2040.0]))
    assert got == pytest.approx([0.0, 0.1, 0.3, 0.6])


def test_first_crossing_is_the_first_month_at_or_over_the_threshold():
    times = np.array([2023.0, 2023.5, 2024.0])
    series = np.array([[1.0, 5.0, 9.0], [0.0, 0.0, 0.0], [np.nan, 10.0, 10.0]])
    got = rp.first_crossing(times, series, 5.0)
    assert got[0] == 2023.5 and math.isnan(got[1]) and got[2] == 2023.5


def test_render_html_escapes_text_and_embeds_the_png():
    png = rf.png_bytes(rf.tornado_figure([{"name": "x", "ST": 0.5, "ST_conf": 0.1,
                                           "S1": 0.4}], "sobol", "y"))
    report = rp.Report(title="<t>", summary="a & b", inputs=(("ixsim version", "9"),),
                       headline=(rp.Table(("a",), (("<b>",),)),),
                       figures=(rp.ReportFigure("f", "T", "C.", png),), method=("m",))
    text = rp.render_html(report)
    assert "&lt;t&gt;" in text and "a &amp; b" in text and "&lt;b&gt;" in text
    assert rp.data_uri(png) in text and "<b>" not in text
    assert rp.render_html(report) == text
