"""Figures of the store pages, drawn with matplotlib's object API (``Figure``, never pyplot's
global state, so sessions on the server's threads do not share a figure). The same function
draws what the page shows and the PNG it downloads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["timeline_figure", "tornado_figure", "scatter_figure", "lead_time_figure",
           "message_figure", "COLOURS"]

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
QUARTILE_STYLE = {0.25: ":", 0.5: "--", 0.75: ":"}


def message_figure(text: str, size: tuple[float, float] = (8.0, 2.0)) -> Figure:
    """A figure that only says ``text`` (nothing to draw yet)."""
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color="#555", wrap=True)
    return fig


def _ecdf(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps of the share of runs reached by each date; runs never reached keep it below 1."""
    reached = np.sort(dates[np.isfinite(dates)])
    n = dates.size
    return reached, np.arange(1, reached.size + 1) / n if n else np.zeros(0)


def timeline_figure(groups: Sequence[tuple[str, np.ndarray, float, dict[float, float]]],
                    marks: Sequence[Any], metric_label: str) -> Figure:
    """Left: the cumulative share of runs with the date reached by each year, per lever set
    (``groups``: label, dates with NaN = not reached, the runs' end year, quartiles), with the
    median and quartiles marked and others' estimates (``marks``: year, p, row) as black
    diamonds. Right: the share of runs reaching the date in each quarter-year (runs never
    reaching it are counted in the legend), so sweeps of different sizes compare."""
    rows = math.ceil((len(groups) + 2) / 2)
    fig = Figure(figsize=(12.0, 4.4 + 0.22 * rows), layout="constrained")
    cdf, hist = fig.subplots(1, 2)
    finite = [d[np.isfinite(d)] for _, d, _, _ in groups]
    every = np.concatenate(finite) if finite else np.zeros(0)
    if every.size == 0:
        for ax in (cdf, hist):
            ax.text(0.5, 0.5, "no run reached this date", ha="center", va="center",
                    transform=ax.transAxes)
        return fig
    ends = [e for _, _, e, _ in groups if math.isfinite(e)]
    end = max(ends) if ends else float(every.max())
    low = math.floor(float(every.min()))
    bins = np.arange(low, math.ceil(end) + 0.25, 0.25)
    for i, (label, dates, _, quarts) in enumerate(groups):
        colour = COLOURS[i % len(COLOURS)]
        x, y = _ecdf(dates)
        missing = int((~np.isfinite(dates)).sum())
        shown_label = f"{label} ({missing} of {dates.size} not by {end:g})" if missing else label
        if x.size:
            cdf.step(np.r_[low, x, end], np.r_[0.0, y, y[-1]], where="post", color=colour,
                     lw=1.8, label=shown_label)
        for q, value in quarts.items():
            if math.isfinite(value):
                cdf.axvline(value, color=colour, ls=QUARTILE_STYLE[q], lw=1.0, alpha=0.8)
        reached = dates[np.isfinite(dates)]
        hist.hist(reached, bins=bins, histtype="step", lw=1.6, color=colour,
                  weights=np.full(reached.size, 1.0 / max(dates.size, 1)))
        median = quarts.get(0.5, math.nan)
        if math.isfinite(median):
            hist.axvline(median, color=colour, ls="--", lw=1.0)
    shown = [m for m in marks if low <= m.year <= max(end, low + 1)]
    for i, m in enumerate(shown):
        cdf.plot([m.year], [m.p], marker="D", color="black", ms=6, ls="none")
        cdf.annotate(m.row, (m.year, m.p), textcoords="offset points",
                     xytext=(4, 5 if i % 2 == 0 else -12), fontsize=8)
    if shown:
        cdf.plot([], [], marker="D", color="black", ls="none",
                 label="others' estimates (labelled by CAL row)")
    cdf.plot([], [], color="grey", ls="--", lw=1, label="median (dotted: quartiles)")
    for ax in (cdf, hist):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    cdf.set_xlim(low, end)
    cdf.set_ylim(0, 1)
    cdf.set_xlabel(f"{metric_label} (year)")
    cdf.set_ylabel("share of runs by then")
    cdf.grid(alpha=0.3)
    fig.legend(*cdf.get_legend_handles_labels(), loc="outside lower center", ncols=2,
               fontsize=8, frameon=False)
    hist.set_xlabel(f"{metric_label} (year)")
    hist.set_ylabel("share of runs per quarter-year")
    hist.grid(alpha=0.3)
    return fig


