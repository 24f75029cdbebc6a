"""Figures of ``ixsim report`` (matplotlib, Agg), one PNG each, for the HTML report and slides:
fan charts of the monthly series over the draws, the successor-training date (CDF and
histogram, with others' published estimates marked as theirs), early-warning lead times, a
tornado of sensitivity indices and the backtest against the dated observations.

Each ``*_figure`` function takes plain arrays and dicts (computed in ``analysis/report.py``) and
returns a Figure; ``png_bytes`` renders one to PNG bytes with no software or date in its
metadata, so the same data give the same bytes. The model never imports this module.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import (FixedLocator, FormatStrFormatter, FuncFormatter,  # noqa: E402
                               LogLocator, MaxNLocator, NullFormatter, PercentFormatter)

DPI = 110  # 8 x 4.5 in at 110 dpi: 880 x 495 px, legible on a slide and in the report
PNG_METADATA = {"Software": None}  # no matplotlib version in the file: same data, same bytes
BAND = "tab:blue"  # the model's bands
OBSERVED = "black"  # published measurements
OTHERS = "tab:purple"  # others' published estimates (never ixsim's)
PRIOR = "tab:grey"  # priors alone (every draw weighted equally)
MARK_YEARS = (2027, 2028, 2030)  # P(by the end of these years) marked on the CDF
RATIO_TICKS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)  # backtest panel: model / observed

# The fan-chart panels: (series, title, y label, scale, lowest value in view). Series are world
# columns (``ixsim.sim.results``); "log" panels use a log axis, "share" a 0-100% one. The
# multiplier falls to ~0 when software progress stops (its ceiling, a pause): below 0.1 it leaves
# the view rather than stretching the axis over 40 orders of magnitude.
FAN_PANELS = (
    ("frontier_effective_flop", "Frontier effective compute", "effective FLOP", "log", None),
    ("frontier_horizon_minutes", "Time horizon (50% success)", "minutes of human work", "log",
     None),
    ("rnd_automation", "Share of AI R&D automated", "share of tasks", "share", None),
    ("rnd_progress_multiplier", "R&D progress multiplier", "x the 2023 human rate", "log", 0.1),
    ("leader_safety_share", "Leader's safety share of compute", "share", "linear", 0.0),
    ("incidents", "Incidents so far (minor and major)", "count", "linear", 0.0),
)

# Others' estimates drawn on the successor-date CDF, keyed by their row in
# ``ixsim.analysis.forecast.REFERENCE_POINTS`` (tests check the keys). Positions read from the
# quoted estimates: (year, cumulative probability, short label) for a point, or (first year,
# last year, probability, label) for a range of medians. They are others' numbers for related
# milestones (AGI, automated coder), not ixsim's and not all the same event.
REFERENCE_MARKS: dict[str, tuple] = {
    "CAL-10a": (2029.0, 0.6, "Clark: 60%+ by end 2028"),
    "CAL-10c": ((2028.5, 0.5, "AI Futures: Kokotajlo"), (2030.5, 0.5, "AI Futures: Lifland")),
    "CAL-10e": (2028.0, 2034.0, 0.5, "AI 2027 forecasters: SC medians"),
    "CAL-10d": (2032.8, 0.5, "Kwa: >99% R&D automated"),
    "CAL-10b": (2033.5, 0.5, "Metaculus: AGI"),
    "CAL-8": (2043.0, 0.5, "CCF: AGI"),
}


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (closed afterwards); no software or time in the metadata."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI, metadata=PNG_METADATA)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _new(rows: int, cols: int, width: float = 8.0, height: float = 4.5
         ) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False,
                             layout="constrained")
    return fig, axes


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4",
            wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _year_axis(ax, first: float, last: float) -> None:
    """Whole years on the x axis, as 2030 rather than 2030.0."""
    ax.set_xlim(first, last)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))


def _positive(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


# --- fan charts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Fan:
    """One series' weighted quantile bands: ``low``/``mid``/``high`` (10/50/90%) per step."""

    low: np.ndarray
    mid: np.ndarray
    high: np.ndarray


