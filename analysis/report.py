"""``ixsim report``: one self-contained HTML file (inline CSS, figures as PNG data URIs, no
external URL, opens offline from file://) with the headline numbers, the figures, a short
method section, others' published estimates labelled as theirs and the sources (CAL rows).

Two inputs. A scenario: an ensemble over prior draws (``analysis/ensemble.py``), weighted by
each draw's fit to the 2023-25 observations as the forecast is (``forecast_run.summarise``
computes the headline numbers, so they agree with ``ixsim forecast`` on the same draws). A sweep
store: its runs, equally weighted, with ``analysis/sensitivity.analyze`` for the quantiles and
the Sobol or Morris indices.

``scenario_report`` and ``sweep_report`` compute a ``Report`` (numbers, tables, PNG figures);
``render_html`` turns a Report into the HTML string, a pure function of it. Nothing here reads a
clock: the date is shown only when the caller passes one, so the same inputs give the same
bytes. Writing the files is the command's job (``cli/report.py``).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ixsim.analysis import forecast as fc
from ixsim.analysis import report_figures as rf

if TYPE_CHECKING:
    import pandas as pd

    from ixsim.analysis.ensemble import Ensemble

SHOWN_YEARS = (2027, 2028, 2030, 2035)  # P(successor training by the end of these years)
SUCCESSOR = "successor_training_year"
HORIZON_WEEK_MINUTES = 60.0 * 40  # a 40-hour work week (figures.HORIZON_MARKS: 8 h a day)

# Headline metrics besides successor training: (summary key, label, is a date)
OTHER_HEADLINES = (
    ("rnd_automation_20_year", "20% of AI R&D automated", True),
    ("rnd_automation_50_year", "50% of AI R&D automated", True),
    ("rnd_automation_100_year", "100% of AI R&D automated", True),
    ("takeoff_years", "takeoff, 20% to 100% automated (years)", False),
    ("peak_effective_compute_growth_oom_per_year", "peak effective-compute growth (OOM/year)",
     False),
    ("first_pause_year", "first pause in force", True),
)


# --- the report's content ----------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """A small table: ``rows`` of cells (already formatted text)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""
    note: str = ""


@dataclass(frozen=True)
class ReportFigure:
    """One figure: ``name`` is its PNG file's stem, ``caption`` one plain-words sentence."""

    name: str
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Report:
    title: str
    summary: str  # one line under the title
    inputs: tuple[tuple[str, str], ...]  # (what, value): version, scenario, draws, seed, date
    headline: tuple[Table, ...]
    figures: tuple[ReportFigure, ...]
    method: tuple[str, ...]  # paragraphs
    left_out: tuple[str, ...] = ()  # figures not shown, and why
    references: tuple[tuple[str, str, str], ...] = fc.REFERENCE_POINTS
    sources: tuple[tuple[str, str, str, str], ...] = field(default_factory=tuple)


def sources_rows() -> tuple[tuple[str, str, str, str], ...]:
    """Every CAL row of data/calibration.toml: (CAL-id, quantity, value with units, source)."""
    from ixsim.sim.sources import calibration_rows

    out = []
    for row in calibration_rows().values():
        value = row.value if row.units in ("", "-") else f"{row.value} {row.units}"
        out.append((row.cite, row.quantity, value, row.source))
    return tuple(out)


# --- formatting ------------------------------------------------------------------------------

def _pct(p: float, low: float | None = None, high: float | None = None) -> str:
    if p is None or not math.isfinite(p):
        return "n/a"
    if low is None or high is None:
        return f"{p:.0%}"
    return f"{p:.0%} ({low:.0%}-{high:.0%})"


def _value(v: Any, end: float, date: bool) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if math.isinf(v):
        return f"> {end:g}"
    return f"{v:.1f}" if date else f"{v:.2f}"


