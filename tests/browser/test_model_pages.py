"""The model pages in a real browser (Debian's Chromium, headless): explorer, compare and
calibration load without console errors (a screenshot of each under pytest's tmp folder);
moving a slider re-runs the model and changes the plotted data; a copied link restores the
page, the scenario and every override in a new browser context; a bad uploaded scenario shows
the schema's field error; the ensemble runs in the background with a progress bar while the
page keeps answering; downloads are real PNG and CSV files; ten concurrent sessions each
re-running the explorer all get their answers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HEADLINE = ".ixsim-headline"
STATUS = ".ixsim-status"
SLIDER_CLASS = "knob-software.returns_r"


def tall_shot(shot, page, name: str) -> Path:
    """A screenshot of the whole page (the template scrolls inside its main area, so the
    viewport is made tall enough first)."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')]"
                           ".map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1400, "height": int(min(max(height, 1000), 4000))})
    page.wait_for_timeout(800)
    return shot(page, name)


INNER_TEXT = """e => { const root = e.shadowRoot; if (!root) return e.innerText;
    return Array.from(root.children).filter(c => !['STYLE', 'LINK'].includes(c.tagName))
        .map(c => c.innerText || '').join('\\n'); }"""


def text(page, selector: str) -> str:
    """The visible text of the first element with ``selector`` (Panel renders a pane's
    content inside the element's shadow root)."""
    return page.locator(selector).first.evaluate(INNER_TEXT, timeout=5_000)


def wait_text(page, selector: str, pattern: str, timeout_ms: int = 60_000) -> str:
    """Wait until the element's text matches ``pattern`` (a regex); return the text."""
    deadline = time.monotonic() + timeout_ms / 1000
    last = ""
    while time.monotonic() < deadline:
        try:
            last = text(page, selector)
        except Exception:  # not rendered yet
            last = ""
        if re.search(pattern, last):
            return last
        page.wait_for_timeout(200)
    raise AssertionError(f"{selector}: {pattern!r} not seen; last text: {last!r}")


def wait_change(page, selector: str, before: str, timeout_ms: int = 30_000) -> str:
    deadline = time.monotonic() + timeout_ms / 1000
    now = before
    while time.monotonic() < deadline:
        now = text(page, selector)
        if now != before:
            return now
        page.wait_for_timeout(150)
    raise AssertionError(f"{selector} did not change from {before!r}")


def source_data(page, name: str) -> dict:
    """A Bokeh ColumnDataSource of the page, by name, as plain JSON."""
    return page.evaluate(
        """(name) => { for (const doc of Bokeh.documents) {
                const src = doc.get_model_by_name(name);
                if (src) { const out = {};
                    for (const [k, v] of Object.entries(src.data))
                        out[k] = Array.from(v, x => (x && x.length !== undefined &&
                                                     typeof x !== 'string') ? Array.from(x) : x);
                    return out; } }
            return null; }""", name)


def horizon_end(page) -> float:
    data = source_data(page, "horizon-lines")
    assert data is not None, "the horizon chart's data source is not in the page"
    ys = [y for y in data["ys"][0] if y is not None]
    return float(ys[-1])


def nudge_slider(page, css_class: str, presses: int, key: str = "ArrowRight") -> None:
    """Move a slider with the keyboard, as a person would (one step a press)."""
    handle = page.locator(f".{css_class.replace('.', chr(92) + '.')} .noUi-handle").first
    handle.focus()
    for _ in range(presses):
        handle.press(key)
        page.wait_for_timeout(30)


def open_explorer(open_page, base: str, query: str = ""):
    page = open_page(f"{base}?page=explorer{query}")
    wait_text(page, HEADLINE, r"AI trains its successor")
    return page


@pytest.fixture(scope="module")
def base(serve_app) -> str:
    return serve_app(None)