def fan_figure(times: np.ndarray, fans: Mapping[str, Fan], *,
               observed: Sequence[tuple[float, float, float, float]] = (),
               marker_year: float | None = None, marker_label: str = "",
               band_label: str = "10-90% of draws") -> Figure:
    """A grid of fan charts, one panel per series of ``FAN_PANELS`` that ``fans`` holds (10-90%
    band, median line). ``observed``: (year, value, low, high) points drawn on the horizon
    panel (METR's measurements); ``marker_year``: a dashed vertical line on every panel (the
    median successor-training date)."""
    panels = [p for p in FAN_PANELS if p[0] in fans]
    cols = 2 if len(panels) > 1 else 1
    rows = max(1, math.ceil(len(panels) / cols))
    fig, axes = _new(rows, cols, 8.0 if cols == 2 else 5.0, 2.6 * rows + 0.4)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (name, title, ylabel, scale, floor) in zip(axes.flat, panels):
        fan = fans[name]
        low, mid, high = fan.low, fan.mid, fan.high
        if scale == "log":
            low, mid, high = _positive(low), _positive(mid), _positive(high)
            if not np.isfinite(mid).any():
                _empty(ax, "no positive values")
                ax.set_title(title, fontsize=10)
                continue
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(numticks=6))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.fill_between(times, low, high, color=BAND, alpha=0.25, linewidth=0,
                        label=band_label)
        ax.plot(times, mid, color=BAND, linewidth=1.6, label="median")
        if scale == "share":
            ax.set_ylim(-0.02, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        elif floor is not None:
            top = np.nanmax(high) if np.isfinite(high).any() else floor + 1.0
            ax.set_ylim(floor, top * (3.0 if scale == "log" else 1.05) if top > floor else None)
        if name == "leader_safety_share":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        if name == "frontier_horizon_minutes" and len(observed):
            obs = np.asarray(observed, dtype=float)
            shown = obs[(obs[:, 0] >= times[0]) & (obs[:, 0] <= times[-1])]
            if len(shown):
                ax.errorbar(shown[:, 0], shown[:, 1],
                            yerr=[shown[:, 1] - shown[:, 2], shown[:, 3] - shown[:, 1]],
                            fmt="o", color=OBSERVED, markersize=3, linewidth=0.8,
                            label="METR measured (95% CI)")
        if marker_year is not None and math.isfinite(marker_year):
            ax.axvline(marker_year, color="crimson", linestyle="--", linewidth=1,
                       label=marker_label or None)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=8)
        _year_axis(ax, times[0], times[-1])
        ax.grid(alpha=0.3, linewidth=0.5)
    handles, labels = {}, []
    for ax in axes.flat[:len(panels)]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = h
                labels.append(label)
    if labels:
        fig.legend([handles[label] for label in labels], labels, loc="outside lower center",
                   ncol=min(4, len(labels)), fontsize=8, frameon=False)
    return fig


# --- successor-training date ---------------------------------------------------------------

@dataclass(frozen=True)
class DateGroup:
    """The successor-training dates of one group of draws (NaN: not by ``end_year``) and
    their weights (summing to 1 over the group)."""

    label: str
    dates: np.ndarray
    weights: np.ndarray