def _quantiles(values: np.ndarray, weights: np.ndarray, censored: bool
               ) -> tuple[float, float, float]:
    """Weighted 10/50/90%: a censored (NaN) date counts as later than the end (+inf); for other
    metrics NaN draws are left out."""
    values = np.asarray(values, dtype=float)
    if not censored:
        keep = np.isfinite(values)
        values, weights = values[keep], weights[keep]
    if values.size == 0 or weights.sum() <= 0:
        return (math.nan,) * 3
    q = fc.weighted_quantiles(values, weights, (0.1, 0.5, 0.9))
    return q[0.1], q[0.5], q[0.9]


# --- scenario: an ensemble ----------------------------------------------------------------------

def ensemble_rows(ens: Ensemble) -> list[dict[str, Any]]:
    """The ensemble's draws as the forecast's rows (``forecast_run.run_chunk``'s form)."""
    from ixsim.analysis.forecast_run import HEADLINES

    rows = []
    for i, summary in enumerate(ens.summaries):
        row: dict[str, Any] = {"draw": i, "seed": ens.seeds[i], "error": ens.errors[i]}
        if summary is not None:
            for key in HEADLINES:
                row[key] = math.nan if summary.get(key) is None else float(summary[key])
            row["major_incident_before_successor"] = bool(
                summary["major_incident_before_successor"])
            row["end_year"] = float(summary["end_year"])
            row["loglik"], row["max_abs_z"] = float(ens.loglik[i]), float(ens.max_abs_z[i])
        elif not row["error"]:
            row["error"] = "failed"
        rows.append(row)
    return rows


def first_crossing(times: np.ndarray, series: np.ndarray, threshold: float) -> np.ndarray:
    """Per row of ``series`` (draws x steps), the first time it is >= ``threshold``; NaN if
    never."""
    series = np.asarray(series, dtype=float)
    hit = np.nan_to_num(series, nan=-np.inf) >= threshold
    first = np.argmax(hit, axis=1)
    return np.where(hit.any(axis=1), times[first], math.nan)


# Early-warning triggers of the report: (key of ``early_warning.TRIGGERS``, threshold, label)
REPORT_TRIGGERS = (("horizon", HORIZON_WEEK_MINUTES, "time horizon reaches a 40-hour work week"),
                   ("automation", 0.5, "50% of AI R&D automated"),
                   ("incident", None, "first major incident"))
STATUS_WORDS = {"censored": "trigger, no successor by the end",
                "no_trigger": "no trigger by the end",
                "before_start": "at the threshold from the start"}


def lead_times(ens: Ensemble) -> list[rf.LeadTimes]:
    """Lead time from each early-warning trigger to successor training
    (``analysis/early_warning.py``): the draws where both happen, with their weights, the
    Kaplan-Meier median over every draw where the trigger fired (censored ones as 'at
    least'), and the weight of the other draws by why they are left out."""
    from ixsim.analysis import early_warning as ew

    out = []
    for key, threshold, label in REPORT_TRIGGERS:
        leads = ew.lead_times(ens, key, threshold)
        observed = leads.status == "observed"
        median = ew.lead_quantiles(leads, (0.5,))[0.5]
        shares = {words: leads.share(status) for status, words in STATUS_WORDS.items()}
        out.append(rf.LeadTimes(label, leads.years[observed], leads.weights[observed],
                                {k: v for k, v in shares.items() if math.isfinite(v)},
                                median=median))
    return out


