"""Calibration: where the numbers come from and how well the model matches what was observed.

Three parts, each through the functions the command line uses: the sources table
(``ixsim.sim.sources``: the CAL rows of docs/calibration.md and the dated observations), the
backtest (``ixsim.analysis.backtest.run_backtest``, as ``ixsim backtest``) with every observation
beside the model's value, and the training loop's measured rates
(``ixsim.analysis.backtest.measured_checks`` on ``ixsim calibrate``'s files) beside the
published ones.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ixsim.dashboards.common import BackgroundJob, caption, csv_download, downloads, url_sync
from ixsim.dashboards.context import AppContext

SLUG = "calibration"
TITLE = "Calibration"

INTRO = ("Every number in ixsim cites a published estimate or says why it is an assumption. "
         "This page lists those sources, checks the model against what was actually measured "
         "in 2023-2025 (the *backtest*), and sets the rates measured by ixsim's own small "
         "training experiments beside the published ones.")
FIT_CHOICES = {"no fit (the scenario as it is)": "", "fit before 2025-01-01": "2025-01-01",
               "fit before 2024-07-01": "2024-07-01"}

_cache: dict[tuple[str, str], Any] = {}
_cache_lock = threading.Lock()
_computing: dict[tuple[str, str], threading.Lock] = {}


def sources_frame() -> pd.DataFrame:
    """The CAL rows (docs/calibration.md) as a table."""
    from ixsim.sim.sources import calibration_rows

    rows = calibration_rows().values()
    return pd.DataFrame({"row": [f"CAL-{r.id}" for r in rows],
                         "quantity": [r.quantity for r in rows],
                         "value": [r.value for r in rows], "range": [r.range for r in rows],
                         "units": [r.units for r in rows], "source": [r.source for r in rows],
                         "confidence": [r.conf for r in rows]})


def observations_frame() -> pd.DataFrame:
    """The dated observations (data/observations.csv)."""
    from ixsim.sim.sources import observations

    obs = observations()
    return pd.DataFrame({"date": [o.date.isoformat() for o in obs],
                         "quantity": [o.quantity for o in obs],
                         "subject": [o.subject for o in obs], "value": [o.value for o in obs],
                         "low": [o.low for o in obs], "high": [o.high for o in obs],
                         "units": [o.units for o in obs], "source": [o.source for o in obs]})


def run_backtest_cached(scenario: str, fit_until: str) -> Any:
    """``ixsim backtest --scenario SCENARIO [--fit-until DATE]`` in process (a few seconds;
    kept for the server's lifetime: it is a pure function of its inputs)."""
    key = (scenario, fit_until)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        lock = _computing.setdefault(key, threading.Lock())
    with lock:  # sessions asking at once wait for one computation
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        return _compute_backtest(key)


def _compute_backtest(key: tuple[str, str]) -> Any:
    scenario, fit_until = key
    from ixsim.analysis.backtest import last_observation_year, parse_fit_until, run_backtest
    from ixsim.sim.scenario import load_scenario

    spec = load_scenario(scenario)
    fit_year = parse_fit_until(fit_until) if fit_until else None
    result = run_backtest(spec, last_observation_year(), fit_until=fit_year,
                          fit_until_label=f"fit until {fit_until}")
    with _cache_lock:
        _cache[key] = result
    return result


def rows_frame(bt: Any) -> pd.DataFrame:
    """Every observation row beside the model's value (as ``ixsim backtest`` prints it)."""
    frame = pd.DataFrame([r.as_dict() for r in bt.rows])
    if frame.empty:
        return frame
    keep = ["date", "year", "label", "subject", "observed", "low", "high", "model", "inside",
            "z", "status", "part"]
    return frame[[c for c in keep if c in frame.columns]]


ROWS_SHOWN = ["date", "label", "subject", "observed", "low", "high", "model", "inside", "z",
              "status", "part"]


def checks_frame(checks: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"check": [c.name for c in checks], "row": [c.cal for c in checks],
                         "modelled or measured": [c.modelled for c in checks],
                         "published": [c.published for c in checks],
                         "low": [c.low for c in checks], "high": [c.high for c in checks],
                         "units": [c.units for c in checks],
                         "range": [c.range_kind for c in checks],
                         "basis": [c.basis for c in checks],
                         "result": [getattr(c, "result", "") for c in checks]})


def measured_frame() -> pd.DataFrame:
    """The training loop's measured rates (every measured*.json of ``ixsim calibrate``)."""
    from ixsim.analysis.backtest import MEASURED_PATH, measured_checks

    parts = []
    for path in sorted(MEASURED_PATH.parent.glob("measured*.json")):
        frame = checks_frame(measured_checks(path))
        frame.insert(0, "file", path.name)
        parts.append(frame)
    if not parts:
        return pd.DataFrame({"file": [], "check": []})
    return pd.concat(parts, ignore_index=True)


