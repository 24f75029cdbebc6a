"""The store pages in a real browser (Chromium, headless): timelines, early warning,
sensitivity and sweeps load without console errors on a small store (a screenshot of each under
pytest's tmp folder), the timelines page shows the P(by 2028) that
``ixsim.analysis.sensitivity.successor_by_year`` computes, the PRIM condition box refuses a
malicious or broken condition in one line and accepts a good one, a tiny sweep launched from
the page completes with its bar full and is listed, a sweep name with '../' is refused, and a
reloaded URL restores the choices."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sweep_store import manifest_for, rows_for, write_store  # noqa: E402

pytestmark = pytest.mark.slow

NAMES = ("software.returns_r", "capability.oom_per_horizon_doubling")
END = 2031.0


def _successor(x: np.ndarray, seed_index: int, lever_set: int) -> dict:
    """A date that falls with returns_r and rises with the doubling; past END it is censored."""
    year = 2026.0 + 3.0 * (1.0 - x[0]) + 2.0 * x[1] + 0.5 * lever_set
    reached = year < END
    return {"successor_training_year": year if reached else math.nan,
            "rnd_automation_50_year": year - 1.0, "takeoff_years": 1.0 + x[1],
            "start_year": 2023.0, "end_year": END, "censored_at": math.nan if reached else END}


def sobol_store(directory: Path, n: int = 16) -> Path:
    """A Sobol (Saltelli) design over two parameters and two lever sets, in the engine's
    layout."""
    from SALib.sample import sobol

    problem = {"num_vars": 2, "names": list(NAMES), "bounds": [[0.0, 1.0]] * 2}
    unit = sobol.sample(problem, n, calc_second_order=False, seed=3)
    lever_sets = ({"strategies.frontier.race_response": 0.2},
                  {"strategies.frontier.race_response": 0.8})
    manifest = manifest_for("sobol", NAMES, unit, lever_sets=lever_sets, samples=n,
                            outputs=["successor_training_year"])
    manifest["complete"] = True
    rows = rows_for(NAMES, unit, unit, _successor, lever_sets=lever_sets)
    for row in rows:  # run ids in the engine's order: sample, lever set, seed
        row["run_id"] = row["sample_id"] * 2 + row["lever_set"]
    return write_store(directory, manifest, rows)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    sobol_store(root / "alpha")
    sobol_store(root / "beta", n=8)
    return root


def _tall_shot(shot, page, name: str) -> Path:
    """A screenshot of the whole page: the template scrolls inside its main area, so the
    viewport is made tall enough to hold it first."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')]"
                           ".map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1400, "height": int(min(max(height, 1000), 4000))})
    page.wait_for_timeout(800)
    return shot(page, name)


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def _wait_text(page, selector: str, pattern: str, timeout_ms: int = 30_000) -> str:
    page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel);"
        " return el && new RegExp(pat).test(el.innerText); }",
        arg=[selector, pattern], timeout=timeout_ms)
    return _text(page, selector)


def _shadow_text(page) -> str:
    """All text of the page, including Bokeh's shadow roots."""
    return page.evaluate("""() => {
        const out = [];
        const walk = (node) => {
            if (node.shadowRoot) walk(node.shadowRoot);
            for (const child of node.childNodes) {
                if (child.nodeType === 3) out.push(child.textContent);
                else walk(child);
            }
        };
        walk(document.body);
        return out.join(' ');
    }""")


def _wait_shadow_text(page, pattern: str, timeout_ms: int = 30_000) -> str:
    deadline_ms = timeout_ms
    step = 250
    waited = 0
    while True:
        text = _shadow_text(page)
        if re.search(pattern, text):
            return text
        if waited >= deadline_ms:
            raise AssertionError(f"{pattern!r} not on the page; it shows: {text[:2000]}")
        page.wait_for_timeout(step)
        waited += step