def weighted_cdf(dates: np.ndarray, weights: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """P(date < t) at each t of ``grid`` under ``weights`` (a censored NaN date is never)."""
    dates = np.asarray(dates, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if total <= 0:
        return np.full(len(grid), math.nan)
    reached = np.isfinite(dates)
    order = np.argsort(dates[reached], kind="stable")
    sorted_dates = dates[reached][order]
    cum = np.concatenate([[0.0], np.cumsum(weights[reached][order])]) / total
    return cum[np.searchsorted(sorted_dates, grid, side="right")]


def _reference_strip(ax, first: float, last: float) -> None:
    """Others' estimates, one row each under the CDF (same years): a diamond for a median or a
    point, a bar for a range, labelled with the row and who; marked as not ixsim's."""
    items = []
    for row, mark in REFERENCE_MARKS.items():
        for item in (mark if isinstance(mark[0], tuple) else (mark,)):
            items.append((row, item))
    for y, (row, item) in enumerate(reversed(items)):
        if len(item) == 4:
            x0, x1, p, label = item
            ax.plot([x0, min(x1, last)], [y, y], color=OTHERS, linewidth=4, alpha=0.6,
                    solid_capstyle="butt")
            x = min(x1, last)
        else:
            x, p, label = item
            ax.plot([min(x, last)], [y], marker="D" if p == 0.5 else ">", color=OTHERS,
                    markersize=5, linestyle="none")
        text = f"{row} {label}" + (" (median)" if p == 0.5 and len(item) == 3 else "")
        right = x < first + 0.6 * (last - first)
        ax.annotate(text, (min(x, last), y), xytext=(6 if right else -6, 0),
                    textcoords="offset points", ha="left" if right else "right",
                    va="center", fontsize=6.5, color=OTHERS)
    ax.set_ylim(-0.7, len(items) - 0.3)
    ax.set_yticks([])
    ax.set_title("others' published estimates (not ixsim; related milestones)", fontsize=8,
                 color=OTHERS, loc="left")
    ax.grid(alpha=0.3, linewidth=0.5, axis="x")
    ax.tick_params(labelsize=8)


def successor_figure(groups: Sequence[DateGroup], end_year: float, start_year: float, *,
                     marks: Mapping[int, float] | None = None,
                     quartiles: tuple[float, float, float] | None = None,
                     references: bool = True) -> Figure:
    """Left: the CDF of the successor-training date per group, P(by the end of 2027/2028/2030)
    marked (``marks``: year -> probability, of the first group) and the quartiles
    (``quartiles``: 25/50/75%), with others' published estimates in a strip below, labelled
    as theirs. Right: the first group's weighted histogram by year, one bar for 'not by END'."""
    mosaic = [["cdf", "hist"], ["refs", "hist"]] if references else [["cdf", "hist"]]
    fig = plt.figure(figsize=(10.0, 5.6 if references else 4.4), layout="constrained")
    axes = fig.subplot_mosaic(mosaic, height_ratios=[3, 1.7] if references else [1],
                              width_ratios=[1.35, 1])
    left, right = axes["cdf"], axes["hist"]
    x_max = end_year + 0.5
    grid = np.linspace(start_year, end_year, 1 + int(round((end_year - start_year) * 48)))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, group in enumerate(groups):
        colour = BAND if i == 0 else colours[(i + 1) % len(colours)]
        left.step(grid, weighted_cdf(group.dates, group.weights, grid), where="post",
                  color=colour, linewidth=1.8, label=group.label)
    if quartiles is not None:
        for q, value, style in zip((0.25, 0.5, 0.75), quartiles, (":", "--", ":")):
            if math.isfinite(value):
                left.plot([value, value], [0, q], color=BAND, linestyle=style, linewidth=1)
                left.plot([start_year, value], [q, q], color=BAND, linestyle=style, linewidth=1)
                left.annotate(f"{'median' if q == 0.5 else f'{q:.0%}'} {value:.1f}",
                              (start_year, q), xytext=(3, 3), textcoords="offset points",
                              ha="left", fontsize=7, color=BAND)
    for year, p in (marks or {}).items():
        if math.isfinite(p) and year + 1 <= x_max:
            left.plot([year + 1.0], [p], marker="o", color="crimson", markersize=5,
                      linestyle="none")
            left.annotate(f"by end {year}: {p:.0%}", (year + 1.0, p), xytext=(7, -3),
                          textcoords="offset points", fontsize=7, color="crimson",
                          va="top")
    _year_axis(left, start_year, x_max)
    left.set_ylim(0, 1.0)
    left.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    left.set_ylabel("P(successor training by date)", fontsize=8)
    left.set_title("Cumulative probability", fontsize=10)
    left.legend(loc="lower right", fontsize=7, frameon=False)
    left.grid(alpha=0.3, linewidth=0.5)
    left.tick_params(labelsize=8)
    if references:
        refs = axes["refs"]
        refs.sharex(left)
        _reference_strip(refs, start_year, x_max)
        _year_axis(refs, start_year, x_max)

    first = groups[0] if groups else DateGroup("", np.zeros(0), np.zeros(0))
    years = np.arange(math.floor(start_year), math.ceil(end_year))
    reached = np.isfinite(first.dates)
    counts = np.array([first.weights[reached & (first.dates >= y) & (first.dates < y + 1)].sum()
                       for y in years])
    later = float(first.weights[~reached].sum())
    right.bar(years + 0.5, counts, width=0.9, color=BAND, alpha=0.7, label="in the year")
    right.bar([end_year + 1.0], [later], width=0.9, color=PRIOR, alpha=0.7,
              label=f"not by {end_year:g} ('later')")
    if quartiles is not None and math.isfinite(quartiles[1]):
        right.axvline(quartiles[1], color=BAND, linestyle="--", linewidth=1, label="median")
    _year_axis(right, start_year, end_year + 2.0)
    right.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    right.set_ylabel("share of weight", fontsize=8)
    right.set_title("By year" + (f" ({first.label})" if len(groups) > 1 else ""), fontsize=10)
    right.legend(loc="upper right", fontsize=7, frameon=False)
    right.grid(alpha=0.3, linewidth=0.5, axis="y")
    right.tick_params(labelsize=8)
    return fig


# --- early warning ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeadTimes:
    """Lead times (years from a trigger to successor training) of the draws where both
    happened, with their weights; ``shares`` says how the weight of the rest falls
    (e.g. {"no successor by the end": 0.2})."""

    trigger: str
    leads: np.ndarray
    weights: np.ndarray
    shares: Mapping[str, float]
    median: float | None = None  # drawn when given (e.g. Kaplan-Meier, counting censored draws)


def lead_time_figure(groups: Sequence[LeadTimes]) -> Figure:
    """One weighted histogram per trigger of the time from the trigger to successor training,
    the median marked; negative leads mean successor training came first."""
    fig, axes = _new(1, max(1, len(groups)), min(10.0, 3.6 * max(1, len(groups))), 3.6)
    for ax, group in zip(axes[0], groups):
        ax.set_title(group.trigger, fontsize=9)
        if group.leads.size == 0 or group.weights.sum() <= 0:
            _empty(ax, "no draw with both the trigger and successor training")
            continue
        lo = math.floor(min(0.0, float(np.min(group.leads))) * 2) / 2
        hi = math.ceil(float(np.max(group.leads)) * 2) / 2 + 0.5
        bins = np.arange(lo, hi + 0.25, 0.5)
        ax.hist(group.leads, bins=bins, weights=group.weights, color=BAND, alpha=0.75)
        median = group.median
        if median is None:
            order = np.argsort(group.leads, kind="stable")
            cum = np.cumsum(group.weights[order]) / group.weights.sum()
            median = float(group.leads[order][min(int(np.searchsorted(cum, 0.5)),
                                                   len(cum) - 1)])
        if math.isfinite(median):
            ax.axvline(median, color="crimson", linestyle="--", linewidth=1)
            ax.annotate(f"median {median:.1f} yr", (median, 1),
                        xycoords=("data", "axes fraction"), xytext=(4, -12),
                        textcoords="offset points", fontsize=7, color="crimson")
        elif math.isinf(median):
            ax.text(0.98, 0.97, "median: later than the runs show", transform=ax.transAxes,
                    ha="right", va="top", fontsize=7, color="crimson")
        ax.axvline(0, color="0.3", linewidth=0.6)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("years from trigger to successor training", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3, linewidth=0.5, axis="y")
        note = "\n".join(f"{k}: {v:.0%}" for k, v in group.shares.items() if v >= 0.005)
        if note:
            ax.text(0.98, 0.80, note, transform=ax.transAxes, ha="right", va="top",
                    fontsize=6.5, color="0.3", wrap=True)
    axes[0][0].set_ylabel("share of weight", fontsize=8)
    return fig


# --- sensitivity ------------------------------------------------------------------------------

def tornado_figure(rows: Sequence[Mapping[str, float | str]], method: str, metric: str,
                   limit: int = 14) -> Figure:
    """Horizontal bars, largest on top: Sobol total index ST (with S1 inside, 95% bootstrap
    error bars) or Morris mu* (with its interval), of ``metric``'s inputs."""
    key, conf, inner = (("ST", "ST_conf", "S1") if method == "sobol"
                        else ("mu_star", "mu_star_conf", None))
    good = [r for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    good = sorted(good, key=lambda r: (-float(r[key]), str(r["name"])))[:limit]
    fig, axes = _new(1, 1, 8.0, 0.32 * max(4, len(good)) + 1.2)
    ax = axes[0][0]
    if not good:
        _empty(ax, "no index could be computed")
        return fig
    good = good[::-1]
    y = np.arange(len(good))
    values = np.array([float(r[key]) for r in good])
    errors = np.array([float(r.get(conf) or 0.0) for r in good])
    # an index is >= 0: the lower error bar stops at 0 (SALib's bootstrap interval is symmetric)
    errors = np.vstack([np.minimum(errors, np.maximum(values, 0.0)), errors])
    ax.barh(y, values, xerr=errors, color=BAND, alpha=0.45,
            error_kw={"linewidth": 0.8, "zorder": 4},
            label="total index ST" if method == "sobol" else "mu* (mean |elementary effect|)")
    if inner is not None:
        ax.barh(y, [max(0.0, float(r[inner])) for r in good], height=0.4, color=BAND,
                label="first-order index S1")
    ax.set_yticks(y, [str(r["name"]) for r in good], fontsize=8)
    ax.axvline(0, color="0.3", linewidth=0.6)
    if method == "sobol":  # indices lie in 0..1; a wide bootstrap bar is cut at the frame
        ax.set_xlim(-0.02, max(1.0, float(values.max()) * 1.1))
    ax.set_xlabel(f"Sobol index of {metric}" if method == "sobol"
                  else f"Morris mu* of {metric} (change over an input's whole range)",
                  fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.grid(alpha=0.3, linewidth=0.5, axis="x")
    return fig


# --- backtest -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BacktestRow:
    """One dated observation against the draws: observed value and its band, and the model's
    10/50/90% at that date, weighted (``model``) and with the priors alone (``prior``)."""

    label: str  # says when the row is shown but not counted, and why
    observed: float
    low: float
    high: float
    model: tuple[float, float, float]
    prior: tuple[float, float, float]
    counted: bool


def backtest_figure(rows: Sequence[BacktestRow]) -> Figure:
    """A forest plot in ratio to the observed value (log axis): the observation's band in grey
    around 1, the model's 10-90% of draws (weighted in blue, priors alone in grey) and median."""
    fig, axes = _new(1, 1, 8.0, 0.34 * max(4, len(rows)) + 1.3)
    ax = axes[0][0]
    if not rows:
        _empty(ax, "no observation inside the run")
        return fig
    y = np.arange(len(rows))[::-1]
    for yi, row in zip(y, rows):
        ax.plot([row.low / row.observed, row.high / row.observed], [yi, yi], color="0.6",
                linewidth=6, alpha=0.5, solid_capstyle="butt")
        for values, colour, dy in ((row.prior, PRIOR, -0.18), (row.model, BAND, 0.18)):
            lo, mid, hi = (v / row.observed for v in values)
            if all(math.isfinite(v) and v > 0 for v in (lo, mid, hi)):
                ax.plot([lo, hi], [yi + dy, yi + dy], color=colour, linewidth=1.4)
                ax.plot([mid], [yi + dy], marker="o", color=colour, markersize=4)
    ax.axvline(1.0, color=OBSERVED, linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(RATIO_TICKS))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}x"))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    ax.set_yticks(y, [row.label for row in rows], fontsize=7)
    ax.set_xlabel("model / observed (1x = the measurement)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(alpha=0.3, linewidth=0.5, axis="x")
    ax.plot([], [], color="0.6", linewidth=6, alpha=0.5, label="observation's 95% band")
    ax.plot([], [], color=BAND, marker="o", markersize=4, label="model, weighted: 10-50-90%")
    ax.plot([], [], color=PRIOR, marker="o", markersize=4, label="model, priors alone")
    fig.legend(loc="outside lower center", ncol=3, fontsize=7, frameon=False)
    return fig