def tornado_figure(rows: Sequence[dict[str, Any]], value: str, conf: str, title: str) -> Figure:
    """Horizontal bars of ``value`` per parameter (largest on top) with ``conf`` error bars."""
    rows = sorted(rows, key=lambda r: -abs(r[value]) if math.isfinite(r[value]) else 0.0)
    fig = Figure(figsize=(8.0, 0.35 * len(rows) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    names = [r["name"] for r in rows][::-1]
    values = np.array([r[value] for r in rows][::-1], dtype=float)
    errors = np.array([r.get(conf, math.nan) for r in rows][::-1], dtype=float)
    ax.barh(names, values, xerr=np.where(np.isfinite(errors), errors, 0.0), color="#1f77b4",
            ecolor="#555", capsize=2)
    ax.axvline(0, color="black", lw=0.8)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() >= 0:  # indices are >= 0: a wide interval is clipped
        ax.set_xlim(-0.03 * max(float(finite.max()), 1e-12), None)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(value)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def scatter_figure(x: np.ndarray, y: np.ndarray, xlabel: str, ylabel: str,
                   hit: np.ndarray | None = None, censored: np.ndarray | None = None) -> Figure:
    """Each run as a point (highlighted where ``hit``); runs whose output is censored are drawn
    at the top edge as triangles."""
    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    colour = np.full(x.size, "#1f77b4", dtype=object)
    if hit is not None:
        colour[np.asarray(hit, dtype=bool)] = "#d62728"
    ax.scatter(x[ok], y[ok], s=12, c=list(colour[ok]), alpha=0.7, lw=0)
    if censored is not None and censored.any() and ok.any():
        top = float(np.nanmax(y[ok]))
        sel = censored & np.isfinite(x)
        ax.scatter(x[sel], np.full(sel.sum(), top), marker="^", s=18, c="#7f7f7f",
                   label=f"not reached by the end ({int(sel.sum())})")
        ax.legend(fontsize=8)
    if hit is not None:
        ax.scatter([], [], c="#d62728", s=12, label="meets the condition")
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig


def lead_time_figure(years: np.ndarray, status: np.ndarray, km: tuple[np.ndarray, np.ndarray],
                     quarts: dict[float, float], title: str) -> Figure:
    """Left: histogram of lead times (observed, and censored ones at their lower bound, stacked).
    Right: the Kaplan-Meier share of draws with at least that much lead time."""
    fig = Figure(figsize=(12.0, 4.4), layout="constrained")
    hist, surv = fig.subplots(1, 2)
    observed = years[(status == "observed") & np.isfinite(years)]
    censored = years[(status == "censored") & np.isfinite(years)]
    both = np.concatenate([observed, censored])
    if both.size:
        lo, hi = math.floor(both.min()), math.ceil(both.max())
        bins = np.arange(lo, hi + 0.25, 0.25) if hi > lo else np.array([lo - 0.5, lo + 0.5])
        hist.hist([observed, censored], bins=bins, stacked=True,
                  color=["#1f77b4", "#bbbbbb"],
                  label=[f"signal, then successor training ({observed.size})",
                         f"no successor by the end: at least this ({censored.size})"])
        hist.axvline(0, color="black", lw=0.8)
        hist.legend(fontsize=8)
    else:
        hist.text(0.5, 0.5, "the signal never fired", ha="center", va="center",
                  transform=hist.transAxes)
    hist.set_xlabel("lead time: years from the signal to successor training")
    hist.set_ylabel("draws")
    hist.set_title(title, fontsize=10)
    hist.grid(alpha=0.3)
    xs, ss = km
    if xs.size:
        surv.step(xs, ss, where="post", color="#1f77b4", lw=1.8)
        for q, value in quarts.items():
            if math.isfinite(value):
                surv.axvline(value, color="#d62728", ls="--" if q == 0.5 else ":", lw=1)
        surv.axvline(0, color="black", lw=0.8)
    surv.set_ylim(0, 1.02)
    surv.set_xlabel("lead time of at least ... years")
    surv.set_ylabel("share of draws where the signal fired")
    surv.set_title("Kaplan-Meier (censored draws count as 'at least')", fontsize=10)
    surv.grid(alpha=0.3)
    return fig