@pytest.mark.parametrize("slug, ready, pattern", [
    ("explorer", HEADLINE, r"AI trains its successor\s+20\d\d"),
    ("compare", ".ixsim-compare-table", r"A: baseline"),
    ("calibration", ".ixsim-backtest-status", r"done in"),
])
def test_model_page_loads_without_console_errors(slug, ready, pattern, base, open_page, shot):
    page = open_page(f"{base}?page={slug}")
    wait_text(page, ready, pattern, timeout_ms=90_000)
    page.wait_for_timeout(1000)  # let every figure draw
    path = tall_shot(shot, page, f"model-{slug}")
    assert path.stat().st_size > 20_000
    assert page.ixsim_errors == []
    assert f"page={slug}" in page.url


def test_unknown_page_and_bad_url_values_fall_back_to_defaults(base, open_page):
    page = open_page(f"{base}?page=..%2F..%2Fetc&scenario=..%2F..%2Fetc%2Fpasswd"
                     "&software.returns_r=import%20os&seed=-5")
    wait_text(page, STATUS, r"^baseline, seed 0; changed: none")
    assert "page=explorer" in page.url
    assert page.ixsim_errors == []


def test_moving_a_slider_changes_the_plotted_data(base, open_page, shot):
    page = open_explorer(open_page, base)
    before_text, before_end = text(page, HEADLINE), horizon_end(page)
    nudge_slider(page, SLIDER_CLASS, 10)  # returns to software R&D 1.20 -> 1.70
    after_text = wait_change(page, HEADLINE, before_text)
    wait_text(page, STATUS, r"software\.returns_r = 1\.7")
    assert horizon_end(page) != before_end
    assert after_text != before_text
    assert re.search(r"software\.returns_r=1\.7", page.url)
    tall_shot(shot, page, "model-explorer-after-slider")
    assert page.ixsim_errors == []


def model_horizon_end(scenario: str, changes: dict[str, float]) -> float:
    """The last frontier horizon (minutes) of the run the page should be showing, computed
    here from the model itself."""
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario, with_overrides

    spec = with_overrides(load_scenario(scenario), changes, "test")
    return float(simulate(spec, seed=0).frames()["world"]["frontier_horizon_minutes"].iloc[-1])


def test_a_copied_link_restores_the_view(base, open_page):
    page = open_explorer(open_page, base)
    page.locator("select").first.select_option("us-china-race")
    wait_text(page, STATUS, r"us-china-race")
    nudge_slider(page, SLIDER_CLASS, 4)  # 1.20 -> 1.40, re-run at every step
    status = wait_text(page, STATUS, r"software\.returns_r = 1\.4\b")
    expected = model_horizon_end("us-china-race", {"software.returns_r": 1.4})
    # the status and the charts travel in one held patch: what the page shows is the run the
    # status names (the 1.35 run's chart once stayed on screen here, before that hold)
    assert horizon_end(page) == pytest.approx(expected, rel=1e-12)
    headline = text(page, HEADLINE)
    link = page.url
    assert "scenario=us-china-race" in link and "page=explorer" in link

    again = open_explorer(open_page, link.split("?")[0], "&" + link.split("?", 1)[1])
    wait_text(again, STATUS, re.escape(status.split(". Ran")[0]))
    assert text(again, HEADLINE) == headline
    assert horizon_end(again) == pytest.approx(expected, rel=1e-12)
    assert again.locator("select").first.input_value() == "us-china-race"
    assert again.ixsim_errors == []


def test_a_bad_uploaded_scenario_shows_the_field_error(base, open_page, shot):
    page = open_explorer(open_page, base)
    bad = b'extends = "baseline.toml"\n[meta]\nname = "mine"\n[software]\nreturns_r = -3\n'
    page.locator("input[type=file]").first.set_input_files(
        {"name": "mine.toml", "mimeType": "application/toml", "buffer": bad})
    message = wait_text(page, ".ixsim-upload-error", r"returns_r")
    assert ("mine.toml: software.returns_r: input should be greater than or equal to 0.05 "
            "(got -3)") in message
    tall_shot(shot, page, "model-explorer-bad-upload")

    good = b'extends = "baseline.toml"\n[meta]\nname = "mine"\n[software]\nreturns_r = 2.5\n'
    page.locator("input[type=file]").first.set_input_files(
        {"name": "good.toml", "mimeType": "application/toml", "buffer": good})
    wait_text(page, STATUS, r"uploaded: good\.toml")
    assert page.ixsim_errors == []


