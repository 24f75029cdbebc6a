"""Sensitivity: which uncertain parameters move an output. For a sweep in the store: a tornado
of Sobol total indices (a Sobol sweep) or Morris mu* (a Morris sweep) per output and lever set,
a scatter of any parameter against any output, and PRIM boxes (scenario discovery) for a
condition the user types (checked by ``store_data.check_condition``, then run by DuckDB locked
down in ``ixsim.analysis.query.condition_mask``).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ixsim.analysis import sensitivity as sa
from ixsim.dashboards import store_data as sd
from ixsim.dashboards.common import caption, downloads, notice, sync_and_poll, without_store
from ixsim.dashboards.context import AppContext
from ixsim.dashboards.store_figures import (message_figure, scatter_figure, tornado_figure)

SLUG = "sensitivity"
TITLE = "Sensitivity"
REFRESH_MS = 4000
EXAMPLE_CONDITION = "successor_training_year < 2028"

_INDEX_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
_INDEX_LOCK = threading.Lock()


def indices(data: sd.StoreData, metric: str, lever_set: Any) -> dict[str, Any]:
    """Sobol or Morris indices of ``metric`` over one lever set's runs ({"error": why} when
    they cannot be computed), cached per (sweep, chunks, metric, lever set)."""
    key = (data.name, data.chunks, id(data.runs), metric, lever_set)
    with _INDEX_LOCK:
        if key in _INDEX_CACHE:
            return _INDEX_CACHE[key]
    method = data.manifest.get("sampler")
    if method not in sa.SENSITIVITY:
        result = {"error": f"a {method} sweep has no sensitivity indices: run a sobol or morris "
                           "sweep (the scatter and PRIM below work on any sweep)"}
    elif not data.complete:
        result = {"error": "the indices need the whole design: they appear when the sweep has "
                           "finished"}
    else:
        runs = data.runs
        if "lever_set" in runs.columns:
            runs = runs[runs["lever_set"] == lever_set]
        try:
            result = {"method": method, **sa.SENSITIVITY[method](runs, data.manifest, metric)}
        except (sa.AnalysisError, ValueError, RuntimeError, ZeroDivisionError, KeyError) as exc:
            result = {"error": " ".join(str(exc).split())[:300]}
    with _INDEX_LOCK:
        if len(_INDEX_CACHE) > 64:
            _INDEX_CACHE.clear()
        _INDEX_CACHE[key] = result
    return result


class SensitivityPage:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.data: sd.StoreData | None = None
        self.hit: np.ndarray | None = None
        self.prim: dict[str, Any] | None = None
        names = ctx.sweeps()
        self.sweep = pn.widgets.Select(label="Sweep", options=names,
                                       value=names[0] if names else None, width=240)
        self.output = pn.widgets.Select(label="Output", options=[], width=300)
        self.lever_set = pn.widgets.Select(label="Lever set", options=[], width=360)
        self._sets: dict[str, Any] = {}
        self.x = pn.widgets.Select(label="Parameter (x)", options=[], width=300)
        self.y = pn.widgets.Select(label="Output (y)", options=[], width=300)
        self.condition = pn.widgets.TextInput(label="Condition (SQL over the runs' columns)",
                                              placeholder=EXAMPLE_CONDITION, width=520)
        self.find = pn.widgets.Button(label="Find boxes", color="primary", width=120,
                                      align="end")
        self.condition_msg = pn.pane.Markdown("", css_classes=["ixsim-condition-message"],
                                              sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.tornado = pn.pane.Matplotlib(message_figure("choose a sweep"), dpi=96, tight=True,
                                          format="png", width=760)
        self.tornado_msg = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.scatter = pn.pane.Matplotlib(message_figure("choose a sweep"), dpi=96, tight=True,
                                          format="png", width=700)
        self.boxes = pn.pane.Markdown("", css_classes=["ixsim-prim-boxes"],
                                      sizing_mode="stretch_width")
        self.sweep.param.watch(lambda e: self._load(), "value")
        for w in (self.output, self.lever_set):
            w.param.watch(lambda e: self._draw_tornado(), "value")
        for w in (self.x, self.y):
            w.param.watch(lambda e: self._draw_scatter(), "value")
        self.find.on_click(lambda e: self._apply_condition())
        self.condition.param.watch(lambda e: self._apply_condition(), "value")
        self._load()
        sync_and_poll(((self.sweep, "sweep"), (self.output, "output"),
                       (self.lever_set, "lever_set"), (self.x, "x"), (self.y, "y"),
                       (self.condition, "condition")), self._poll, REFRESH_MS)
        self.layout = self._layout(bool(names))

    # --- data ---------------------------------------------------------------------------------

    def _load(self) -> None:
        self.data, self.hit, self.prim = None, None, None
        name = self.sweep.value
        if name:
            try:
                self.data = sd.load_store(self.ctx, name)
            except (sd.StoreError, sd.StorePathError) as exc:
                self.status.object = f"**{name}**: {exc}"
        if self.data is not None:
            d = self.data
            metrics = sa.metric_columns(d.runs, d.manifest)
            headline = [m for m in sa.HEADLINE_METRICS if m in metrics]
            ordered = headline + [m for m in metrics if m not in headline]
            self.output.options = ordered
            if self.output.value not in ordered:
                self.output.value = ordered[0] if ordered else None
            self.y.options = ordered
            if self.y.value not in ordered:
                self.y.value = ordered[0] if ordered else None
            inputs = sa.prim_inputs(d.runs, d.manifest) or sa.inputs(d.manifest)
            self.x.options = inputs
            if self.x.value not in inputs:
                self.x.value = inputs[0] if inputs else None
            self._sets = sd.lever_options(d)
            self.lever_set.options = list(self._sets)
            if self.lever_set.value not in self._sets:
                self.lever_set.value = next(iter(self._sets), None)
            state = "complete" if d.complete else (f"still running ({d.chunks} of "
                                                   f"{d.n_chunks} chunks)")
            self.status.object = (f"**{d.name}**: {len(d.runs):,} runs, sampler "
                                  f"{d.manifest.get('sampler')}, {len(sa.inputs(d.manifest))} "
                                  f"uncertain parameters; {state}")
        self._draw_tornado()
        if self.condition.value:
            self._apply_condition()
        else:
            self._draw_scatter()

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

    def _lever_key(self) -> Any:
        """The lever_set id of the chosen label (the first set when none is chosen)."""
        sets = getattr(self, "_sets", {})
        if self.lever_set.value in sets:
            return sets[self.lever_set.value]
        return next(iter(sets.values()), 0)

    # --- tornado ------------------------------------------------------------------------------

    def _indices(self) -> dict[str, Any] | None:
        if self.data is None or not self.output.value:
            return None
        return indices(self.data, self.output.value, self._lever_key())

    def _make_tornado(self):
        result = self._indices()
        if result is None:
            return message_figure("choose a sweep")
        if "error" in result:
            return message_figure(result["error"])
        if result["method"] == "sobol":
            return tornado_figure(result["parameters"], "ST", "ST_conf",
                                  f"Sobol total index of {self.output.value}")
        return tornado_figure(result["parameters"], "mu_star", "mu_star_conf",
                              f"Morris mu* of {self.output.value}")

    def _tornado_frame(self) -> pd.DataFrame:
        result = self._indices()
        if not result or "error" in result:
            return pd.DataFrame()
        frame = pd.DataFrame(result["parameters"])
        frame.insert(0, "output", self.output.value)
        frame.insert(1, "method", result["method"])
        return frame

    def _draw_tornado(self) -> None:
        self.tornado.object = self._make_tornado()
        result = self._indices()
        if result and "error" not in result:
            censored = result.get("censored_runs", 0)
            self.tornado_msg.object = (f"{result['samples']:,} samples" + (
                f"; {censored} runs had not reached the date by their end and count at their "
                "end year (a lower bound)" if censored else ""))
        else:
            self.tornado_msg.object = ""

    # --- scatter ------------------------------------------------------------------------------

    def _scatter_data(self) -> pd.DataFrame:
        d = self.data
        if d is None or not self.x.value or not self.y.value:
            return pd.DataFrame()
        ok = d.ok_runs
        frame = pd.DataFrame({"run_id": ok["run_id"],
                              self.x.value: pd.to_numeric(ok[self.x.value], errors="coerce"),
                              self.y.value: pd.to_numeric(ok[self.y.value], errors="coerce")})
        if self.hit is not None and len(self.hit) == len(d.runs):
            keep = (d.runs["status"] == "ok").to_numpy() if "status" in d.runs else slice(None)
            frame["meets_condition"] = self.hit[keep]
        return frame

    def _make_scatter(self):
        frame = self._scatter_data()
        if frame.empty:
            return message_figure("choose a sweep, a parameter and an output")
        x, y = frame[self.x.value].to_numpy(float), frame[self.y.value].to_numpy(float)
        censored = ~np.isfinite(y) if sa.is_date(self.y.value) else None
        hit = frame["meets_condition"].to_numpy(bool) if "meets_condition" in frame else None
        return scatter_figure(x, y, self.x.value, self.y.value, hit=hit, censored=censored)

    def _draw_scatter(self) -> None:
        self.scatter.object = self._make_scatter()

    # --- PRIM ---------------------------------------------------------------------------------

    def _apply_condition(self) -> None:
        text = (self.condition.value or "").strip()
        self.hit, self.prim = None, None
        if not text or self.data is None:
            self.condition_msg.object = ""
            self.boxes.object = ""
            self._draw_scatter()
            return
        try:
            hit = sd.condition_hits(self.data.runs, text)
        except sd.ConditionError as exc:
            self.condition_msg.object = f"⚠ refused: {exc}"
            self.boxes.object = ""
            self._draw_scatter()
            return
        self.hit = hit
        try:
            self.prim = sa.prim_boxes(self.data.runs, self.data.manifest, hit)
        except Exception as exc:  # PRIM itself failing must not break the page
            self.prim = {"boxes": [], "note": f"PRIM failed: {' '.join(str(exc).split())[:200]}",
                         "n": len(hit), "cases_of_interest": int(hit.sum())}
        self.condition_msg.object = (f"✓ {int(hit.sum()):,} of {len(hit):,} runs meet the "
                                     "condition")
        self.boxes.object = self._boxes_markdown()
        self._draw_scatter()

    def _boxes_markdown(self) -> str:
        prim = self.prim
        if not prim:
            return ""
        if not prim.get("boxes"):
            return f"*No box: {prim.get('note', 'none found')}.*"
        lines = ["| box | coverage | density | runs in box | limits |", "|---|---|---|---|---|"]
        for i, box in enumerate(prim["boxes"], 1):
            limits = []
            for lim in box["limits"]:
                if "values" in lim:
                    limits.append(f"{lim['name']} in {lim['values']}")
                    continue
                lo = "" if lim["min"] is None else f"{lim['min']:.4g} ≤ "
                hi = "" if lim["max"] is None else f" ≤ {lim['max']:.4g}"
                limits.append(f"{lo}{lim['name']}{hi}")
            lines.append(f"| {i} | {box['coverage']:.2f} | {box['density']:.2f} | {box['n']} | "
                         + ("; ".join(limits) or "(whole space)") + " |")
        return "\n".join(lines)

    def _boxes_frame(self) -> pd.DataFrame:
        rows = []
        for i, box in enumerate((self.prim or {}).get("boxes", []), 1):
            for lim in box["limits"] or [{}]:
                rows.append({"condition": self.condition.value, "box": i,
                             "coverage": box["coverage"], "density": box["density"],
                             "n": box["n"], "parameter": lim.get("name"),
                             "min": lim.get("min"), "max": lim.get("max"),
                             "values": lim.get("values")})
        return pd.DataFrame(rows)

    # --- layout -------------------------------------------------------------------------------

    def _layout(self, has_sweeps: bool) -> pn.viewable.Viewable:
        intro = pn.pane.Markdown(
            "Which of the uncertain numbers matter? A sweep varies them together; this page "
            "measures how much of each output's spread each one explains, and finds the ranges "
            "of the parameters where something you care about happens.",
            sizing_mode="stretch_width")
        if self.ctx.store is None:
            return without_store(intro, "to see sweeps")
        if not has_sweeps:
            return pn.Column(intro, notice("No sweep in the store yet: start one on the Sweeps "
                                           "page (a sobol or morris sweep gives the indices).",
                                           "info"), sizing_mode="stretch_width")
        return pn.Column(
            intro,
            self.sweep,
            self.status,
            pn.pane.Markdown("### Which parameters move an output", margin=(10, 5, 0, 5)),
            pn.Row(self.output, self.lever_set),
            self.tornado,
            caption("Each bar is the share of the output's variance that a parameter explains, "
                    "alone or together with the others (Sobol total index; for a Morris sweep, "
                    "the average size of the change one step in the parameter makes); the "
                    "whiskers are 95% bootstrap intervals. Longer bars matter more."),
            self.tornado_msg,
            downloads(self._make_tornado, self._tornado_frame, "sensitivity"),
            pn.pane.Markdown("### One parameter against one output", margin=(10, 5, 0, 5)),
            pn.Row(self.x, self.y),
            self.scatter,
            caption("Each dot is one run: the parameter's value across, the output up; red dots "
                    "meet the condition below, grey triangles never reached the date before "
                    "the run ended."),
            downloads(self._make_scatter, self._scatter_data, "scatter"),
            pn.pane.Markdown("### Where does a condition hold? (PRIM)", margin=(10, 5, 0, 5)),
            pn.Row(self.condition, self.find),
            self.condition_msg,
            self.boxes,
            caption("PRIM looks for a box of parameter ranges where most runs meet the "
                    "condition: coverage is the share of all runs meeting it that fall in the "
                    "box, density the share of runs in the box that meet it. A date a run never "
                    f"reached compares as false. Example: `{EXAMPLE_CONDITION}`."),
            downloads(None, self._boxes_frame, "prim-boxes"),
            sizing_mode="stretch_width")


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return SensitivityPage(ctx).layout
