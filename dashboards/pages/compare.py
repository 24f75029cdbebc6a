"""Compare: two to four scenarios, or one scenario under different lever sets, side by side --
their key numbers from one run each at once, and on request an ensemble of each over the priors
with the bands overlaid.

Lever sets are written as on the command line (``software.returns_r=1.5; labs...``: the
``--set`` syntax) and checked by the same loader, so a typo gets the same one-line error as
``ixsim run --set``. Every column's scenario and levers are in the URL.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ixsim.dashboards import plots
from ixsim.dashboards.common import (BackgroundJob, caption, csv_download, downloads,
                                     error_lines, fan_cells, url_sync)
from ixsim.dashboards.context import AppContext
from ixsim.dashboards.pages.explorer import FAN_CAPTIONS, HEADLINE, fmt

SLUG = "compare"
TITLE = "Compare"

INTRO = ("Put two to four scenarios side by side, or the same scenario with different "
         "choices (*levers*, written like `software.returns_r=1.5; "
         "strategies.frontier.safety_share=0.2`, the names `ixsim params` lists). The table "
         "shows one run of each at once; *Run the ensembles* runs each many times over the "
         "uncertain parameters and overlays their ranges.")
LETTERS = "ABCD"
DEFAULTS = ("baseline", "us-china-race", "coordinated-pause", "slow-takeoff")
MAX_LEVER_TEXT = 2000  # characters of one lever set
BY_YEAR = 2030.0  # the ensemble table's "by year"


def parse_levers(text: str, label: str) -> dict[str, Any]:
    """``a.b=1; c.d=2`` (or one per line) as overrides; ScenarioError (source ``label``) for a
    malformed item."""
    from ixsim.sim.scenario import ScenarioError, parse_set_options

    text = (text or "").strip()
    if len(text) > MAX_LEVER_TEXT:
        raise ScenarioError(label, [("", f"at most {MAX_LEVER_TEXT} characters",
                                     f"{len(text)} characters")])
    items = [part.strip() for part in re.split(r"[;\n]", text) if part.strip()]
    try:
        return parse_set_options(items)
    except ScenarioError as exc:
        raise ScenarioError(label, exc.problems) from None


class Column:
    """One compared scenario: its menu, its lever text and its error line."""

    def __init__(self, index: int, names: list[str]):
        letter = LETTERS[index]
        self.letter = letter
        self.select = pn.widgets.Select(label=f"{letter}: scenario", options=names,
                                        value=DEFAULTS[index] if DEFAULTS[index] in names
                                        else names[0], width=260)
        self.levers = pn.widgets.TextAreaInput(label=f"{letter}: levers (optional)", value="",
                                               placeholder="software.returns_r=1.5",
                                               height=70, width=260,
                                               css_classes=[f"ixsim-levers-{letter}"])
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, width=260,
                                   css_classes=[f"ixsim-compare-error-{letter}"])
        url_sync(self.select, f"s{letter}")
        url_sync(self.levers, f"levers{letter}")
        self.view = pn.Column(self.select, self.levers, self.error, width=280)

    @property
    def label(self) -> str:
        levers = " ".join(self.levers.value.split())
        return f"{self.letter}: {self.select.value}" + (f" [{levers}]" if levers else "")

    def spec(self) -> Any:
        from ixsim.sim.scenario import load_scenario

        overrides = parse_levers(self.levers.value, f"levers {self.letter}")
        return load_scenario(self.select.value, overrides, overrides_label=f"levers {self.letter}")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """``analysis.forecast.weighted_quantiles`` at ``q``, a date never reached counted as later
    than every year; NaN for the table when the quantile is itself such a date."""
    from ixsim.analysis.forecast import weighted_quantiles

    out = weighted_quantiles(values, weights, (q,))[q]
    return math.nan if math.isinf(out) else out


class Compare:
    def __init__(self, ctx: AppContext):
        from ixsim.sim.scenario import scenario_names

        names = scenario_names()
        self.count = pn.widgets.RadioButtonGroup(label="How many", options=[2, 3, 4], value=2)
        url_sync(self.count, "n")
        self.columns = [Column(i, names) for i in range(4)]
        self.draws = pn.widgets.IntSlider(label="Draws per scenario", start=20, end=200,
                                          step=10, value=60)
        url_sync(self.draws, "draws")
        self.table = pn.pane.Markdown("", css_classes=["ixsim-compare-table"])
        self.frame = pd.DataFrame()
        self.ens_table = pn.pane.Markdown("")
        self.ens_frame = pd.DataFrame()
        self.button = pn.widgets.Button(label="Run the ensembles", color="primary",
                                        css_classes=["ixsim-run-ensembles"])
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False,
                                               sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("Ensembles not run yet.")
        self.job = BackgroundJob(self.progress, self.status)
        self.fan_views: dict[str, plots.BokehChart] = {}
        self.fan_charts: dict[str, plots.Chart] = {}
        self.fans = pn.Column(sizing_mode="stretch_width")
        self.picker_row = pn.Row(*[c.view for c in self.columns[:self.count.value]])

        self.count.param.watch(lambda e: self._layout(), "value")
        for col in self.columns:
            col.select.param.watch(lambda e: self.refresh(), "value")
            col.levers.param.watch(lambda e: self.refresh(), "value")
        self.button.on_click(lambda e: self.start())
        self.refresh()
        self.view = pn.Column(
            pn.pane.Markdown(INTRO), pn.Row(pn.pane.Markdown("**How many to compare:**"),
                                            self.count),
            self.picker_row,
            pn.pane.Markdown("## Key numbers (one run each, seed 0)"), self.table,
            caption("The headline outcomes of one run of each column: when AI first trains "
                    "its successor, how fast the takeoff is, incidents and the first pause."),
            csv_download(lambda: self.frame, "compare-key-numbers.csv"),
            pn.pane.Markdown("## Ranges over the uncertain parameters"),
            pn.Row(self.draws, self.button), self.progress, self.status, self.ens_table,
            self.fans, sizing_mode="stretch_width")

    def active(self) -> list[Column]:
        return self.columns[:int(self.count.value)]

    def _layout(self) -> None:
        self.picker_row.objects = [c.view for c in self.active()]
        self.refresh()

    def specs(self) -> list[tuple[str, Any]]:
        """(label, scenario) of each active column that loads; errors shown in the column."""
        from ixsim.sim.scenario import ScenarioError

        out = []
        for col in self.active():
            try:
                spec = col.spec()
            except ScenarioError as exc:
                col.error.object = error_lines(exc.lines())
                col.error.visible = True
                continue
            col.error.visible = False
            out.append((col.label, spec))
        return out

    def refresh(self) -> None:
        from ixsim.sim.model import simulate

        rows: dict[str, dict[str, str]] = {}
        raw: dict[str, dict[str, Any]] = {}
        for label, spec in self.specs():
            try:
                summary = simulate(spec, seed=0).summary()
            except Exception as exc:
                summary = {"error": f"{type(exc).__name__}: {exc}"}
            rows[label] = {name: fmt(summary.get(key)) for key, name, _ in HEADLINE}
            raw[label] = {name: summary.get(key) for key, name, _ in HEADLINE}
        if not rows:
            self.table.object = "Nothing to compare: fix the errors above."
            self.frame = pd.DataFrame()
            return
        labels = list(rows)
        head = "| outcome | " + " | ".join(labels) + " | units |"
        lines = [head, "|---|" + "---:|" * len(labels) + "---|"]
        for key, name, units in HEADLINE:
            lines.append(f"| {name} | " + " | ".join(rows[lb][name] for lb in labels)
                         + f" | {units} |")
        self.table.object = "\n".join(lines)
        self.frame = pd.DataFrame({"outcome": [n for _, n, _ in HEADLINE],
                                   "units": [u for _, _, u in HEADLINE],
                                   **{lb: [raw[lb][n] for _, n, _ in HEADLINE]
                                      for lb in labels}})

    def start(self) -> None:
        from ixsim.analysis.ensemble import run_ensemble

        specs = self.specs()
        if not specs:
            return
        draws = int(self.draws.value)
        total = draws * len(specs)

        def work(progress, should_stop):
            out = []
            for i, (label, spec) in enumerate(specs):
                def each(done: int, _total: int, i: int = i) -> None:
                    progress(i * draws + done, total)
                out.append((label, run_ensemble(spec, draws, 0, progress=each,
                                                should_stop=should_stop)))
                if should_stop():
                    break
            return out

        self.job.start(work, self.show, f"{len(specs)} ensembles of {draws} draws")

    def show(self, ensembles: list[tuple[str, Any]]) -> None:
        records = []
        for label, ens in ensembles:
            w = ens.weights()
            year = ens.headline("successor_training_year")
            by = float(np.sum(w[np.nan_to_num(year, nan=np.inf) <= BY_YEAR]))
            records.append({"column": label, "draws": ens.size,
                            "median successor-training year":
                                weighted_quantile(year, w, 0.5),
                            "10% quantile": weighted_quantile(year, w, 0.1),
                            "90% quantile": weighted_quantile(year, w, 0.9),
                            f"P(successor training by {BY_YEAR:.0f})": by})
        self.ens_frame = pd.DataFrame(records)
        lines = ["| column | median year AI trains its successor | 10-90% | "
                 f"chance by {BY_YEAR:.0f} |", "|---|---:|---:|---:|"]
        for r in records:
            lines.append(f"| {r['column']} | {fmt(r['median successor-training year'])} | "
                         f"{fmt(r['10% quantile'])} - {fmt(r['90% quantile'])} | "
                         f"{r[f'P(successor training by {BY_YEAR:.0f})']:.0%} |")
        self.ens_table.object = "\n".join(lines) + (
            "\n\nWeighted by each draw's fit to the 2023-25 observations; 'not reached' "
            "means later than the scenario's end year.")
        charts = plots.fan_charts(ensembles)
        self.fan_charts = charts
        captions = {k: v.replace("(10-90% band and median)", "(one colour per column)")
                    for k, v in FAN_CAPTIONS.items()}
        cells = fan_cells(charts, self.fan_views, lambda: self.fan_charts, captions, "compare")
        if cells is not None:
            self.fans.objects = [csv_download(lambda: self.ens_frame,
                                              "compare-ensembles.csv", "CSV of the table"),
                                 pn.GridBox(*cells, ncols=2, sizing_mode="stretch_width")]


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return Compare(ctx).view