def test_ensemble_runs_in_the_background_with_progress(base, open_page, shot):
    page = open_explorer(open_page, base, "&draws=200")
    page.locator(".ixsim-run-ensemble button").first.click()
    wait_text(page, ".ixsim-ens-status", r"\d+ of 200 done", timeout_ms=30_000)
    # the page still answers while the ensemble runs: a new seed re-runs the model at once
    before = text(page, STATUS)
    seed = page.locator(".ixsim-seed input").first
    seed.fill("7")
    seed.press("Enter")
    wait_text(page, STATUS, r"seed 7")
    assert text(page, STATUS) != before
    assert re.search(r"\d+ of 200 done", text(page, ".ixsim-ens-status"))
    wait_text(page, ".ixsim-ens-status", r"done in .* draws ran", timeout_ms=180_000)
    bands = source_data(page, "fan-frontier_effective_flop-bands")
    assert bands is not None and len(bands["xs"]) == 1
    tall_shot(shot, page, "model-explorer-ensemble")
    assert page.ixsim_errors == []


def test_downloads_are_png_and_csv(base, open_page, tmp_path):
    page = open_explorer(open_page, base)
    buttons = page.locator("button", has_text="PNG")
    with page.expect_download(timeout=60_000) as png:
        buttons.first.click()
    png_path = tmp_path / png.value.suggested_filename
    png.value.save_as(png_path)
    assert png_path.name == "explorer-compute.png"
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download(timeout=60_000) as csv:
        page.locator("button", has_text="CSV").nth(2).click()
    csv_path = tmp_path / csv.value.suggested_filename
    csv.value.save_as(csv_path)
    assert csv_path.read_text().splitlines()[0].startswith("series,x,y")


def test_compare_shows_a_lever_error_and_overlaid_bands(base, open_page, shot):
    page = open_page(f"{base}?page=compare&n=2&draws=20")
    wait_text(page, ".ixsim-compare-table", r"B: us-china-race")
    box = page.locator(".ixsim-levers-B textarea").first
    box.fill("software.retrns_r=2")
    box.press("Tab")
    wait_text(page, ".ixsim-compare-error-B",
              r"levers B: software\.retrns_r: unknown field; did you mean software\.returns_r")
    box.fill("software.returns_r=2")
    box.press("Tab")
    wait_text(page, ".ixsim-compare-table", r"B: us-china-race \[software\.returns_r=2\]")
    assert "leversB=software.returns_r%3D2" in page.url or "leversB=software.returns_r=2" in \
        page.url
    page.locator(".ixsim-run-ensembles button").first.click()
    bands = None
    for _ in range(600):
        bands = source_data(page, "fan-rnd_automation-bands")
        if bands and len(bands["xs"]) == 2:
            break
        page.wait_for_timeout(200)
    assert bands is not None and len(bands["xs"]) == 2
    tall_shot(shot, page, "model-compare-ensembles")
    assert page.ixsim_errors == []


def test_ten_concurrent_sessions_each_rerunning_get_answers(base, new_page):
    pages = []
    values = [round(1.3 + 0.1 * i, 2) for i in range(10)]  # none is the scenario's 1.2
    for value in values:  # ten sessions opened at once, none waited for yet
        page = new_page()
        page.ixsim_seen = []
        page.on("pageerror", lambda exc, seen=page.ixsim_seen: seen.append(str(exc)))
        page.goto(f"{base}?page=explorer&software.returns_r={value}", wait_until="commit")
        pages.append(page)
    for page, value in zip(pages, values):
        wait_text(page, STATUS, rf"software\.returns_r = {value:g}", timeout_ms=120_000)
    for page in pages:  # each re-runs with a new seed, all before any answer is read
        seed = page.locator(".ixsim-seed input").first
        seed.fill("3")
        seed.press("Enter")
    for page, value in zip(pages, values):
        wait_text(page, STATUS, rf"seed 3; changed: software\.returns_r = {value:g}",
                  timeout_ms=120_000)
        assert page.ixsim_seen == []
    ends = {horizon_end(page) for page in pages}
    assert len(ends) > 1  # different overrides, different answers
