"""Early warning: for a signal the analyst picks (a time horizon, a share of AI R&D automated, a
training-run size, the first major incident), the distribution of the lead time between the
signal and successor training over an ensemble of prior draws of one scenario
(``ixsim.analysis.ensemble.run_ensemble``, run in a background thread with a progress bar).
This is the time a policy that pauses "on a signal" has to work with.

The ensemble of a (scenario, draws, seed) is kept in memory for the server's life, so changing
the signal or its threshold redraws at once and a copied link opens without rerunning.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ixsim.analysis import early_warning as ew
from ixsim.dashboards import store_data as sd
from ixsim.dashboards.common import caption, downloads, url_sync
from ixsim.dashboards.context import AppContext
from ixsim.dashboards.store_figures import lead_time_figure, message_figure

SLUG = "early_warning"
TITLE = "Early warning"
POLL_MS = 300
SEED = 0
DEFAULT_DRAWS = 100
MAX_DRAWS = 300
DEFAULT_SCENARIO = "baseline"
SCENARIO_SOURCE = "(scenario)"  # not a sweep name (those have no parentheses)
STATUS_WORDS = {
    "observed": "signal fired, then successor training (a negative lead: the signal came after)",
    "censored": "signal fired, no successor training by the run's end (lead at least the time "
                "left)",
    "no_trigger": "signal never fired by the run's end",
    "before_start": "signal already on when the run starts (no use as a warning)",
    "failed": "draw failed to run",
}


class _Ensembles:
    """Ensembles by (scenario, draws, seed), computed once each in a background thread; a page
    polls ``get`` for the result and ``progress`` for the bar."""

    def __init__(self, size: int = 6):
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
        self._running: dict[tuple[str, int, int], list[int]] = {}
        self._errors: dict[tuple[str, int, int], str] = {}
        self._size = size

    def get(self, key: tuple[str, int, int]) -> Any:
        with self._lock:
            return self._done.get(key)

    def error(self, key: tuple[str, int, int]) -> str | None:
        with self._lock:
            return self._errors.get(key)

    def progress(self, key: tuple[str, int, int]) -> tuple[int, int] | None:
        with self._lock:
            state = self._running.get(key)
            return None if state is None else (state[0], state[1])

    def start(self, key: tuple[str, int, int]) -> None:
        with self._lock:
            if key in self._done or key in self._running:
                return
            self._errors.pop(key, None)
            self._running[key] = [0, key[1]]
        threading.Thread(target=self._run, args=(key,), daemon=True,
                         name=f"ixsim-ensemble-{key[0]}").start()

    def _run(self, key: tuple[str, int, int]) -> None:
        from ixsim.analysis.ensemble import run_ensemble
        from ixsim.sim.scenario import ScenarioError, load_scenario

        scenario, draws, seed = key

        def progress(done: int, total: int) -> None:
            with self._lock:
                self._running[key] = [done, total]

        try:
            result = run_ensemble(load_scenario(scenario), draws, seed, progress=progress)
        except (ScenarioError, ValueError, RuntimeError) as exc:
            with self._lock:
                self._errors[key] = " ".join(str(exc).split())[:300]
                self._running.pop(key, None)
            return
        with self._lock:
            self._done[key] = result
            self._running.pop(key, None)
            while len(self._done) > self._size:
                self._done.popitem(last=False)


ENSEMBLES = _Ensembles()


def _threshold_text(trigger: ew.Trigger, value: float | None) -> str:
    if value is None or trigger.series is None:
        return trigger.label
    if trigger.key == "horizon":
        hours = value / 60.0
        return f"{trigger.label} reaches {value:g} minutes ({hours:g} hours)"
    if trigger.key == "automation":
        return f"{value:.0%} of AI R&D automated"
    return f"{trigger.label} reaches {value:.3g} {trigger.units}"


class EarlyWarningPage:
    def __init__(self, ctx: AppContext):
        from ixsim.sim.scenario import scenario_names

        self.ctx = ctx
        names = scenario_names()
        sources = {"a scenario, run here over prior draws": SCENARIO_SOURCE}
        for sweep in ctx.sweeps():
            if sd.has_run_series(ctx, sweep):
                sources[f"sweep {sweep} (its runs' yearly series)"] = sweep
        self.source = pn.widgets.Select(label="Runs from", options=sources,
                                        value=SCENARIO_SOURCE, width=320,
                                        visible=len(sources) > 1)
        self.store_runs: dict[str, Any] | None = None
        self.scenario = pn.widgets.Select(
            label="Scenario", options=names,
            value=DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else (names or [None])[0],
            width=240)
        self.draws = pn.widgets.IntSlider(label="Draws of the uncertain parameters", start=20,
                                          end=MAX_DRAWS, step=10, value=DEFAULT_DRAWS, width=300)
        self.trigger = pn.widgets.Select(
            label="Signal", options={t.label: k for k, t in ew.TRIGGERS.items()},
            value="automation", width=260)
        self.threshold = pn.widgets.FloatInput(label="Threshold", value=0.5, width=160)
        self.weighted = pn.widgets.Checkbox(
            label="weight draws by their fit to 2023-25 data", value=True)
        self.progress = pn.indicators.Progress(label="ensemble", value=0, max=100, width=400,
                                               bar_color="primary", visible=False)
        self.progress_text = pn.pane.Markdown("", css_classes=["ixsim-ensemble-progress"])
        self.presets = pn.pane.Markdown("", styles={"color": "#555"})
        self.figure = pn.pane.Matplotlib(message_figure("running the ensemble..."), dpi=96,
                                         tight=True, format="png", sizing_mode="stretch_width",
                                         max_width=1200)
        self.summary = pn.pane.Markdown("", css_classes=["ixsim-lead-summary"],
                                        sizing_mode="stretch_width")
        self.counts = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.message = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.ensemble = None
        self._key: tuple[str, int, int] | None = None
        self._callback = None
        self.trigger.param.watch(self._on_trigger, "value")
        for w in (self.threshold, self.weighted):
            w.param.watch(lambda e: self._draw(), "value")
        for w in (self.scenario, self.draws):
            w.param.watch(lambda e: self._start(), "value")
        self.source.param.watch(lambda e: self._start(), "value")
        url_sync(self.source, "source")
        url_sync(self.scenario, "scenario")
        url_sync(self.draws, "draws")
        url_sync(self.trigger, "signal")
        url_sync(self.threshold, "threshold")
        url_sync(self.weighted, "weighted")
        self._set_presets()
        self.layout = self._layout()
        self._start()

    # --- running --------------------------------------------------------------------------------

    def _start(self) -> None:
        from ixsim.sim.scenario import scenario_names

        self.message.object = ""
        self.store_runs = None
        from_store = self.source.value not in (None, SCENARIO_SOURCE)
        self.scenario.disabled = self.draws.disabled = from_store
        self.weighted.disabled = from_store
        if from_store:
            self._stop_polling()
            self.progress.visible = False
            try:
                self.store_runs = sd.run_series(self.ctx, str(self.source.value))
            except (sd.StoreError, sd.StorePathError, OSError, ValueError) as exc:
                self.message.object = f"⚠ {' '.join(str(exc).split())[:300]}"
                self.figure.object = message_figure("no runs to show")
                return
            n = len(self.store_runs["run_id"])
            self.progress_text.object = (f"{n} successful runs of sweep {self.source.value}, "
                                         "equally weighted; their series are yearly, so a "
                                         "crossing is interpolated between whole years")
            self._draw()
            return
        if not self.scenario.value:
            return
        if self.scenario.value not in scenario_names():  # a link can set any value
            self.message.object = (f"⚠ {str(self.scenario.value)[:80]!r}: not a scenario name "
                                   "(choose one from the list)")
            return
        draws = min(max(int(self.draws.value or DEFAULT_DRAWS), 1), MAX_DRAWS)
        key = (str(self.scenario.value), draws, SEED)
        self._key = key
        self.ensemble = ENSEMBLES.get(key)
        if self.ensemble is not None:
            self.progress.visible = False
            self.progress_text.object = ""
            self._draw()
            return
        ENSEMBLES.start(key)
        self.progress.visible = True
        self.progress.value = 0
        self.progress_text.object = f"running {key[1]} draws of {key[0]}..."
        if pn.state.curdoc is None:  # no server (a script): wait here
            import time

            while ENSEMBLES.get(key) is None and ENSEMBLES.error(key) is None:
                time.sleep(0.05)
            self._poll()
        elif self._callback is None:
            self._callback = pn.state.add_periodic_callback(self._poll, period=POLL_MS)

    def _poll(self) -> None:
        key = self._key
        if key is None:
            return
        error = ENSEMBLES.error(key)
        done = ENSEMBLES.get(key)
        if error is not None:
            self._stop_polling()
            self.progress.visible = False
            self.progress_text.object = ""
            self.message.object = f"⚠ the ensemble could not run: {error}"
            return
        if done is not None:
            self._stop_polling()
            self.ensemble = done
            self.progress.value = 100
            self.progress.visible = False
            self.progress_text.object = (f"{done.size} draws of {key[0]} "
                                         f"({int(done.ok.sum())} ran)")
            self._draw()
            return
        state = ENSEMBLES.progress(key)
        if state is not None:
            n, total = state
            self.progress.value = int(100 * n / max(total, 1))
            self.progress_text.object = f"running {key[0]}: {n} of {total} draws"

    def _stop_polling(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    # --- signal ---------------------------------------------------------------------------------

    def _spec(self) -> ew.Trigger:
        return ew.TRIGGERS.get(self.trigger.value, ew.TRIGGERS["automation"])

    def _on_trigger(self, event) -> None:
        spec = self._spec()
        self.threshold.disabled = spec.series is None
        if spec.default is not None:
            self.threshold.value = spec.default
        self._set_presets()
        self._draw()

    def _set_presets(self) -> None:
        spec = self._spec()
        if spec.series is None:
            self.presets.object = "The first major incident of the run (no threshold)."
            self.threshold.disabled = True
            return
        self.threshold.disabled = False
        shown = ", ".join(f"{v:g}" for v in spec.presets)
        self.presets.object = f"Threshold in {spec.units}; for example {shown}."

    def _source(self) -> Any:
        """The runs the lead times come from: the store's runs (a mapping) when a sweep is
        chosen, else the scenario's ensemble (None while it runs)."""
        if self.source.value not in (None, SCENARIO_SOURCE):
            return self.store_runs
        return self.ensemble

    def _source_label(self) -> str:
        if self.source.value not in (None, SCENARIO_SOURCE):
            return f"sweep {self.source.value}"
        return self.ensemble.scenario if self.ensemble is not None else ""

    def _leads(self) -> ew.LeadTimes | None:
        source = self._source()
        if source is None:
            return None
        spec = self._spec()
        threshold = None if spec.series is None else self.threshold.value
        if isinstance(source, dict):
            if spec.series is None:
                raise ValueError("a sweep store records no incident dates: choose a scenario "
                                 "for this signal")
            if spec.series not in source["series"]:
                raise ValueError(f"this sweep did not keep {spec.series}: choose another signal "
                                 f"(it kept {', '.join(source['series'])})")
            return ew.lead_times(source, spec.key, threshold)
        leads = ew.lead_times(source, spec.key, threshold)
        if not self.weighted.value:
            ran = np.asarray(self.ensemble.ok, dtype=float)
            leads = ew.LeadTimes(**{**leads.__dict__,
                                    "weights": ran / ran.sum() if ran.sum() else ran})
        return leads

    # --- views ----------------------------------------------------------------------------------

    def _make_figure(self):
        if self._source() is None:
            return message_figure("running the ensemble...")
        try:
            leads = self._leads()
        except ValueError as exc:
            return message_figure(str(exc))
        fired = np.isin(leads.status, ("observed", "censored"))
        km = ew.survival(leads.years[fired], leads.status[fired] == "censored",
                         leads.weights[fired])
        quarts = ew.lead_quantiles(leads)
        return lead_time_figure(leads.years, leads.status, km, quarts,
                                f"{_threshold_text(self._spec(), leads.threshold)} "
                                f"({self._source_label()})")

    def _frame(self) -> pd.DataFrame:
        try:
            leads = self._leads()
        except ValueError:
            leads = None
        if leads is None:
            return pd.DataFrame()
        return pd.DataFrame({"draw": np.arange(leads.years.size), "status": leads.status,
                             "signal_year": leads.trigger_at,
                             "successor_training_year": leads.successor,
                             "lead_years": leads.years,
                             "lead_is_lower_bound": np.isin(leads.status,
                                                            ("censored", "before_start")),
                             "weight": leads.weights})

    def _draw(self) -> None:
        self.figure.object = self._make_figure()
        if self._source() is None:
            return
        try:
            leads = self._leads()
        except ValueError as exc:
            self.summary.object = f"⚠ {exc}"
            self.counts.object = ""
            return
        counts = leads.counts()
        quarts = ew.lead_quantiles(leads)

        def fmt(v: float) -> str:
            return "beyond the runs" if math.isinf(v) else ("-" if math.isnan(v) else
                                                            f"{v:.2f} years")

        too_late = float(leads.weights[leads.too_late].sum())
        never = leads.share("no_trigger")
        fired = np.isin(leads.status, ("observed", "censored"))
        self.summary.object = (
            f"**{_threshold_text(self._spec(), leads.threshold)}**: where the signal fired, "
            f"the lead time to successor training has median **{fmt(quarts[0.5])}** "
            f"(quartiles {fmt(quarts[0.25])} to {fmt(quarts[0.75])}). "
            f"In {too_late:.0%} of the draws the signal came after successor training; in "
            f"{never:.0%} it never fired. ({int(fired.sum())} of {leads.years.size} draws "
            f"fired{self._ess_text(leads)}.)")
        lines = ["| draws | count | weighted share |", "|---|---|---|"]
        for status, n in counts.items():
            lines.append(f"| {STATUS_WORDS[status]} | {n} | {leads.share(status):.0%} |")
        self.counts.object = "\n".join(lines)

    @staticmethod
    def _ess_text(leads: ew.LeadTimes) -> str:
        """How many equally weighted draws the weights are worth (Kish's effective sample
        size), when they are not equal."""
        from ixsim.analysis.forecast import effective_sample_size

        w = leads.weights[leads.weights > 0]
        if w.size == 0 or np.allclose(w, w[0]):
            return ""
        return (f"; the weights make them worth about {effective_sample_size(leads.weights):.0f} "
                "equally weighted draws")

    def _layout(self) -> pn.viewable.Viewable:
        intro = pn.pane.Markdown(
            "A policy that pauses AI development 'when a warning sign appears' only has the "
            "time between that sign and the moment an AI can train its successor. Pick a sign "
            "and a threshold; the page runs the scenario over many draws of the uncertain "
            "parameters and shows how much time that sign would have left.",
            sizing_mode="stretch_width")
        return pn.Column(
            intro,
            pn.Row(self.source, self.scenario, self.draws),
            pn.Row(self.trigger, self.threshold, self.weighted),
            self.presets,
            pn.Row(self.progress, self.progress_text),
            self.message,
            self.summary,
            self.figure,
            caption("Left: how many draws had each lead time between the sign and successor "
                    "training (grey: no successor training before the run ended, so the lead "
                    "is at least that long; left of zero: the sign came too late). Right: the "
                    "share of draws with at least that much warning, counting the grey draws "
                    "correctly (Kaplan-Meier); dashed: median, dotted: quartiles."),
            downloads(self._make_figure, self._frame, "early-warning"),
            self.counts,
            caption("Every draw is counted once, in one of these rows; weighted shares use the "
                    "draws' fit to the 2023-25 observations when the box above is ticked."),
            sizing_mode="stretch_width")


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return EarlyWarningPage(ctx).layout


__all__ = ["SLUG", "TITLE", "build", "ENSEMBLES"]