@pytest.mark.parametrize("slug", ["timelines", "early_warning", "sensitivity", "sweeps"])
def test_store_page_loads_without_console_errors(slug, store, serve_app, open_page, shot):
    base = serve_app(store)
    query = "&draws=20" if slug == "early_warning" else ""
    page = open_page(f"{base}?page={slug}{query}")
    expect = {"timelines": r"P\(by end of 2028\)", "early_warning": r"lead time to successor",
              "sensitivity": r"Sobol total index|samples", "sweeps": r"alpha"}[slug]
    _wait_shadow_text(page, expect, 60_000)
    page.wait_for_timeout(1000)  # let the figures settle
    path = _tall_shot(shot, page, f"store-{slug}")
    assert path.stat().st_size > 10_000
    assert page.ixsim_errors == []


def test_timelines_p_by_2028_matches_the_analysis(store, serve_app, open_page):
    from ixsim.analysis.query import load_runs
    from ixsim.analysis.sensitivity import successor_by_year

    manifest, runs = load_runs(store / "alpha")
    expected = {row["lever_set"]: next(y["p"] for y in row["years"] if y["year"] == 2028)
                for row in successor_by_year(runs, manifest)}
    base = serve_app(store)
    page = open_page(f"{base}?page=timelines&sweep=alpha")
    text = _wait_shadow_text(page, r"P\(by end of 2028\)")
    for lever_set, p in expected.items():
        label = f"race_response={0.2 if lever_set == 0 else 0.8:g}"
        row = re.search(re.escape(label) + r"\s*\|?\s*(≥ )?([0-9.]+) \([0-9.]+-[0-9.]+\)\s*\|?"
                        r"\s*(≥ )?([0-9.]+)", text.replace("\n", " "))
        assert row is not None, text[:2000]
        assert float(row.group(4)) == pytest.approx(p, abs=5e-4)
    assert page.ixsim_errors == []


def _type_condition(page, text: str) -> None:
    box = page.locator("input[placeholder='successor_training_year < 2028']")
    box.fill(text)
    box.press("Enter")


def test_prim_condition_refuses_bad_and_accepts_good(store, serve_app, open_page, shot):
    base = serve_app(store)
    page = open_page(f"{base}?page=sensitivity&sweep=alpha")
    _wait_shadow_text(page, r"Sobol total index|samples", 60_000)
    for bad in ("true) AS hit FROM runs UNION ALL SELECT (true",
                "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
                "successor_training_year < 2028; DROP TABLE runs",
                "no_such_column > 1"):
        _type_condition(page, bad)
        text = _wait_shadow_text(page, r"refused: [^\n]+")
        line = re.search(r"refused: ([^\n]+)", text).group(1)
        assert len(line) < 400
    _type_condition(page, "successor_training_year < 2028")
    text = _wait_shadow_text(page, r"✓ \d+ of \d+ runs meet the condition")
    assert "refused" not in text
    _wait_shadow_text(page, r"coverage|No box")
    _tall_shot(shot, page, "store-sensitivity-prim")
    assert page.ixsim_errors == []


def test_url_restores_the_chosen_sweep_and_output(store, serve_app, open_page):
    base = serve_app(store)
    page = open_page(f"{base}?page=sensitivity&sweep=alpha")
    _wait_shadow_text(page, r"alpha\s*: \d+ runs")
    page.locator("select").nth(0).select_option("beta")
    page.wait_for_function("() => location.search.includes('sweep=beta')", timeout=20_000)
    page.locator("select").nth(1).select_option("takeoff_years")
    page.wait_for_function("() => location.search.includes('output=takeoff_years')",
                           timeout=20_000)
    url = page.url
    again = open_page(url)
    _wait_shadow_text(again, r"beta\s*: \d+ runs")
    assert again.locator("select").nth(0).input_value() == "beta"
    assert again.locator("select").nth(1).input_value() == "takeoff_years"
    assert again.ixsim_errors == []


