"""Sweeps: pick a shipped spec or build one in the page, launch it on the same Dask engine as
``ixsim sweep`` (``ixsim.analysis.sweep.run_sweep``, in a background thread: see
``ixsim.dashboards.store_jobs``) with a live progress bar, cancel, resume later; the sweeps in
the store are listed with their manifests. The timelines and sensitivity pages read a sweep's
chunks as they land.

Nothing typed here becomes a path or code: the sweep's folder is a plain name resolved by
``AppContext.sweep`` (inside the store), the base scenario and the shipped specs are chosen
from lists, and the uncertainties and levers typed as TOML are parsed as data (``tomllib``)
and checked by the spec's own validator (``parse_sweep``), whose first error line is shown.
"""

from __future__ import annotations

import json
import os
import tomllib
from typing import Any

import pandas as pd
import panel as pn

from ixsim.dashboards import store_data as sd
from ixsim.dashboards import store_jobs
from ixsim.dashboards.common import caption, csv_download, notice, url_sync, without_store
from ixsim.dashboards.context import AppContext, StorePathError

SLUG = "sweeps"
TITLE = "Sweeps"
POLL_MS = 500
LIST_EVERY_POLLS = 10
MAX_PAGE_RUNS = 200_000  # a sweep launched from a page; larger ones belong on the command line
MAX_TOML_CHARS = 20_000
SHIPPED, BUILD = "a shipped spec", "build a spec here"
EXAMPLE_UNCERTAINTIES = (
    '"software.returns_r" = { dist = "lognorm", s = 0.668, scale = 1.2, truncate_low = 0.05, '
    'truncate_high = 10.0 }\n'
    '"capability.oom_per_horizon_doubling" = { dist = "lognorm", s = 0.25, scale = 0.656 }\n'
    '"investment.spend_growth_per_year" = { dist = "lognorm", s = 0.112, scale = 2.4 }\n')
EXAMPLE_LEVERS = '"strategies.frontier.race_response" = [0.2, 0.8]\n'


class SpecProblem(ValueError):
    """A spec from the page that cannot run; ``str()`` is one line."""


def _first_line(exc: Exception) -> str:
    lines = getattr(exc, "lines", None)
    if callable(lines):
        found = lines()
        if found:
            return found[0].removeprefix("error: ")
    return " ".join(str(exc).split())[:300]


def _toml_table(text: str, what: str) -> dict[str, Any] | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_TOML_CHARS:
        raise SpecProblem(f"{what}: at most {MAX_TOML_CHARS:,} characters")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecProblem(f"{what}: not TOML ({exc})") from None