def backtest_figure(rows: pd.DataFrame):
    """Observed against modelled, log-log, one colour per quantity; the diagonal is a perfect
    match and the bars are the published 95% intervals."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    ax = fig.add_subplot()
    scored = rows.dropna(subset=["observed", "model"]) if len(rows) else rows
    scored = scored[(scored["observed"] > 0) & (scored["model"] > 0)] if len(scored) else scored
    for i, (label, part) in enumerate(scored.groupby("label", sort=True) if len(scored) else []):
        color = f"C{i % 10}"
        lo = (part["observed"] - part["low"]).clip(lower=0).fillna(0)
        hi = (part["high"] - part["observed"]).clip(lower=0).fillna(0)
        ax.errorbar(part["observed"], part["model"], xerr=[lo, hi], fmt="o", color=color,
                    ms=5, lw=0.8, label=label)
    if len(scored):
        lo = float(min(scored["observed"].min(), scored["model"].min())) / 2
        hi = float(max(scored["observed"].max(), scored["model"].max())) * 2
        ax.plot([lo, hi], [lo, hi], color="#888", ls="--", lw=1, label="perfect match")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("observed (published)")
    ax.set_ylabel("model")
    ax.set_title("Backtest: each published measurement against the model")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def z_figure(rows: pd.DataFrame):
    """How far the model is from each measurement, in standard errors, by date."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.axhspan(-1.96, 1.96, color="#2ca02c", alpha=0.12, label="inside the 95% interval")
    z = rows.dropna(subset=["z"]) if len(rows) else rows
    for i, (label, part) in enumerate(z.groupby("label", sort=True) if len(z) else []):
        marker = "s" if "predict" in set(part.get("part", [])) else "o"
        ax.scatter(part["year"], part["z"], color=f"C{i % 10}", s=25, marker=marker,
                   label=label)
    ax.axhline(0, color="#444", lw=0.8)
    ax.set_xlabel("date of the measurement (year)")
    ax.set_ylabel("model minus observed (standard errors)")
    ax.set_title("How far the model is from each measurement")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