def _fill(page, label_placeholder: str, value: str) -> None:
    box = page.locator(f"input[placeholder='{label_placeholder}']")
    box.fill(value)
    box.press("Enter")


def test_sweeps_page_refuses_a_name_outside_the_store(store, serve_app, open_page):
    base = serve_app(store)
    page = open_page(f"{base}?page=sweeps")
    _wait_shadow_text(page, r"alpha")
    _fill(page, "e.g. policy-small", "../escape")
    page.get_by_role("button", name="Launch").click()
    text = _wait_shadow_text(page, r"refused: [^\n]+")
    assert "a sweep name is letters" in text
    assert not (store.parent / "escape").exists()
    assert page.ixsim_errors == []


def test_sweeps_page_runs_a_tiny_sweep_to_the_end(store, serve_app, open_page, shot):
    base = serve_app(store)
    page = open_page(f"{base}?page=sweeps&spec=forecast&samples=8&workers=1")
    _wait_shadow_text(page, r"alpha")
    _fill(page, "e.g. policy-small", "tiny")
    page.get_by_role("button", name="Launch").click()
    _wait_shadow_text(page, r"tiny: finished: 8 of 8 runs", 120_000)
    page.wait_for_function(
        """() => {
            const find = (root) => {
                for (const el of root.querySelectorAll('*')) {
                    if (el.tagName === 'PROGRESS') return el;
                    if (el.shadowRoot) { const got = find(el.shadowRoot); if (got) return got; }
                }
                return null;
            };
            const bar = find(document);
            return bar !== null && Number(bar.value) === Number(bar.max);
        }""", timeout=20_000)
    text = _wait_shadow_text(page, r"tiny\s+monte-carlo\s+baseline\s+8\s+\d+ of \d+\s+complete")
    assert (store / "tiny" / "manifest.json").is_file()
    for _ in range(40):  # the finished sweep's manifest is the one shown
        if page.locator("select").last.input_value() == "tiny":
            break
        page.wait_for_timeout(250)
    assert page.locator("select").last.input_value() == "tiny"
    _tall_shot(shot, page, "store-sweeps-finished")
    assert page.ixsim_errors == []
    assert "finished" in text


def test_a_sweep_cancelled_from_the_page_resumes_to_the_same_runs(tmp_path):
    """store_jobs (the page's runner) without the browser: cancel stops between chunks with
    the written chunks kept and the manifest incomplete; resume runs the rest."""
    import json
    import time

    from ixsim.analysis.query import load_runs
    from ixsim.analysis.sweep import load_sweep
    from ixsim.analysis.sweep.spec import parse_sweep
    from ixsim.dashboards import store_jobs

    # 20 chunks of 2 runs: enough that the cancel lands while chunks remain (runs take ~25 ms)
    spec = json.loads(json.dumps(load_sweep("forecast", samples=40).spec))
    spec["sweep"]["chunk_size"] = 2
    sweep = parse_sweep(spec, "test")
    path = tmp_path / "store" / "cut"
    job = store_jobs.start(sweep, "cut", path, resume=False, workers=1)
    deadline = time.monotonic() + 120
    while job.done == 0 and job.active and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    job.thread.join(120)
    assert job.state == "cancelled", job.describe()
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["complete"] is False
    written = len(list((path / "runs").glob("chunk-*.parquet")))
    assert 1 <= written < 20
    resumed = store_jobs.start(sweep, "cut", path, resume=True, workers=1)
    with pytest.raises(ValueError, match="already running"):  # one job per folder at a time
        store_jobs.start(sweep, "cut", path, resume=True, workers=1)
    resumed.thread.join(120)
    assert resumed.state == "done", resumed.describe()
    assert resumed.already == 2 * written and resumed.done == 40 - 2 * written
    _, runs = load_runs(path)
    assert list(runs["run_id"]) == list(range(40))


