"""Explorer: one scenario, its key parameters as sliders (grouped as in the scenario file), a
single run re-drawn on every change, and an ensemble over the priors as fan charts.

The run goes through the public functions of the command line (``load_scenario``,
``with_overrides``, ``simulate``); the ensemble through ``ixsim.analysis.ensemble``, in a
background thread with a progress bar. The scenario, the seed and every slider are in the URL.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ixsim.analysis.forecast import effective_sample_size
from ixsim.dashboards import inputs, plots
from ixsim.dashboards.common import (BackgroundJob, caption, csv_download, downloads,
                                     error_lines, fan_cells, url_sync)
from ixsim.dashboards.context import AppContext

SLUG = "explorer"
TITLE = "Explorer"

INTRO = ("Pick a scenario and move the sliders: the model re-runs at once (a run takes a few "
         "hundredths of a second) and every figure below is redrawn. The sliders start at the "
         "scenario's own values; only those you move change it. *Uncertainty* runs the "
         "scenario many times over the range of published estimates and shows the spread.")

CAPTIONS = {
    "compute": "How much effective training compute (hardware times algorithmic progress) each "
               "lab's best AI system was trained with, month by month.",
    "automation": "The share of AI research done by AI (blue), of the human checking of AI "
                  "changes (dashed), and how many times faster than in 2023 software "
                  "improves (orange; gaps: progress has stopped).",
    "horizon": "How long a task (in human minutes) the best AI can finish half the time, "
               "with METR's measured points and their 95% intervals in black.",
    "safety": "The share of the leading lab's compute spent on safety, and the share of its "
              "research decisions no human reviews.",
    "incidents": "AI incidents so far (minor and major); triangles mark major incidents.",
    "policy": "How strict each government's AI rules are over time, from none (0) through "
              "reporting, evaluations, licensing and compute caps to a pause (5).",
    "events": "When things happen: automation milestones, an AI training its own successor, "
              "incidents, new rules and treaties (hover for details).",
    "network": "Which labs share know-how (blue), which regulators coordinate (orange dashed) "
               "and where each lab is regulated (grey dotted).",
}
FAN_CAPTIONS = {
    "fan-frontier_effective_flop": "The range of frontier compute over the uncertain "
                                   "parameters: the band holds 80% of the weighted runs, the "
                                   "line is the middle one.",
    "fan-rnd_automation": "How quickly AI research gets automated across the uncertain "
                          "parameters (10-90% band and median).",
    "fan-frontier_horizon_minutes": "The range of task lengths the best AI can do (10-90% "
                                    "band and median).",
    "fan-leader_safety_share": "The range of the leading lab's safety share (10-90% band "
                               "and median).",
    "fan-max_policy_level": "The range of the strictest rule in force anywhere, 0 none .. 5 "
                            "pause (10-90% band and median).",
}
HEADLINE = (
    ("successor_training_year", "AI trains its successor", "year"),
    ("rnd_automation_50_year", "50% of AI R&D automated", "year"),
    ("takeoff_years", "takeoff, 20% to 100% automated", "years"),
    ("peak_effective_compute_growth_oom_per_year", "peak compute growth", "OOM/year"),
    ("final_frontier_effective_flop", "frontier effective compute at end", "FLOP"),
    ("major_incidents_before_successor", "major incidents before successor", "count"),
    ("first_pause_year", "first pause in force", "year"),
)
DRAWS = (20, 200, 100)  # ensemble size slider: start, end, default (the 100-200)


def fmt(value: Any) -> str:
    """A headline number for people: years with two decimals, magnitudes with three digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not reached"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if 1900 <= value <= 2300 else f"{value:.3g}"
    return str(value)


def headline_table(summary: dict[str, Any]) -> str:
    rows = ["| outcome | value | units |", "|---|---:|---|"]
    rows += [f"| {label} | {fmt(summary.get(key))} | {units} |" for key, label, units in HEADLINE]
    return "\n".join(rows)


class ScenarioPicker:
    """The scenario menu, the seed and the upload box (shared with the compare page)."""

    def __init__(self, name: str = "Scenario", url_key: str | None = "scenario"):
        from ixsim.sim.scenario import scenario_names

        names = scenario_names()
        self.uploaded: dict[str, Any] = {}
        self.select = pn.widgets.Select(label=name, options=names,
                                        value="baseline" if "baseline" in names else names[0])
        self.upload = pn.widgets.FileInput(accept=".toml", multiple=False,
                                           css_classes=["ixsim-upload"])
        self.upload_note = pn.pane.Alert("", alert_type="danger", visible=False,
                                         css_classes=["ixsim-upload-error"])
        self.upload.param.watch(self._on_upload, "value")
        if url_key:
            url_sync(self.select, url_key)

    def _on_upload(self, event: Any) -> None:
        data = event.new
        if not data:
            return
        try:
            spec = inputs.load_upload(self.upload.filename, data)
        except inputs.UploadError as exc:
            self.upload_note.object = ("**The uploaded scenario was refused:**\n\n"
                                       + error_lines(exc.lines()))
            self.upload_note.visible = True
            return
        self.upload_note.visible = False
        label = inputs.UPLOAD_PREFIX + inputs.upload_name(self.upload.filename)
        self.uploaded[label] = spec
        options = [o for o in self.select.options if o != label] + [label]
        self.select.options = options
        self.select.value = label

    def scenario(self, name: str | None = None) -> Any:
        """The chosen scenario (ScenarioError for a broken shipped one)."""
        from ixsim.sim.scenario import load_scenario

        name = name or self.select.value
        if name in self.uploaded:
            return self.uploaded[name]
        return load_scenario(name)

    def upload_box(self) -> pn.Column:
        return pn.Column(
            pn.pane.Markdown("**Or upload a scenario** (TOML, as `ixsim validate` checks it; "
                             f"at most {inputs.MAX_UPLOAD_BYTES // 1024} KiB; it may extend a "
                             "shipped scenario, e.g. `extends = \"baseline.toml\"`). An "
                             "uploaded file is not part of the page's link.",
                             styles={"font-size": "0.85em"}),
            self.upload, self.upload_note)