class SweepsPage:
    def __init__(self, ctx: AppContext):
        from ixsim.analysis.sweep.spec import DEFAULT_SERIES, SAMPLERS, SERIES_NAMES, sweep_names
        from ixsim.sim.scenario import scenario_names

        self.ctx = ctx
        specs = sweep_names()
        self.mode = pn.widgets.RadioButtonGroup(options=[SHIPPED, BUILD], value=SHIPPED,
                                                color="light")
        self.shipped = pn.widgets.Select(label="Shipped spec", options=specs,
                                         value=specs[0] if specs else None, width=220)
        self.samples = pn.widgets.IntInput(label="Samples (Sobol: N; Morris: trajectories)",
                                           value=16, start=1, width=300)
        bases = scenario_names()
        self.base = pn.widgets.Select(label="Base scenario", options=bases,
                                      value="baseline" if "baseline" in bases else bases[0],
                                      width=220)
        self.sampler = pn.widgets.Select(label="Sampler", options=list(SAMPLERS),
                                         value="latin-hypercube", width=180)
        self.seeds = pn.widgets.IntInput(label="Seeds per sample", value=1, start=1, width=140)
        self.chunk = pn.widgets.IntInput(label="Runs per chunk", value=25, start=1, width=140)
        self.uncertainties = pn.widgets.TextAreaInput(
            label="Uncertainties (TOML: one line per parameter; or from_catalogue = true)",
            value=EXAMPLE_UNCERTAINTIES, height=110, sizing_mode="stretch_width")
        self.levers = pn.widgets.TextAreaInput(
            label="Levers (TOML: a list of values per parameter; may be empty)",
            value=EXAMPLE_LEVERS, height=60, sizing_mode="stretch_width")
        self.series = pn.widgets.MultiChoice(label="World series to keep (quantiles)",
                                             options=list(SERIES_NAMES),
                                             value=list(DEFAULT_SERIES), width=600)
        self.per_run = pn.widgets.Checkbox(
            label="keep each run's yearly series (the Early warning page can then use the "
                  "sweep)", value=False)
        self.name = pn.widgets.TextInput(label="Sweep name (its folder in the store)",
                                         placeholder="e.g. policy-small", width=300)
        cpus = max(1, os.cpu_count() or 1)
        self.workers = pn.widgets.IntSlider(label="Workers", start=1, end=cpus,
                                            value=min(2, cpus), width=200)
        self.check = pn.widgets.Button(label="Check", color="default", width=90)
        self.launch = pn.widgets.Button(label="Launch", color="primary", width=90)
        self.cancel = pn.widgets.Button(label="Cancel", color="warning", width=90,
                                        disabled=True)
        self.resume = pn.widgets.Button(label="Resume", color="default", width=90)
        self.message = pn.pane.Markdown("", css_classes=["ixsim-sweep-message"],
                                        sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(label="sweep", value=0, max=100, width=500,
                                               bar_color="success",
                                               css_classes=["ixsim-sweep-progress"])
        self.progress_text = pn.pane.Markdown("", css_classes=["ixsim-sweep-progress-text"],
                                              sizing_mode="stretch_width")
        self.listing = pn.pane.Markdown("", css_classes=["ixsim-sweep-list"],
                                        sizing_mode="stretch_width")
        self.view = pn.widgets.Select(label="Manifest of", options=[], width=260)
        self.manifest = pn.pane.JSON({}, depth=1, theme="light", sizing_mode="stretch_width",
                                     max_height=500)
        self.job: store_jobs.Job | None = None
        self._polls = 0
        self._job_was_active = False
        self.build_box = pn.Column(pn.Row(self.base, self.sampler, self.seeds, self.chunk),
                                   self.uncertainties, self.levers, self.series,
                                   self.per_run,
                                   visible=False, sizing_mode="stretch_width")
        self.shipped_box = pn.Row(self.shipped)
        self.mode.param.watch(self._on_mode, "value")
        self.shipped.param.watch(self._on_shipped, "value")
        self.view.param.watch(lambda e: self._show_manifest(), "value")
        self.check.on_click(lambda e: self._check())
        self.launch.on_click(lambda e: self._launch(resume=False))
        self.resume.on_click(lambda e: self._launch(resume=True))
        self.cancel.on_click(lambda e: self._cancel())
        for widget, key in ((self.mode, "mode"), (self.shipped, "spec"),
                            (self.samples, "samples"), (self.base, "base"),
                            (self.sampler, "sampler"), (self.seeds, "seeds"),
                            (self.chunk, "chunk"), (self.uncertainties, "uncertainties"),
                            (self.levers, "levers"), (self.series, "series"), (self.per_run, "per_run"),
                            (self.name, "name"), (self.workers, "workers"),
                            (self.view, "view")):
            url_sync(widget, key)
        self._on_mode(None)
        self._refresh_list()
        self._attach_existing()
        if pn.state.curdoc is not None:
            pn.state.add_periodic_callback(self._poll, period=POLL_MS)
        self.layout = self._layout()

    # --- the spec -------------------------------------------------------------------------------

    def _on_mode(self, event) -> None:
        self.build_box.visible = self.mode.value == BUILD
        self.shipped_box.visible = self.mode.value == SHIPPED

    def _on_shipped(self, event) -> None:
        if not self.name.value and self.shipped.value:
            self.name.placeholder = f"e.g. {self.shipped.value}-{self.samples.value}"

    def _folder(self) -> tuple[str, Any]:
        name = (self.name.value or "").strip()
        if not name:
            raise SpecProblem("name the sweep (its folder in the store)")
        try:
            return name, self.ctx.sweep(name)
        except StorePathError as exc:
            raise SpecProblem(f"refused: {exc}") from None

    def _sweep(self, name: str):
        """The validated sweep the widgets describe (SpecProblem with one line otherwise)."""
        from ixsim.analysis.sweep import SweepError, load_sweep, plan_for
        from ixsim.analysis.sweep.spec import parse_sweep

        from ixsim.analysis.sweep.spec import sweep_names
        from ixsim.sim.scenario import scenario_names

        samples = int(self.samples.value or 0)
        if samples < 1:
            raise SpecProblem("samples: at least 1")
        # a Select takes any value (a link can set one): only listed names are ever read
        if self.mode.value == SHIPPED and self.shipped.value not in sweep_names():
            raise SpecProblem(f"{self.shipped.value!r}: not a shipped spec "
                              f"({', '.join(sweep_names())})")
        if self.mode.value != SHIPPED and self.base.value not in scenario_names():
            raise SpecProblem(f"{self.base.value!r}: not a scenario name "
                              f"({', '.join(scenario_names())})")
        try:
            if self.mode.value == SHIPPED:
                if not self.shipped.value:
                    raise SpecProblem("choose a shipped spec")
                sweep = load_sweep(self.shipped.value, samples=samples)
            else:
                data: dict[str, Any] = {
                    "sweep": {"name": name, "base": self.base.value,
                              "sampler": self.sampler.value, "samples": samples,
                              "seeds_per_sample": int(self.seeds.value or 1),
                              "chunk_size": int(self.chunk.value or 1)},
                    "outputs": {"series": list(self.series.value),
                                "per_run_series": bool(self.per_run.value)}}
                uncertainties = _toml_table(self.uncertainties.value, "uncertainties")
                if uncertainties is not None:
                    data["uncertainties"] = uncertainties
                levers = _toml_table(self.levers.value, "levers")
                if levers is not None:
                    data["levers"] = levers
                sweep = parse_sweep(data, "the page's spec")
        except SweepError as exc:
            raise SpecProblem(_first_line(exc)) from None
        runs = plan_for(sweep).n_runs
        if runs > MAX_PAGE_RUNS:
            raise SpecProblem(f"{runs:,} runs: at most {MAX_PAGE_RUNS:,} from the page (use "
                              "`ixsim sweep` for larger ones)")
        return sweep

    def _check(self) -> None:
        from ixsim.analysis.sweep import plan_for

        try:
            name, _ = self._folder()
            sweep = self._sweep(name)
        except SpecProblem as exc:
            self._say(f"⚠ {exc}")
            return
        plan = plan_for(sweep)
        self._say(f"✓ {sweep.name}: {plan.n_runs:,} runs ({sweep.sampler}, "
                  f"{len(sweep.parameters)} uncertain parameters, {len(sweep.lever_sets)} lever "
                  f"set(s)) in {plan.n_chunks} chunks, into `{name}`")

    # --- running --------------------------------------------------------------------------------

    def _launch(self, resume: bool) -> None:
        try:
            name, path = self._folder()
            if resume:
                sweep = self._resumable(name, path)
            else:
                if path.exists() and any(path.iterdir()):
                    raise SpecProblem(f"{name}: already in the store: choose another name, or "
                                      "Resume it")
                sweep = self._sweep(name)
            cpus = max(1, os.cpu_count() or 1)  # a slider takes any value from a link: clip
            workers = min(max(int(self.workers.value or 1), 1), cpus)
            self.job = store_jobs.start(sweep, name, path, resume=resume, workers=workers)
        except (SpecProblem, ValueError) as exc:
            self._say(f"⚠ {exc}")
            return
        self._say(f"{'resuming' if resume else 'launched'} `{name}`: watch it fill in on "
                  f"[Timelines](?page=timelines&sweep={name}) and "
                  f"[Sensitivity](?page=sensitivity&sweep={name})")
        self._show_job()

    def _resumable(self, name: str, path):
        """The sweep recorded in an unfinished folder's manifest (its spec, checked again)."""
        from ixsim.analysis.sweep import SweepError
        from ixsim.analysis.sweep.spec import parse_sweep

        state = sd.store_state(self.ctx, name)
        if state is None:
            raise SpecProblem(f"{name}: no sweep of that name in the store")
        if state.complete:
            raise SpecProblem(f"{name}: already complete, nothing to resume")
        spec = state.manifest.get("spec")
        base = str(((spec or {}).get("sweep") or {}).get("base", ""))
        if not isinstance(spec, dict) or "/" in base or os.sep in base or base.endswith(".toml"):
            raise SpecProblem(f"{name}: its base scenario is a file, not a name: resume it with "
                              "`ixsim sweep SPEC --out DIR --resume`")
        try:
            return parse_sweep(spec, f"{name}/manifest.json")
        except SweepError as exc:
            raise SpecProblem(_first_line(exc)) from None

    def _cancel(self) -> None:
        if self.job is not None and self.job.active:
            self.job.cancel()
            self._show_job()

    def _attach_existing(self) -> None:
        """A reloaded page shows the sweep it names if one is running."""
        name = (self.name.value or "").strip()
        try:
            path = self.ctx.sweep(name) if name else None
        except StorePathError:
            path = None
        job = store_jobs.job_for(path) if path is not None else None
        if job is None:
            running = store_jobs.running_jobs()
            job = running[0] if running and not name else None
        if job is not None:
            self.job = job
            self._show_job()

    def _show_job(self) -> None:
        job = self.job
        if job is None:
            return
        self.progress.value = int(round(100 * job.fraction))
        self.progress_text.object = job.describe()
        self.cancel.disabled = not job.active
        self.launch.disabled = job.active
        self.resume.disabled = job.active

    def _poll(self) -> None:
        self._polls += 1
        job = self.job
        was_active = self._job_was_active
        self._job_was_active = job is not None and job.active
        if job is not None:
            self._show_job()
        if (job is not None and was_active) or self._polls % LIST_EVERY_POLLS == 0:
            self._refresh_list()
            if was_active and not job.active and job.name in self.view.options:
                self.view.value = job.name  # the sweep just finished: show its manifest

    def _say(self, text: str) -> None:
        self.message.object = text

    # --- the store's sweeps ---------------------------------------------------------------------

    def _states(self) -> list[sd.StoreState]:
        if self.ctx.store is None or not self.ctx.store.is_dir():
            return []
        out = []
        for path in sorted(self.ctx.store.iterdir()):
            state = sd.store_state(self.ctx, path.name) if path.is_dir() else None
            if state is not None:
                out.append(state)
        return out

    def _list_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"name": s.name, "sampler": s.sampler, "base": s.base,
                              "runs": s.runs_planned, "chunks_written": s.chunks_done,
                              "chunks": s.chunks_planned, "complete": s.complete,
                              "spec_hash": s.spec_hash} for s in self._states()])

    def _refresh_list(self) -> None:
        states = self._states()
        if not states:
            self.listing.object = "*No sweep in the store yet.*"
        else:
            lines = ["| sweep | sampler | base | runs | chunks written | state |",
                     "|---|---|---|---|---|---|"]
            for s in states:
                job = store_jobs.job_for(self.ctx.sweep(s.name))
                state = ("complete" if s.complete else
                         f"running ({job.state})" if job is not None and job.active else
                         "unfinished: Resume continues it")
                lines.append(f"| {s.name} | {s.sampler} | {s.base} | {s.runs_planned:,} | "
                             f"{s.chunks_done} of {s.chunks_planned} | {state} |")
            self.listing.object = "\n".join(lines)
        names = [s.name for s in states]
        if list(self.view.options) != names:
            current = self.view.value
            self.view.options = names
            self.view.value = current if current in names else (names[0] if names else None)
        self._show_manifest()

    def _show_manifest(self) -> None:
        name = self.view.value
        state = sd.store_state(self.ctx, name) if name else None
        if state is None:
            self.manifest.object = {}
            return
        shown = {k: v for k, v in state.manifest.items() if k not in ("columns",)}
        if json.dumps(shown, sort_keys=True, default=str) != json.dumps(
                self.manifest.object, sort_keys=True, default=str):
            self.manifest.object = shown

    # --- layout ---------------------------------------------------------------------------------

    def _layout(self) -> pn.viewable.Viewable:
        intro = pn.pane.Markdown(
            "A sweep runs the model many times, drawing the uncertain numbers each time and "
            "trying each combination of policy levers, so the other pages can show how the "
            "outcomes spread. Start one here, watch it run, stop it and continue later.",
            sizing_mode="stretch_width")
        if self.ctx.store is None:
            return without_store(intro, "to run sweeps")
        return pn.Column(
            intro,
            self.mode,
            self.shipped_box,
            self.build_box,
            pn.Row(self.samples, self.name, self.workers),
            pn.Row(self.check, self.launch, self.cancel, self.resume),
            self.message,
            self.progress,
            self.progress_text,
            caption("The bar fills as chunks of runs are written to the store; the Timelines "
                    "and Sensitivity pages read them as they land. Cancel stops after the chunk "
                    "in progress and keeps what was written; Resume runs only what is missing."),
            pn.pane.Markdown("### Sweeps in the store", margin=(10, 5, 0, 5)),
            self.listing,
            caption("Every sweep folder in the store with a manifest: its sampler, base "
                    "scenario, planned runs and how many of its chunks are written."),
            pn.Row(csv_download(self._list_frame, "sweeps.csv")),
            self.view,
            self.manifest,
            caption("The manifest records the spec, its hash, the versions and seeds: what is "
                    "needed to rerun the sweep exactly."),
            sizing_mode="stretch_width")


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return SweepsPage(ctx).layout