def test_timelines_link_restores_the_chosen_lever_set(store, serve_app, open_page):
    import json
    from urllib.parse import quote

    base = serve_app(store)
    chosen = json.dumps(["race_response=0.8"])
    page = open_page(f"{base}?page=timelines&sweep=beta&levers={quote(chosen)}")
    text = _wait_shadow_text(page, r"P\(by end of 2028\)")
    table = text[text.index("P(by end of 2028)"):]
    assert "race_response=0.8" in table and "race_response=0.2" not in table.split("Median")[0]
    assert page.locator("select").nth(0).input_value() == "beta"
    assert page.ixsim_errors == []


def test_a_spec_built_in_the_page_is_checked_by_the_spec_validator(store):
    """The sweeps page's builder without the browser: a good spec is planned, a bad
    distribution gets the validator's one line, and the base scenario is only ever a name from
    the list (a path is refused by the widget)."""
    from ixsim.dashboards.context import AppContext
    from ixsim.dashboards.pages.sweeps import BUILD, SweepsPage

    page = SweepsPage(AppContext(store))
    page.mode.value = BUILD
    page.name.value = "built"
    page.samples.value = 4
    page._check()
    assert page.message.object.startswith("✓ built: 8 runs"), page.message.object
    page.uncertainties.value = '"software.returns_r" = { dist = "lognorm", s = -1.0 }'
    page._check()
    assert page.message.object.startswith("⚠ ") and "\n" not in page.message.object
    page.uncertainties.value = 'not toml = = ='
    page._check()
    assert page.message.object.startswith("⚠ uncertainties: not TOML")
    page.base.value = "../../etc/passwd"  # a Select takes it (a link could set it) ...
    page._check()
    assert "not a scenario name" in page.message.object  # ... the page does not
    page.base.value = "baseline"
    page.mode.value = "a shipped spec"
    page.shipped.value = "/etc/hosts"
    page._check()
    assert "not a shipped spec" in page.message.object
    page.name.value = "../up"
    page._check()
    assert "refused" in page.message.object and not (store.parent / "up").exists()


def test_early_warning_page_refuses_a_scenario_path_from_a_link(monkeypatch):
    """A Select takes any value a link gives it; the page only runs listed scenario names."""
    from ixsim.dashboards.context import AppContext
    from ixsim.dashboards.pages import early_warning as module

    monkeypatch.setattr(module, "DEFAULT_DRAWS", 20)
    page = module.EarlyWarningPage(AppContext(None))
    assert page.ensemble is not None and page.ensemble.size == 20
    page.scenario.value = "../../etc/passwd"
    assert "not a scenario name" in page.message.object
    assert page.ensemble.scenario == "baseline"


def test_early_warning_page_reads_a_sweeps_yearly_series(tmp_path, monkeypatch):
    """A sweep that kept its runs' yearly series can be the source: automation = (t - 2023)/10
    crosses 50% at 2028.0 in every run, so the lead times are the successor dates - 2028, and a
    run without successor training is censored at the runs' end."""
    from ixsim.dashboards.context import AppContext
    from ixsim.dashboards.pages import early_warning as module

    monkeypatch.setattr(module, "DEFAULT_DRAWS", 20)
    successor = [2029.0, 2030.5, math.nan]
    unit = np.array([[0.1], [0.5], [0.9]])
    manifest = manifest_for("monte-carlo", ["software.returns_r"], unit)
    manifest["outputs"] = {"series": ["rnd_automation"], "per_run_series": True}
    rows = rows_for(["software.returns_r"], unit, unit,
                    lambda x, seed, lever: {})
    for row, year in zip(rows, successor):
        row.update({"successor_training_year": year, "end_year": 2033.0})
    series = [{"run_id": r, "year": float(y), "rnd_automation": (y - 2023) / 10.0}
              for r in range(3) for y in range(2023, 2034)]
    write_store(tmp_path / "store" / "yearly", manifest, rows, series=series)
    page = module.EarlyWarningPage(AppContext(tmp_path / "store"))
    assert "yearly" in page.source.options.values()  # listed among the sources
    page.source.value = "yearly"
    frame = page._frame()
    assert list(frame["status"]) == ["observed", "observed", "censored"]
    np.testing.assert_allclose(frame["signal_year"], [2028.0] * 3)
    np.testing.assert_allclose(frame["lead_years"], [1.0, 2.5, 5.0])
    assert list(frame["lead_is_lower_bound"]) == [False, False, True]
    page.trigger.value = "incident"
    assert "records no incident dates" in page.summary.object