class Explorer:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.picker = ScenarioPicker()
        self.seed = pn.widgets.IntInput(label="Seed (incidents and regulators' moves)", value=0,
                                        start=0, end=2**31 - 1, css_classes=["ixsim-seed"])
        url_sync(self.seed, "seed")
        self.base = self._load_base()
        self.sliders: dict[str, pn.widgets.FloatSlider] = {}
        cards = []
        for group, knobs in inputs.GROUPS:
            widgets = []
            for knob in knobs:
                lo, hi = inputs.knob_range(knob, self.base)
                slider = pn.widgets.FloatSlider(label=knob.label, start=lo, end=hi,
                                                step=knob.step, value=knob.value(self.base),
                                                css_classes=[f"knob-{knob.key}"])
                self.sliders[knob.key] = slider
                widgets.append(slider)
            cards.append(pn.Card(*widgets, title=group, collapsed=group not in {"Software"},
                                 sizing_mode="stretch_width"))
        for key, slider in self.sliders.items():
            url_sync(slider, key)  # after the defaults: a link's values win
        self.reset = pn.widgets.Button(label="Reset sliders to the scenario", color="light")
        self.status = pn.pane.Markdown("", css_classes=["ixsim-status"])
        self.error = pn.pane.Alert("", alert_type="danger", visible=False,
                                   css_classes=["ixsim-run-error"])
        self.headline = pn.pane.Markdown("", css_classes=["ixsim-headline"])
        self.result = None
        self.observed = plots.observed_horizons()
        self.charts: dict[str, plots.Chart] = {}
        self.views: dict[str, plots.BokehChart] = {}

        # ensemble
        self.draws = pn.widgets.IntSlider(label="Draws over the priors", start=DRAWS[0],
                                          end=DRAWS[1], step=10, value=DRAWS[2])
        url_sync(self.draws, "draws")
        self.run_ensemble = pn.widgets.Button(label="Run the uncertainty ensemble",
                                              color="primary",
                                              css_classes=["ixsim-run-ensemble"])
        self.ens_progress = pn.indicators.Progress(value=0, max=100, visible=False,
                                                   sizing_mode="stretch_width", bar_color="info")
        self.ens_status = pn.pane.Markdown("Not run yet: press the button (100 draws take "
                                           "a few seconds).", css_classes=["ixsim-ens-status"])
        self.job = BackgroundJob(self.ens_progress, self.ens_status)
        self.ensemble = None
        self.fan_views: dict[str, plots.BokehChart] = {}
        self.fans = pn.Column(sizing_mode="stretch_width")

        self.run()
        self.picker.select.param.watch(self._on_scenario, "value")
        self.seed.param.watch(lambda e: self.run(), "value")
        for slider in self.sliders.values():
            slider.param.watch(lambda e: self.run(), "value_throttled")
        self.reset.on_click(lambda e: self._reset_sliders())
        self.run_ensemble.on_click(lambda e: self._start_ensemble())

        controls = pn.Column(self.picker.select, self.seed, *cards, self.reset,
                             self.picker.upload_box(), width=330)
        self.view = pn.Row(controls, pn.Column(
            pn.pane.Markdown(INTRO), self.error, self.status,
            pn.Row(self.headline, csv_download(self.summary_frame, "explorer-summary.csv",
                                               "CSV of the run"),
                   csv_download(self.world_frame, "explorer-world.csv", "CSV: monthly"),
                   sizing_mode="stretch_width"),
            self._chart_grid(),
            pn.pane.Markdown("## Uncertainty"),
            pn.pane.Markdown("The run above uses one value for each parameter. The ensemble "
                             "draws the uncertain parameters from their published ranges "
                             "(the priors of `ixsim forecast`), keeps your slider changes for "
                             "the rest, and weights each run by how well it matches the "
                             "2023-25 observations."),
            pn.Row(self.draws, self.run_ensemble), self.ens_progress, self.ens_status,
            self.fans, sizing_mode="stretch_width"), sizing_mode="stretch_width")

    # ------------------------------------------------------------ single run

    def _load_base(self) -> Any:
        try:
            return self.picker.scenario()
        except Exception:
            from ixsim.sim.scenario import load_scenario

            self.picker.select.value = "baseline"
            return load_scenario("baseline")

    def values(self) -> dict[str, float]:
        return {key: s.value for key, s in self.sliders.items()}

    def spec(self) -> Any:
        from ixsim.sim.scenario import with_overrides

        changes = inputs.overrides(self.base, self.values())
        return with_overrides(self.base, changes, "sliders") if changes else self.base

    def run(self) -> None:
        from ixsim.sim.model import simulate
        from ixsim.sim.scenario import ScenarioError

        started = time.perf_counter()
        try:
            spec = self.spec()
            result = simulate(spec, seed=int(self.seed.value or 0))
        except ScenarioError as exc:
            self.error.object = error_lines(exc.lines())
            self.error.visible = True
            return
        except Exception as exc:  # a run that fails on its own: shown, not raised
            self.error.object = f"The run failed: {type(exc).__name__}: {exc}"
            self.error.visible = True
            return
        self.result, self.run_spec = result, spec
        self.charts = plots.run_charts(result, self.observed,
                                       plots.initial_policy_levels(spec))
        changes = inputs.overrides(self.base, self.values())
        shown = ", ".join(f"{k} = {v:g}" for k, v in changes.items()) or "none"
        # one held patch: the browser never shows a status that names this run beside
        # charts still drawn from the run before (Bokeh sends direct model changes on a later
        # tick than Panel's own, so without the hold they can arrive in either order)
        with pn.io.hold():
            self.error.visible = False
            for key, chart in self.charts.items():
                if key in self.views:
                    self.views[key].update(chart)
            self.headline.object = headline_table(result.summary())
            self.status.object = (f"**{self.picker.select.value}**, seed {self.seed.value}; "
                                  f"changed: {shown}. Ran and drawn in "
                                  f"{1000 * (time.perf_counter() - started):.0f} ms.")

    def _on_scenario(self, event: Any) -> None:
        try:
            self.base = self.picker.scenario(event.new)
        except Exception as exc:
            lines = exc.lines() if hasattr(exc, "lines") else [str(exc)]
            self.error.object = error_lines(lines)
            self.error.visible = True
            return
        self._reset_sliders()

    def _reset_sliders(self) -> None:
        for key, slider in self.sliders.items():
            knob = inputs.KNOBS[key]
            lo, hi = inputs.knob_range(knob, self.base)
            slider.param.update(start=lo, end=hi, value=knob.value(self.base))
        self.run()

    def summary_frame(self) -> pd.DataFrame:
        summary = dict(self.result.summary()) if self.result is not None else {}
        summary.pop("calibration_source", None)
        summary["overrides"] = "; ".join(
            f"{k}={v}" for k, v in inputs.overrides(self.base, self.values()).items())
        return pd.DataFrame({"metric": list(summary), "value": [str(v) for v in
                                                                summary.values()]})

    def world_frame(self) -> pd.DataFrame:
        return self.result.frames()["world"] if self.result is not None else pd.DataFrame()

    def _chart_grid(self) -> pn.GridBox:
        cells = []
        for key, chart in self.charts.items():
            view = plots.BokehChart(chart, height=330 if key != "network" else 380)
            self.views[key] = view
            cells.append(pn.Column(
                pn.pane.Bokeh(view.figure, sizing_mode="stretch_width"),
                caption(CAPTIONS.get(key, "")),
                downloads(lambda k=key: plots.matplotlib_figure(self.charts[k]),
                          lambda k=key: self.charts[k].frame(), f"explorer-{key}"),
                sizing_mode="stretch_width"))
        return pn.GridBox(*cells, ncols=2, sizing_mode="stretch_width")

    # ------------------------------------------------------------ ensemble

    def _start_ensemble(self) -> None:
        from ixsim.analysis.ensemble import run_ensemble

        try:
            spec = self.spec()
        except Exception as exc:
            self.ens_status.object = f"Cannot start: {exc}"
            return
        draws, seed = int(self.draws.value), int(self.seed.value or 0)

        def work(progress, should_stop):
            return run_ensemble(spec, draws, seed, progress=progress, should_stop=should_stop)

        self.job.start(work, self._show_ensemble, f"Ensemble of {draws} draws")

    def _show_ensemble(self, ens: Any) -> None:
        self.ensemble = ens
        ok = int(ens.ok.sum())
        effective = effective_sample_size(ens.weights())
        self.ens_status.object += (f" -- {ok} of {ens.size} draws ran; effective sample "
                                   f"size after weighting by the 2023-25 data: "
                                   f"{effective:.0f}.")
        charts = plots.fan_charts([(self.picker.select.value, ens)])
        self.fan_charts = charts
        cells = fan_cells(charts, self.fan_views, lambda: self.fan_charts, FAN_CAPTIONS, "explorer")
        if cells is not None:
            self.fans.objects = [pn.GridBox(*cells, ncols=2, sizing_mode="stretch_width")]


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return Explorer(ctx).view
