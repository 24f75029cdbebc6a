"""Successor-training timelines: for a sweep in the store, the distribution of the successor
training date (or another date) per lever set, as a cumulative share and a histogram with the
median and quartiles marked, P(by the end of 2027/2028/2030), and others' published estimates
marked and labelled as theirs. Refreshes by itself while a sweep is still writing chunks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ixsim.analysis import sensitivity as sa
from ixsim.dashboards import store_data as sd
from ixsim.dashboards.common import caption, downloads, notice, sync_and_poll, without_store
from ixsim.dashboards.context import AppContext
from ixsim.dashboards.store_figures import message_figure, timeline_figure

SLUG = "timelines"
TITLE = "Successor-training timelines"
REFRESH_MS = 3000
MAX_DEFAULT_SETS = 4


def _fmt_year(value: float, end: float) -> str:
    if math.isinf(value):
        return f"> {end:g}" if math.isfinite(end) else "> END"
    return "-" if math.isnan(value) else f"{value:.2f}"


class TimelinesPage:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.data: sd.StoreData | None = None
        names = ctx.sweeps()
        self.sweep = pn.widgets.Select(label="Sweep", options=names,
                                       value=names[0] if names else None, width=260)
        self.metric = pn.widgets.Select(label="Date", options=[sa.SUCCESSOR],
                                        value=sa.SUCCESSOR, width=260)
        self.levers = pn.widgets.MultiChoice(label="Lever sets", options=[], value=[],
                                             sizing_mode="stretch_width")
        self.compare = pn.widgets.MultiChoice(
            label="Compare with other sweeps (e.g. other base scenarios; their first "
                  f"{MAX_DEFAULT_SETS} lever sets)", options=names, value=[],
            sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.figure = pn.pane.Matplotlib(message_figure("choose a sweep"), dpi=96, tight=True,
                                         format="png", sizing_mode="stretch_width",
                                         max_width=1200)
        self.table = pn.pane.Markdown("", css_classes=["ixsim-p-by-year"],
                                      sizing_mode="stretch_width")
        self.quart_table = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.refs = pn.pane.Markdown(self._refs_markdown(), sizing_mode="stretch_width")
        self.sweep.param.watch(lambda e: self._load(), "value")
        self.metric.param.watch(lambda e: self._draw(), "value")
        self.levers.param.watch(lambda e: self._draw(), "value")
        self.compare.param.watch(lambda e: self._draw(), "value")
        self._load()
        sync_and_poll(((self.sweep, "sweep"), (self.metric, "date"), (self.levers, "levers"),
                       (self.compare, "compare")), self._poll, REFRESH_MS)
        self.layout = self._layout(bool(names))

    # --- data ---------------------------------------------------------------------------------

    def _load(self) -> None:
        self.data = None
        name = self.sweep.value
        if not name:
            self.status.object = ""
            self._draw()
            return
        try:
            self.data = sd.load_store(self.ctx, name)
        except (sd.StoreError, sd.StorePathError) as exc:
            self.status.object = f"**{name}**: {exc}"
            self._draw()
            return
        dates = [m for m in sa.metric_columns(self.data.runs, self.data.manifest)
                 if sa.is_date(m)]
        dates = sorted(dates, key=lambda m: (m != sa.SUCCESSOR, m))
        self.metric.options = dates or [sa.SUCCESSOR]
        if self.metric.value not in self.metric.options:
            self.metric.value = self.metric.options[0]
        options = list(sd.lever_options(self.data))
        keep = [v for v in self.levers.value if v in options]
        self.levers.options = options
        self.levers.value = keep or options[:MAX_DEFAULT_SETS]
        self._set_status()
        self._draw()

    def _set_status(self) -> None:
        d = self.data
        if d is None:
            return
        state = "complete" if d.complete else (f"still running: {d.chunks} of {d.n_chunks} "
                                               "chunks so far (this page refreshes itself)")
        self.status.object = (f"**{d.name}**: {len(d.runs):,} runs ({len(d.ok_runs):,} ok), "
                              f"sampler {d.manifest.get('sampler')}, base scenario "
                              f"{d.manifest.get('base_scenario')}; {state}")

    def _poll(self) -> None:
        name = self.sweep.value
        if not name or (self.data is not None and self.data.complete):
            return
        try:
            path = self.ctx.sweep(name)
        except sd.StorePathError:
            return
        if self.data is None or sd.chunk_count(path) != self.data.chunks:
            self._load()

    def _chosen(self) -> list[Any]:
        if self.data is None:
            return []
        options = sd.lever_options(self.data)
        return [options[label] for label in self.levers.value if label in options]

    def _others(self) -> list[sd.StoreData]:
        """The other sweeps to compare with (those that can be read and have the date)."""
        out = []
        for name in self.compare.value or []:
            if self.data is not None and name == self.data.name:
                continue
            try:
                other = sd.load_store(self.ctx, str(name))
            except (sd.StoreError, sd.StorePathError):
                continue
            if self.metric.value in other.runs.columns:
                out.append(other)
        return out

    def _groups(self) -> list[tuple[str, np.ndarray, float, dict[float, float]]]:
        if self.data is None:
            return []
        chosen = set(self._chosen())
        out = []
        others = self._others()
        sources = [(self.data, chosen, f"{self.data.name}: " if others else "")]
        for other in others:
            keys = list(sd.lever_options(other).values())[:MAX_DEFAULT_SETS]
            sources.append((other, set(keys), f"{other.name}: "))
        for data, keys, prefix in sources:
            for key, label, dates, ends in sd.dates_by_lever_set(data, self.metric.value):
                if key not in keys:
                    continue
                end = float(np.nanmin(ends)) if np.isfinite(ends).any() else math.nan
                out.append((prefix + label, dates, end, sd.quartiles(dates)))
        return out

    # --- views --------------------------------------------------------------------------------

    def _make_figure(self):
        groups = self._groups()
        if not groups:
            return message_figure("no sweep chosen, or no lever set chosen")
        return timeline_figure(groups, sd.REFERENCE_MARKS if self.metric.value == sa.SUCCESSOR
                               else (), self.metric.value.replace("_", " "))

    def _frame(self) -> pd.DataFrame:
        """The runs behind the figure: lever set, run id, the date (NaN = not reached), end."""
        if self.data is None:
            return pd.DataFrame()
        metric = self.metric.value
        ok = self.data.ok_runs
        chosen = set(self._chosen())
        rows = ok[ok["lever_set"].isin(chosen)] if "lever_set" in ok.columns else ok
        frames = [pd.DataFrame({"sweep": self.data.name, "lever_set": rows.get("lever_set", 0),
                                "run_id": rows["run_id"], metric: rows[metric],
                                "end_year": sa.end_years(rows, self.data.manifest)})]
        for other in self._others():
            keys = list(sd.lever_options(other).values())[:MAX_DEFAULT_SETS]
            ok = other.ok_runs
            rows = ok[ok["lever_set"].isin(keys)] if "lever_set" in ok.columns else ok
            frames.append(pd.DataFrame({"sweep": other.name,
                                        "lever_set": rows.get("lever_set", 0),
                                        "run_id": rows["run_id"], metric: rows[metric],
                                        "end_year": sa.end_years(rows, other.manifest)}))
        return pd.concat(frames, ignore_index=True)

    def _draw(self) -> None:
        self.figure.object = self._make_figure()
        groups = self._groups()
        lines = ["| lever set | runs | not reached | 25% | median | 75% |",
                 "|---|---|---|---|---|---|"]
        for label, dates, end, quarts in groups:
            missing = int((~np.isfinite(dates)).sum())
            lines.append(f"| {label} | {dates.size} | {missing} | "
                         + " | ".join(_fmt_year(quarts[q], end) for q in (0.25, 0.5, 0.75))
                         + " |")
        self.quart_table.object = "\n".join(lines) if groups else ""
        self.table.object = self._p_markdown()

    def _p_frame(self) -> pd.DataFrame:
        if self.data is None or self.metric.value != sa.SUCCESSOR:
            return pd.DataFrame()
        others = self._others()
        frames = [sd.successor_table(self.data, self._chosen()).assign(sweep=self.data.name)]
        if others:
            frames[0]["levers"] = self.data.name + ": " + frames[0]["levers"]
        for other in others:
            keys = list(sd.lever_options(other).values())[:MAX_DEFAULT_SETS]
            table = sd.successor_table(other, keys).assign(sweep=other.name)
            table["levers"] = other.name + ": " + table["levers"]
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def _p_markdown(self) -> str:
        if self.data is None:
            return ""
        if self.metric.value != sa.SUCCESSOR:
            return "*P(by year) is shown for successor training.*"
        frame = self._p_frame()
        if frame.empty:
            return ""
        lines = ["| lever set | " + " | ".join(f"P(by end of {y})" for y in sd.BY_YEARS) + " |",
                 "|---|" + "---|" * len(sd.BY_YEARS)]
        for _, rows in frame.groupby(["sweep", "lever_set"], sort=False):
            cells = []
            for y in sd.BY_YEARS:
                row = rows[rows["year"] == y].iloc[0]
                at_least = "" if row["observed"] else "≥ "
                cells.append(f"{at_least}{row['p']:.3f} ({row['low']:.2f}-{row['high']:.2f})")
            lines.append(f"| {rows['levers'].iloc[0]} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    @staticmethod
    def _refs_markdown() -> str:
        lines = ["**Others' published estimates** (theirs, not this model's; several are about "
                 "a different milestone):", ""]
        for _, row in sd.reference_frame().iterrows():
            lines.append(f"- **{row['row']}**, {row['source']}: {row['estimate (theirs)']} "
                         f"(marked: {row['marked at']})")
        return "\n".join(lines)

    def _layout(self, has_sweeps: bool) -> pn.viewable.Viewable:
        intro = pn.pane.Markdown(
            "When could an AI first train its successor on its own? Each run of a sweep draws "
            "the uncertain parameters; this page shows how the date spreads over the runs, for "
            "each set of policy levers.", sizing_mode="stretch_width")
        if self.ctx.store is None:
            return without_store(intro, "to see sweeps")
        if not has_sweeps:
            return pn.Column(intro, notice("No finished or running sweep in the store yet: start "
                                           "one on the Sweeps page.", "info"),
                             sizing_mode="stretch_width")
        return pn.Column(
            intro,
            pn.Row(self.sweep, self.metric),
            self.levers,
            self.compare,
            self.status,
            self.figure,
            caption("Left: the share of runs in which the date has come by each year (a line "
                    "that stays below 1 means some runs never got there before the run ended); "
                    "dashed lines mark the median and dotted lines the quartiles; black diamonds "
                    "are other people's published estimates. Right: what share of the runs "
                    "reaches the date in each quarter-year."),
            downloads(self._make_figure, self._frame, "timelines"),
            pn.pane.Markdown("### Chance of successor training by the end of each year",
                             margin=(10, 5, 0, 5)),
            self.table,
            caption("Share of runs with successor training before the end of each year, with a "
                    "95% Wilson interval; runs that never get there count as 'not by then'. "
                    "'≥' marks a year that ends after some runs stopped (a lower bound)."),
            downloads(None, self._p_frame, "p-by-year"),
            pn.pane.Markdown("### Median and quartiles", margin=(10, 5, 0, 5)),
            self.quart_table,
            caption("The date by which a quarter, half and three quarters of the runs have it; "
                    "'> year' means that share of runs had not got there when the runs ended."),
            self.refs,
            sizing_mode="stretch_width")


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return TimelinesPage(ctx).layout