def test_timelines_page_downloads_its_figure_and_data(store, serve_app, open_page, tmp_path):
    base = serve_app(store)
    page = open_page(f"{base}?page=timelines&sweep=alpha")
    _wait_shadow_text(page, r"P\(by end of 2028\)")
    got = {}
    for label in ("⬇ PNG", "⬇ CSV"):
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name=label).first.click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        got[label] = path
    assert got["⬇ PNG"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert got["⬇ PNG"].name == "timelines.png"
    header = got["⬇ CSV"].read_text().splitlines()[0]
    assert header == "sweep,lever_set,run_id,successor_training_year,end_year"
    assert len(got["⬇ CSV"].read_text().splitlines()) == 1 + 128
    assert page.ixsim_errors == []


def test_timelines_page_fills_in_as_chunks_land(tmp_path):
    """A sweep still running (manifest not complete): the page's poll rereads the store when a
    new chunk has landed."""
    import json
    import shutil

    import pyarrow.parquet as pq

    from ixsim.dashboards.context import AppContext
    from ixsim.dashboards.pages.timelines import TimelinesPage

    folder = sobol_store(tmp_path / "store" / "growing")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update({"complete": False, "chunk_size": 32, "n_chunks": 4})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    whole = folder / "runs" / "chunk-00000.parquet"
    table = pq.read_table(whole)
    whole.unlink()
    pq.write_table(table.slice(0, 64), folder / "runs" / "chunk-00000.parquet")
    page = TimelinesPage(AppContext(tmp_path / "store"))
    assert "64 runs" in page.status.object and "still running" in page.status.object
    pq.write_table(table.slice(64, 64), folder / "runs" / "chunk-00001.parquet")
    page._poll()
    assert "128 runs" in page.status.object
    shutil.rmtree(folder)


@pytest.mark.parametrize("condition, problem", [
    ("true) AS hit FROM runs UNION ALL SELECT (true", "closes more than was opened"),
    ("(SELECT count(*) FROM range(1e12)) > 0", "no subqueries"),
    ("takeoff_years > 1; DROP TABLE runs", "';' is not allowed"),
    ("takeoff_years > 1 -- and more", "comments"),
    ("scenario = 'unclosed", "quote is not closed"),
    ("(takeoff_years > 1", "'(' is not closed"),
    ("", "type a condition"),
    ("x" * 501, "at most 500"),
])
def test_condition_checker_refuses_in_one_line(condition, problem):
    from ixsim.dashboards.store_data import ConditionError, check_condition

    with pytest.raises(ConditionError, match=re.escape(problem)):
        check_condition(condition)


def test_condition_checker_passes_ordinary_conditions_to_duckdb(store):
    from ixsim.analysis.query import load_runs
    from ixsim.dashboards.store_data import condition_hits

    _, runs = load_runs(store / "alpha")
    hit = condition_hits(runs, "successor_training_year < 2028 AND \"software.returns_r\" > 0.5 "
                               "AND end_year IS NOT NULL OR lever_set IN (7) OR 'a(' = ')'")
    expected = ((runs["successor_training_year"] < 2028) & (runs["software.returns_r"] > 0.5))
    assert hit.tolist() == expected.fillna(False).tolist()