def measured_figure(frame: pd.DataFrame):
    """Each measured rate (dot) against the published range (bar) and value (cross)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    usable = frame.dropna(subset=["modelled or measured"]) if len(frame) else frame
    labels = [f"{r['check']} vs {r['row']} ({r['file']})" for _, r in usable.iterrows()]
    y = np.arange(len(labels))
    if len(labels):
        ax.hlines(y, usable["low"], usable["high"], color="#999", lw=6, alpha=0.5,
                  label="published range")
        ax.scatter(usable["published"], y, marker="x", color="#333", label="published value",
                   zorder=3)
        ax.scatter(usable["modelled or measured"], y, color="C3", zorder=4,
                   label="measured by ixsim's training loop")
        ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("value (exponent, or doublings per doubling for r)")
    ax.set_title("Measured rates beside the published ones")
    ax.grid(alpha=0.3, axis="x")
    fig.legend(fontsize=7, loc="outside lower center", ncols=3)
    return fig


WIDE = {"quantity": 240, "value": 200, "range": 160, "source": 320, "subject": 180,
        "check": 200, "basis": 180, "note": 300}


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the page shows it: numbers to four significant figures (the CSV keeps
    every digit), missing values blank."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]) or out[column].dtype == object:
            out[column] = [("" if v is None or (isinstance(v, float) and math.isnan(v))
                            else f"{v:.4g}" if isinstance(v, float) else v)
                           for v in out[column]]
    return out


def _table(frame: pd.DataFrame, **kwargs: Any) -> pn.widgets.Tabulator:
    """A read-only, paged table; long text columns wrap at a fixed width."""
    wide = {c: w for c, w in WIDE.items() if c in frame.columns}
    return pn.widgets.Tabulator(shown(frame), disabled=True, show_index=False, pagination="local",
                                page_size=kwargs.pop("page_size", 12), layout="fit_data_table",
                                sizing_mode="stretch_width", widths=wide,
                                formatters={c: {"type": "textarea"} for c in wide},
                                **kwargs)


class Calibration:
    def __init__(self, ctx: AppContext):
        from ixsim.sim.scenario import scenario_names

        self.scenario = pn.widgets.Select(label="Scenario to backtest", options=scenario_names(),
                                          value="baseline")
        self.fit = pn.widgets.Select(label="Fit the horizon mapping", options=FIT_CHOICES,
                                     value="")
        url_sync(self.scenario, "scenario")
        url_sync(self.fit, "fit_until")
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False,
                                               sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", css_classes=["ixsim-backtest-status"])
        self.job = BackgroundJob(self.progress, self.status)
        self.bt = None
        self.rows = pd.DataFrame()
        self.checks = pd.DataFrame()
        self.verdict = pn.pane.Markdown("")
        self.fig_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png",
                                           sizing_mode="scale_width", max_width=760)
        self.z_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png",
                                         sizing_mode="scale_width", max_width=760)
        # filled when the backtest is done (a table built on an empty frame would guess its
        # column types wrong)
        self.rows_table = pn.Column(sizing_mode="stretch_width")
        self.checks_table = pn.Column(sizing_mode="stretch_width")
        measured = measured_frame()
        self.measured = measured
        sources, observed = sources_frame(), observations_frame()

        self.scenario.param.watch(lambda e: self.start(), "value")
        self.fit.param.watch(lambda e: self.start(), "value")
        self.view = pn.Column(
            pn.pane.Markdown(INTRO),
            pn.pane.Markdown("## Sources"),
            _table(sources, page_size=10),
            caption("Each published estimate the model uses (a CAL row, cited in the scenario "
                    "files), its range, and where it was published."),
            csv_download(lambda: sources, "calibration-sources.csv"),
            pn.pane.Markdown("### Dated observations"),
            _table(observed, page_size=8),
            caption("Measurements with a date (for example METR's time horizons and the "
                    "largest training runs) that the backtest compares the model with."),
            csv_download(lambda: observed, "calibration-observations.csv"),
            pn.pane.Markdown("## Backtest"),
            pn.Row(self.scenario, self.fit),
            self.progress, self.status, self.verdict,
            pn.Row(pn.Column(self.fig_pane, caption(
                "Each dot is one published measurement: across is what was observed (bars: "
                "its 95% interval), up is what the model says for that date; dots on the "
                "dashed line match exactly."),
                downloads(lambda: backtest_figure(self.rows), lambda: self.rows,
                          "calibration-backtest")),
                pn.Column(self.z_pane, caption(
                    "How many standard errors the model is from each measurement, by date; "
                    "the green band is the 95% interval (squares: rows predicted after the "
                    "fit date)."),
                    downloads(lambda: z_figure(self.rows), lambda: self.rows,
                              "calibration-z"))),
            self.rows_table,
            caption("Every observation beside the model's value: inside means within the "
                    "published interval."),
            pn.pane.Markdown("### Published rates"),
            self.checks_table,
            caption("Growth rates the model produces over 2023-25 (compute, algorithms, "
                    "hardware, spending) against the published rates and their ranges."),
            csv_download(lambda: self.checks, "calibration-rate-checks.csv"),
            pn.pane.Markdown("## Measured by ixsim's training loop"),
            pn.pane.Matplotlib(measured_figure(measured), dpi=96, tight=True, format="png",
                               sizing_mode="scale_width", max_width=760),
            caption("The scaling exponents and the returns to research r that ixsim's own "
                    "small transformer experiments (`ixsim calibrate`) measured, beside the "
                    "published values and ranges; tiny models on a small corpus, so they are "
                    "shown, not used."),
            downloads(lambda: measured_figure(self.measured), lambda: self.measured,
                      "calibration-measured"),
            _table(measured, page_size=8),
            sizing_mode="stretch_width")
        self.start()

    def start(self) -> None:
        scenario, fit = self.scenario.value, self.fit.value or ""

        def work(progress, should_stop):
            progress(0, 1)
            bt = run_backtest_cached(scenario, fit)
            progress(1, 1)
            return bt

        self.job.start(work, self.show, f"Backtest of {scenario}")

    def show(self, bt: Any) -> None:
        self.bt = bt
        self.rows = rows_frame(bt)
        self.checks = checks_frame([c for c in bt.checks if not c.basis.startswith("training")])
        score = bt.score()
        coverage = score.coverage if score.coverage is not None else math.nan
        self.verdict.object = (
            f"**{'Passes' if bt.passed else 'Fails'}** the backtest rule: {score.inside} of "
            f"{score.n} counted observations inside their 95% interval ({coverage:.0%}); "
            f"published-rate checks {'pass' if bt.checks_passed else 'fail'} "
            f"({bt.runs} model runs).")
        self.fig_pane.object = backtest_figure(self.rows)
        self.z_pane.object = z_figure(self.rows)
        self.rows_table.objects = [_table(self.rows[[c for c in ROWS_SHOWN
                                                     if c in self.rows.columns]])]
        self.checks_table.objects = [_table(self.checks)]


def build(ctx: AppContext) -> pn.viewable.Viewable:
    return Calibration(ctx).view