def _weighted_triplet(values: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    keep = np.isfinite(values) & (weights > 0)
    if not keep.any():
        return (math.nan,) * 3
    q = fc.weighted_quantiles(values[keep], weights[keep], (0.1, 0.5, 0.9))
    return q[0.1], q[0.5], q[0.9]


def backtest_rows(ens: Ensemble) -> list[rf.BacktestRow]:
    """Each dated observation the backtest scores (inside the run, with a world column the
    ensemble keeps) against the draws' values at its date, weighted and with priors alone."""
    from ixsim.analysis import observations as obs
    from ixsim.analysis.backtest import data_cutoff_year
    from ixsim.sim.sources import observations

    if ens.times.size == 0:
        return []
    start = float(ens.times[0])
    until = min(data_cutoff_year(), float(ens.times[-1]))
    weighted, flat = ens.weights(True), ens.weights(False)
    out = []
    for target in obs.targets(observations(), start, until):
        c = target.comparison
        if (target.status != "scored" or c is None or c.column not in ens.series
                or target.best.value is None):
            continue
        i = int(np.searchsorted(ens.times, target.year + obs.EPS_YEAR, side="right")) - 1
        series = ens.series[c.column]
        values = series[:, i]
        # a row whose model value is still the run's start input (set from the same source)
        # is shown but not counted, as in the backtest
        start_input = c.start_is_input and bool(
            np.nanmedian(np.all(series[:, : i + 1] == series[:, :1], axis=1)) >= 0.5)
        label = f"{target.row.date.isoformat()} {c.label}: {target.row.subject}"
        if target.best is not target.row:
            label += f" (best so far: {target.best.subject})"
        if not c.counted:
            label += " [loose, not counted]"
        elif start_input:
            label += " [start input, not counted]"
        out.append(rf.BacktestRow(label, float(target.best.value), float(target.low),
                                  float(target.high), _weighted_triplet(values, weighted),
                                  _weighted_triplet(values, flat),
                                  c.counted and not start_input))
    return out


def metr_points() -> list[tuple[float, float, float, float]]:
    """METR's 50% horizons (year, minutes, low, high) from data/observations.csv."""
    from ixsim.analysis.observations import decimal_year
    from ixsim.sim.sources import observations

    return [(decimal_year(o.date), o.value, o.low if o.low is not None else o.value,
             o.high if o.high is not None else o.value)
            for o in observations()
            if o.quantity == "metr_p50_horizon" and o.value is not None]


def _fans(bands: Callable[[str], np.ndarray], names: Sequence[str]) -> dict[str, rf.Fan]:
    out = {}
    for name in names:
        b = bands(name)
        out[name] = rf.Fan(b[0], b[1], b[2])
    return out


def _p_table(by_year: dict[str, dict[str, float]], prior: dict[str, dict[str, float]] | None,
             interval: str) -> Table:
    headers = ("by the end of", interval) + (
        ("priors alone",) if prior is not None else ())
    rows = []
    for year in SHOWN_YEARS:
        p = by_year.get(str(year))
        if p is None:
            continue
        cells = (str(year), _pct(p["p"], p["low"], p["high"]))
        if prior is not None:
            q = prior[str(year)]
            cells += (_pct(q["p"], q["low"], q["high"]),)
        rows.append(cells)
    return Table(headers, tuple(rows), title="P(an AI trains its successor autonomously)",
                 note="MC: Monte Carlo. 'Priors alone': every draw weighted equally.")


def scenario_report(ens: Ensemble, *, draws: int, seed: int, overrides: Sequence[str] = (),
                    date: str | None = None, version: str = "") -> Report:
    """The report of one scenario's ensemble (``run_ensemble(scenario, draws, seed)``)."""
    from ixsim.analysis.forecast_run import summarise

    years = sorted(set(SHOWN_YEARS) | set(rf.MARK_YEARS))
    doc = summarise(ensemble_rows(ens), years)
    weights = ens.weights(True)
    end = ens.end_year
    start = float(ens.times[0]) if ens.times.size else end - 1.0
    successor = ens.headline(SUCCESSOR)
    q = doc["quantiles"][SUCCESSOR]
    q25, q50, q75 = (fc.weighted_quantiles(successor, weights, (0.25, 0.5, 0.75)).values()
                     if weights.sum() > 0 else (math.nan,) * 3)

    p_table = _p_table(doc["p_successor_by_year"], doc["p_successor_by_year_prior"],
                       "weighted (95% MC interval)")
    rows = [("AI trains its successor autonomously",
             _value(q["q50"], end, True), f"{_value(q['q10'], end, True)} to "
                                          f"{_value(q['q90'], end, True)}")]
    for key, label, is_date in OTHER_HEADLINES:
        lo, mid, hi = _quantiles(ens.headline(key), weights, censored=is_date)
        rows.append((label, _value(mid, end, is_date),
                     f"{_value(lo, end, is_date)} to {_value(hi, end, is_date)}"))
    incident = doc["p_major_incident_before_successor"]
    major = np.array([bool(s and s["major_incident_before_successor"]) for s in ens.summaries],
                     dtype=float)
    prior_incident = fc.weighted_probability(major, ens.weights(False))
    incident_table = Table(
        ("", "weighted (95% MC interval)", "priors alone"),
        (("a major incident before successor training",
          _pct(incident["p"], incident["low"], incident["high"]),
          _pct(prior_incident.p, prior_incident.low, prior_incident.high)),),
        title="Warning shot: P(major incident before successor training)")
    quantile_table = Table(("outcome", "median", "10-90% of weighted draws"), tuple(rows),
                           title="Dates and other headlines (weighted)")
    ess = doc["effective_sample_size"]
    sample = Table(("", ""), (
        ("draws", str(doc["draws"])),
        ("effective sample size (Kish)", f"{ess:.1f}"),
        ("ruled out by the 2023-25 observations", str(doc["ruled_out"])),
        ("failed", str(doc["failed"])),
    ), title="Sample")

    figures = []
    fan_names = [p[0] for p in rf.FAN_PANELS if p[0] in ens.series]
    if ens.times.size and weights.sum() > 0:
        fans = _fans(lambda n: ens.bands(n, (0.1, 0.5, 0.9), weighted=True), fan_names)
        figures.append(ReportFigure(
            "fans", "Trajectories over the draws",
            "Each band holds the middle 80% of the weighted draws month by month and the line "
            "is their median; black dots are METR's measured horizons and the dashed red line "
            "is the median date of successor training.",
            rf.png_bytes(rf.fan_figure(ens.times, fans, observed=metr_points(),
                                       marker_year=q50 if math.isfinite(q50) else None,
                                       marker_label="median successor training"))))
    no_weight = (("Fan charts: no draw keeps any weight (every draw failed or was ruled out "
                  "by the observations).",) if not figures else ())
    marks = {y: doc["p_successor_by_year"][str(y)]["p"] for y in rf.MARK_YEARS}
    figures.append(ReportFigure(
        "successor", "When does an AI train its successor?",
        f"The left curve is the weighted chance that an AI has trained its successor by each "
        f"date (red dots: by the end of {', '.join(map(str, rf.MARK_YEARS))}; dotted and dashed "
        f"lines: quartiles and median), with others' published estimates in purple for "
        f"comparison; the right bars show the same draws by year, with the draws that do not "
        f"get there by {end:g} in grey.",
        rf.png_bytes(rf.successor_figure([rf.DateGroup(ens.scenario, successor, weights)],
                                         end, start, marks=marks, quartiles=(q25, q50, q75)))))
    figures.append(ReportFigure(
        "lead-time", "Early warning: how long after a trigger?",
        "For each warning sign, the bars show how many years pass between the sign and "
        "successor training in the draws where both happen (left of zero: the sign came too "
        "late); the median also counts draws with the sign but no successor training as 'at "
        "least', and the note gives the weight of the draws left out of the bars.",
        rf.png_bytes(rf.lead_time_figure(lead_times(ens)))))
    figures.append(ReportFigure(
        "backtest", "Calibration: the draws against the 2023-25 observations",
        "Each row is a published measurement (grey band: its 95% range, scaled to 1) and the "
        "model's values at that date over the draws, weighted by the fit (blue) and with "
        "every draw counted equally (grey): points near 1 agree with the data.",
        rf.png_bytes(rf.backtest_figure(backtest_rows(ens)))))

    inputs = (("ixsim version", version or "unknown"), ("scenario", ens.scenario),
              ("overrides (--set)", ", ".join(overrides) if overrides else "none"),
              ("draws", str(draws)), ("seed", str(seed)),
              ("parameters drawn", str(len(ens.names))),
              ("date", date or "not stamped (--date YYYY-MM-DD stamps one)"))
    p28 = doc["p_successor_by_year"]["2028"]
    summary = (f"{ens.scenario}: P(an AI trains its successor by the end of 2028) "
               f"{_pct(p28['p'], p28['low'], p28['high'])}; median "
               f"{_value(q['q50'], end, True)} (10-90%: {_value(q['q10'], end, True)} to "
               f"{_value(q['q90'], end, True)}); effective sample size {ess:.0f} of "
               f"{doc['draws']} draws.")
    method = (
        f"A draw is one set of values of the {len(ens.names)} contested parameters the scenario "
        "has, sampled from the uncertainty catalogue (data/priors.toml, docs/priors.md; each "
        "prior cites its CAL row or is marked as an assumption, correlated through a Gaussian "
        f"copula), with its own run seed. The scenario runs once per draw, monthly from "
        f"{start:g} to {end:g}. The draws and seeds are those of ixsim forecast with the same "
        "--draws and --seed.",
        "Each draw is weighted by its fit to the 2023-25 observations (the backtest's counted "
        "rows: METR's time horizons and frontier training compute): its likelihood relative to "
        f"the best draw, tempered by {fc.TEMPERATURE:g} (the rows scatter more than their "
        f"intervals allow), and zero for a draw with a row beyond {fc.IMPLAUSIBLE_Z:g} standard "
        "deviations (history matching). 'Priors alone' counts every draw equally. Probabilities "
        "carry 95% Monte Carlo intervals from the effective sample size (Kish); with few "
        "effective draws they are wide.",
        f"Censoring: a draw with no successor training by {end:g} counts as 'later', in every "
        "probability and quantile; it is never dropped. A quantile beyond every reached date "
        f"reads '> {end:g}'. Fan charts are quantiles taken month by month, not paths of single "
        "draws.",
        "Early-warning lead time is the time from a trigger (a 40-hour work-week horizon, 50% of "
        "AI R&D automated, the first major incident) to successor training in the same draw "
        "(analysis/early_warning.py); its median is Kaplan-Meier's, counting a draw where the "
        "trigger fired but successor training did not come by the end as 'at least' that long.",
        "Others' published estimates are shown for comparison and labelled as theirs; several "
        "are about related milestones (AGI, an automated coder), not the same event, and none "
        "is a target the model was fitted to.",
    )
    return Report(
        title=f"ixsim report: {ens.scenario}", summary=summary, inputs=inputs,
        headline=(p_table, quantile_table, incident_table, sample), figures=tuple(figures),
        method=method,
        left_out=no_weight + ("Sensitivity tornado: needs a sweep store sampled for Sobol or Morris "
                  "(ixsim report SWEEP_DIR).",
                  "Effective compute per lab: the ensemble keeps the frontier's series; the "
                  "trajectory.png of ixsim run draws each lab of one run."),
        sources=sources_rows())


# --- sweep store ----------------------------------------------------------------------------------

def _series_fans(directory: str, lever_set: Any) -> tuple[np.ndarray, dict[str, rf.Fan]]:
    """The store's series_quantiles (q10/q50/q90 per month) of one lever set, if it has them."""
    from pathlib import Path

    import pandas as pd

    path = Path(directory) / "series_quantiles.parquet"
    if not path.is_file():
        return np.zeros(0), {}
    table = pd.read_parquet(path)
    table = table[table["lever_set"] == lever_set]
    fans: dict[str, rf.Fan] = {}
    times = np.zeros(0)
    for name, group in table.groupby("series", sort=True):
        group = group.sort_values("time")
        times = group["time"].to_numpy(dtype=float)
        fans[str(name)] = rf.Fan(*(group[c].to_numpy(dtype=float) for c in ("q10", "q50", "q90")))
    return times, fans


def sweep_report(directory: str, manifest: dict[str, Any], runs: pd.DataFrame, *,
                 date: str | None = None, version: str = "") -> Report:
    """The report of a sweep store (``load_runs(directory)``): every successful run counts
    equally; Sobol or Morris indices where the store was sampled for them."""
    from ixsim.analysis import sensitivity as sa

    doc = sa.analyze(runs, manifest)
    groups = sa.lever_set_groups(runs, manifest)
    ok_all = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    ends_all = sa.end_years(ok_all, manifest)
    end = float(np.nanmax(ends_all)) if np.isfinite(ends_all).any() else math.nan
    first_start = _column_min(ok_all, "start_year")
    start = first_start if first_start is not None else end - 1.0

    def label(key: Any, levers: dict[str, Any]) -> str:
        text = ", ".join(f"{k}={v}" for k, v in levers.items())
        return f"lever set {key}" + (f" ({text})" if text else "")

    p_rows, q_rows, date_groups = [], [], []
    first_quartiles = None
    for key, levers, group in groups:
        ok = group[group["status"] == "ok"] if "status" in group.columns else group
        dates = sa._values(ok, SUCCESSOR) if SUCCESSOR in ok.columns else np.zeros(0)
        ends = sa.end_years(ok, manifest)
        name = label(key, levers) if len(groups) > 1 else manifest.get("base_scenario", "runs")
        if dates.size:
            by_year = {row["year"]: row for row in sa.p_by_year(dates, ends, SHOWN_YEARS)}
            p_rows.append((name, *(_pct(by_year[y]["p"], by_year[y]["low"], by_year[y]["high"])
                                  for y in SHOWN_YEARS)))
            weights = np.full(dates.size, 1.0 / dates.size)
            date_groups.append(rf.DateGroup(name, dates, weights))
            if first_quartiles is None:
                first_quartiles = tuple(fc.weighted_quantiles(dates, weights,
                                                              (0.25, 0.5, 0.75)).values())
    for entry in doc["distributions"]["by_lever_set"]:
        for metric, s in entry["metrics"].items():
            is_date = sa.is_date(metric)
            fmt = (lambda v, d=is_date: _value(v, end, d))
            q_rows.append(((label(entry["lever_set"], entry["levers"]) + ": "
                            if len(groups) > 1 else "") + metric,
                           str(s["n"]), fmt(s["q50"]), f"{fmt(s['q10'])} to {fmt(s['q90'])}"))
    headline = []
    if p_rows:
        headline.append(Table(("runs", *(f"by end {y}" for y in SHOWN_YEARS)), tuple(p_rows),
                              title="P(AI trains its successor autonomously), Wilson 95% "
                                    "intervals"))
    headline.append(Table(("outcome", "runs", "median", "10-90% of runs"), tuple(q_rows),
                          title="Outcomes over the runs (a date not reached counts as later)"))
    headline.append(Table(("", ""), (
        ("runs", str(doc["runs"]["total"])), ("ok", str(doc["runs"]["ok"])),
        ("failed", str(doc["runs"]["failed"])), ("sampler", str(manifest.get("sampler"))),
        ("samples", str(manifest.get("samples"))),
        ("seeds per sample", str(manifest.get("seeds_per_sample", 1)))), title="Sample"))

    figures, left_out = [], []
    times, fans = _series_fans(directory, groups[0][0] if groups else 0)
    fans = {k: v for k, v in fans.items() if k in {p[0] for p in rf.FAN_PANELS}}
    if fans and times.size:
        figures.append(ReportFigure(
            "fans", "Trajectories over the runs",
            "Each band holds the middle 80% of the runs month by month and the line is their "
            "median, for the series the sweep kept.",
            rf.png_bytes(rf.fan_figure(times, fans, observed=metr_points(),
                                       band_label="10-90% of runs"))))
    else:
        left_out.append("Fan charts: the store keeps no series quantiles of the fan-chart series "
                        "(set [outputs] series in the sweep spec).")
    if date_groups:
        marks = {}
        for y in rf.MARK_YEARS:
            first = date_groups[0]
            marks[y] = float(first.weights[np.isfinite(first.dates)
                                           & (first.dates < y + 1.0)].sum())
        figures.append(ReportFigure(
            "successor", "When does an AI train its successor?",
            "The left curves give the share of runs in which an AI has trained its successor by "
            "each date, with others' published estimates in purple for comparison; the right "
            f"bars show the same runs by year, with the runs that do not get there by {end:g} "
            "in grey.",
            rf.png_bytes(rf.successor_figure(date_groups, end, start, marks=marks,
                                             quartiles=first_quartiles))))
    block = doc.get("sensitivity")
    if block and block["by_lever_set"]:
        result = block["by_lever_set"][0]["outputs"].get(SUCCESSOR)
        if result and "error" not in result:
            method = block["method"]
            first_set = block["by_lever_set"][0]
            which = ("Sobol total index (whole bar, with bootstrap 95% error bars) and "
                     "first-order index (inner bar)" if method == "sobol"
                     else "Morris mu*, the mean size of a parameter's effect")
            figures.append(ReportFigure(
                "tornado", "Which parameters move the successor-training date?",
                f"Longer bars are parameters whose uncertainty moves the date more: {which}, "
                f"over {result['samples']} samples"
                + (f" of {label(first_set['lever_set'], first_set['levers'])}"
                   if len(groups) > 1 else "") + ".",
                rf.png_bytes(rf.tornado_figure(result["parameters"], method, SUCCESSOR))))
        else:
            why = result["error"] if result else "no successor_training_year column"
            left_out.append(f"Sensitivity tornado: not computed ({why}).")
    else:
        left_out.append(f"Sensitivity tornado: the store was sampled with "
                        f"{manifest.get('sampler')!r}; Sobol or Morris samples are needed.")
    left_out.append("Early-warning lead times and the backtest panel: they need each run's "
                    "monthly series (ixsim report SCENARIO computes them).")

    inputs = (("ixsim version", version or "unknown"),
              ("sweep store", str(directory)),
              ("base scenario", str(manifest.get("base_scenario"))),
              ("spec hash", str(manifest.get("spec_hash"))),
              ("store written by ixsim", str((manifest.get("versions") or {}).get("ixsim"))),
              ("seed", str(manifest.get("seed"))),
              ("parameters", str(len(manifest.get("parameters") or []))),
              ("date", date or "not stamped (--date YYYY-MM-DD stamps one)"))
    if p_rows:
        first = p_rows[0]
        summary = (f"{first[0]}: P(an AI trains its successor by the end of 2028) "
                   f"{first[SHOWN_YEARS.index(2028) + 1]} over {doc['runs']['ok']} runs.")
    else:
        summary = f"{doc['runs']['ok']} runs of {manifest.get('base_scenario')}."
    method = (
        f"Each run is one sample of the sweep's uncertain parameters "
        f"({manifest.get('sampler')} sampler, {manifest.get('samples')} base samples, "
        f"{manifest.get('seeds_per_sample', 1)} seed(s) each) applied to the base scenario; "
        "every successful run counts equally (no weighting by the observations: "
        "ixsim report SCENARIO weights its draws).",
        f"Censoring: a run with no successor training by {end:g} counts as 'later', in every "
        "probability and quantile; it is never dropped. Intervals on probabilities are Wilson "
        "95% score intervals.",
        "Sobol indices (Saltelli et al. 2010, SALib) split the variance of the date among the "
        "parameters: the total index counts a parameter's interactions, the first-order index "
        "only its own effect. Morris mu* (Campolongo et al. 2007) is a cheaper screening of "
        "the size of each parameter's effect. A censored date enters the indices at the run's "
        "end year.",
        "Others' published estimates are shown for comparison and labelled as theirs; several "
        "are about related milestones (AGI, an automated coder), not the same event.",
    )
    return Report(title=f"ixsim report: sweep {manifest.get('base_scenario')}",
                  summary=summary, inputs=inputs, headline=tuple(headline),
                  figures=tuple(figures), method=method, left_out=tuple(left_out),
                  sources=sources_rows())


def _column_min(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame.empty:
        return None
    values = np.asarray(frame[column], dtype=float)
    return float(np.nanmin(values)) if np.isfinite(values).any() else None


# --- HTML --------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       max-width: 76rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p.summary { font-size: 1.05rem; margin-top: .2rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.cards table { font-size: .86rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25rem .6rem; text-align: left;
         vertical-align: top; }
th { background: #f4f6f8; }
td.num { text-align: right; white-space: nowrap; }
table.inputs td:first-child { color: #555; }
table.sources, table.others { font-size: .78rem; }
table.sources td:first-child, table.others td:first-child { white-space: nowrap; }
table.sources { width: 100%; table-layout: fixed; }
table.sources th:nth-child(1) { width: 4.5rem; } table.sources th:nth-child(2) { width: 22%; }
table.sources th:nth-child(3) { width: 30%; }
table.sources td { overflow-wrap: anywhere; }
figure { margin: 1.2rem 0 1.8rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #333; margin-top: .3rem; max-width: 56rem; }
section > p, p.summary { max-width: 56rem; }
.others { color: #6a3d9a; }
.note { font-size: .85rem; color: #555; }
footer { margin-top: 3rem; font-size: .8rem; color: #666; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _numeric(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] in "<>-" and len(cell) > 1
                           or cell == "n/a")


def _table(table: Table, css_class: str = "", numeric: bool = True) -> list[str]:
    """A table; with ``numeric`` a cell that reads as a number is right-aligned and unwrapped."""
    out = []
    if table.title:
        out.append(f"<h3>{_e(table.title)}</h3>")
    out.append(f'<table class="{css_class}">' if css_class else "<table>")
    if any(table.headers):
        out.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in table.headers)
                   + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        cells = "".join((f'<td class="num">{_e(c)}</td>' if numeric and i and _numeric(c)
                         else f"<td>{_e(c)}</td>") for i, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="note">{_e(table.note)}</p>')
    return out


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(report: Report) -> str:
    """The report as one HTML document: inline CSS, images as data URIs, no external URL."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(report.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           "<header>", f"<h1>{_e(report.title)}</h1>",
           f'<p class="summary">{_e(report.summary)}</p>']
    out += _table(Table(("", ""), report.inputs), "inputs", numeric=False)
    out += ["</header>", '<section id="headline">', "<h2>Headline numbers</h2>",
            '<div class="cards">']
    for table in report.headline:
        out += ['<div class="card">', *_table(table), "</div>"]
    out += ["</div>", "</section>"]
    out += ['<section id="figures">', "<h2>Figures</h2>"]
    for fig in report.figures:
        out += [f'<figure id="fig-{_e(fig.name)}">', f"<h3>{_e(fig.title)}</h3>",
                f'<img src="{data_uri(fig.png)}" alt="{_e(fig.title)}">',
                f"<figcaption>{_e(fig.caption)}</figcaption>", "</figure>"]
    if report.left_out:
        out.append('<p class="note">Not shown: ' + " ".join(_e(x) for x in report.left_out)
                   + "</p>")
    out.append("</section>")
    out += ['<section id="others">', "<h2 class=\"others\">Others' published estimates "
            "(not ixsim's)</h2>",
            "<p>Quoted for comparison, with the row of docs/calibration.md that cites each; they "
            "are these forecasters' numbers, not outputs of this model.</p>"]
    out += _table(Table(("row", "who", "estimate"), tuple(report.references)), "others",
                  numeric=False)
    out.append("</section>")
    out += ['<section id="method">', "<h2>Method</h2>"]
    out += [f"<p>{_e(p)}</p>" for p in report.method]
    out.append("</section>")
    out += ['<section id="sources">', "<h2>Sources</h2>",
            "<p>Every number in a scenario cites one of these rows (data/calibration.toml, "
            "rendered in docs/calibration.md) or is marked as an assumption.</p>"]
    out += _table(Table(("row", "quantity", "value", "source"), tuple(report.sources)),
                  "sources", numeric=False)
    out.append("</section>")
    version = dict(report.inputs).get("ixsim version", "")
    out += [f"<footer>Made by ixsim {_e(version)} (ixsim report). The same inputs give the "
            "same file.</footer>", "</body>", "</html>", ""]
    return "\n".join(out)
