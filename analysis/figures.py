"""Static figures of a run (matplotlib, Agg): the trajectory figure written by ``ixsim run``.

The figure is for readers who are not modellers: the headline dates are drawn on every panel
and named in the key, the model's horizon is shown against METR's measurements, a fixed "data
cutoff" line separates what was calibrated from what is projected, and events are in plain words.
Its bytes depend only on the run (no clock, no software version in the PNG)."""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import (FixedLocator, FuncFormatter, LogLocator, MaxNLocator,  # noqa: E402
                               NullFormatter, PercentFormatter)

from ixsim.analysis.files import staged  # noqa: E402
from ixsim.analysis.observations import decimal_year  # noqa: E402
from ixsim.sim.events import EventKind  # noqa: E402
from ixsim.sim.metrics import PAUSE_LEVEL, PROGRESS_MILESTONES, first_event_time  # noqa: E402
from ixsim.sim.results import RunResult  # noqa: E402
from ixsim.sim.schema.actors import POLICY_LEVELS  # noqa: E402
from ixsim.sim.sources import observations  # noqa: E402

HORIZON_MARKS = ((60.0, "1 hour"), (60.0 * 8, "1 workday"), (60.0 * 8 * 21, "1 work-month"),
                 (60.0 * 2000, "1 work-year"))
METR_QUANTITY = "metr_p50_horizon"  # the observations drawn on the horizon panel
# "Today" for the figure: the date of the last METR horizon measurement in data/observations.csv
# (o3), the end of the data the horizon calibration saw. Fixed, not the wall clock, so a figure is
# a pure function of (scenario, seed); tests/test_figures.py checks it against the data file.
DATA_CUTOFF = datetime.date(2025, 4, 16)

PANELS = [["key", "key"], ["compute", "horizon"], ["automation", "multiplier"],
          ["rules", "events"]]  # the figure's layout; "key" holds the key of the dated lines
MAX_LABS_SHOWN = 8  # labs drawn one by one; the rest as one band, so the cost does not grow
SPEED_VIEW = (0.5, 2.0)  # progress multipliers always in view on the speed panel
LOG_MARGIN = 1.3  # factor of headroom above and below the speed curve, so it never hides in a frame
LOG_RANGE = (1e-100, 1e100)  # log axes: values clipped (matplotlib ticks overflow on wider spans)
OTHER = "grey"  # colour of regulators, the world and the labs not drawn one by one

# headline dates: (summary-style label, line style); drawn on every time panel
HEADLINES = (("20% of AI R&D automated", ":"), ("50% of AI R&D automated", "-."),
             ("all AI R&D automated", "--"))
SUCCESSOR_COLOUR = "crimson"
CUTOFF_COLOUR = "black"

# the events panel: (row label, event kind, policy level or None), bottom row first
EVENT_ROWS = (
    ("AI trains its successor", EventKind.SUCCESSOR_TRAINING, None),
    ("major incident", EventKind.INCIDENT_MAJOR, None),
    ("lab moves abroad", EventKind.RELOCATION_STARTED, None),
    ("rule-breaking caught", EventKind.EVASION_DETECTED, None),
    ("pause ordered", EventKind.POLICY_CHANGE, PAUSE_LEVEL),
    ("treaty", EventKind.TREATY, None),
)
EVENT_MARKERS = {EventKind.SUCCESSOR_TRAINING: "*", EventKind.INCIDENT_MAJOR: "X",
                 EventKind.TREATY: "D", EventKind.POLICY_CHANGE: "s"}


def _loggable(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive or non-finite ones become gaps, the rest clipped."""
    out = np.clip(np.asarray(values, dtype=float), *LOG_RANGE)
    out[~(np.asarray(values) > 0) | ~np.isfinite(values)] = np.nan
    return out


def _lab_matrix(result: RunResult, column: str) -> np.ndarray:
    """``column`` as a (steps x labs) array: the labs table is step-major, labs in order."""
    n_labs = len(result.lab_names)
    return np.asarray(result.labs[column], dtype=float).reshape(-1, n_labs)


def _shown_labs(result: RunResult) -> list[int]:
    """The labs drawn one by one: the largest by final effective compute (ties by order)."""
    final = _lab_matrix(result, "effective_flop")[-1]
    order = sorted(range(len(final)), key=lambda i: (-final[i], i))
    return sorted(order[:MAX_LABS_SHOWN])


def month_year(year: float) -> str:
    """A decimal year as a reader says it: 2028.333 (1 May) -> "May 2028"."""
    whole = math.floor(year)
    month = min(11, int(math.floor((year - whole) * 12 + 1e-6)))  # slack for float sums of 1/12
    return f"{datetime.date(2000, month + 1, 1):%b} {whole}"


def headline_dates(result: RunResult) -> list[tuple[str, float | None]]:
    """(label, decimal year or None) of the automation milestones, then successor training."""
    ev = result.events
    dates = [(label, first_event_time(ev, EventKind.RND_AUTOMATION, value=share))
             for (label, _), share in zip(HEADLINES, (0.2, 0.5, 1.0))]
    return [*dates, ("AI trains its successor", first_event_time(ev, EventKind.SUCCESSOR_TRAINING))]


def _title(result: RunResult, subtitle: str | None) -> str:
    """Scenario and seed; the headline in words; the overrides (``subtitle`` or meta's)."""
    end = float(result.world["time"][-1])
    successor = headline_dates(result)[-1][1]
    lines = [f"ixsim: {result.scenario} (seed {result.seed})",
             f"AI trains its successor autonomously in {month_year(successor)}"
             if successor is not None else
             f"No successor training by {month_year(end)} (end of run)"]
    if subtitle is None and result.meta.get("overrides"):
        subtitle = "overrides: " + ", ".join(str(o) for o in result.meta["overrides"])
    if subtitle:
        lines.append(subtitle)
    return "\n".join(lines)


def trajectory_figure(result: RunResult, path: str | Path, *, subtitle: str | None = None) -> None:
    """Six panels over the years of the run: effective compute per lab; the frontier's time
    horizon with METR's measurements; share of AI R&D automated; the progress multiplier; the
    strictest rule in force; key events. ``subtitle`` (e.g. "overrides: software.returns_r=0.8")
    is printed under the title; without it, ``result.meta["overrides"]`` is shown when present.

    At most ``MAX_LABS_SHOWN`` labs are drawn one by one, the others as one grey band."""
    fig, axes = plt.subplot_mosaic(PANELS, figsize=(13, 13), height_ratios=(0.09, 1, 1, 1),
                                   layout="constrained")
    try:
        key = axes.pop("key")
        for ax in axes.values():  # one x axis (years) for every panel
            if ax is not axes["compute"]:
                ax.sharex(axes["compute"])
        _draw(result, axes, shown=_shown_labs(result))
        key.axis("off")
        key.legend(handles=_headline_key(result), loc="center", ncols=3, fontsize=9,
                   title="dates marked on every panel", title_fontsize=9, frameon=False)
        fig.suptitle(_title(result, subtitle), fontsize=12)
        with staged(path) as tmp:
            # no Software, no date: the PNG's bytes are a function of the run alone
            fig.savefig(tmp, dpi=100, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)


def _headline_key(result: RunResult) -> list[Line2D]:
    """The figure's key of the vertical lines; a date not reached says "not by" the end."""
    end = month_year(float(result.world["time"][-1]))
    cutoff = Line2D([], [], color=CUTOFF_COLOUR, lw=1.0,
                    label=f"data cutoff ({DATA_CUTOFF:%d %b %Y}): model projects after it")
    handles = [cutoff]
    styles = [*(style for _, style in HEADLINES), "-"]
    for (label, year), style in zip(headline_dates(result), styles):
        colour = SUCCESSOR_COLOUR if style == "-" else "dimgrey"
        text = f"{label}: {month_year(year)}" if year is not None else f"{label}: not by {end}"
        handles.append(Line2D([], [], color=colour, ls=style if year is not None else "none",
                              lw=1.6, label=text))
    return handles


def _draw(result: RunResult, axes: dict[str, plt.Axes], shown: list[int]) -> None:
    """Every panel; ``axes`` by name (compute, horizon, automation, multiplier, rules, events)."""
    colours = {result.lab_names[i]: f"C{k}" for k, i in enumerate(shown)}  # at most 8 of 10
    _compute_panel(result, axes["compute"], shown, colours)
    _horizon_panel(result, axes["horizon"])
    _automation_panel(result, axes["automation"])
    _multiplier_panel(result, axes["multiplier"])
    _rules_panel(result, axes["rules"])
    _events_panel(result, axes["events"], colours)
    t = result.world["time"]
    cutoff = decimal_year(DATA_CUTOFF)
    dates = headline_dates(result)
    for ax in axes.values():
        ax.grid(alpha=0.3)
        ax.set_xlim(t[0], t[-1])
        if t[0] <= cutoff <= t[-1]:
            ax.axvline(cutoff, color=CUTOFF_COLOUR, lw=1.0)
        for (_, year), (_, style) in zip(dates, HEADLINES):
            if year is not None:
                ax.axvline(year, color="dimgrey", lw=1.1, ls=style)
        if dates[-1][1] is not None:
            ax.axvline(dates[-1][1], color=SUCCESSOR_COLOUR, lw=1.6)
    for name in ("rules", "events"):
        axes[name].set_xlabel("year")
    for name in ("compute", "horizon", "automation", "multiplier"):
        axes[name].tick_params(axis="x", labelbottom=False)
    # whole years, in steps of 1, 2, 5 or 10 (shared by every panel)
    axes["events"].xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    axes["events"].xaxis.set_major_formatter("{x:.0f}")


def _compute_panel(result: RunResult, ax: plt.Axes, shown: list[int],
                   colours: dict[str, str]) -> None:
    t = result.world["time"]
    effective = _lab_matrix(result, "effective_flop")
    for i in shown:
        name = result.lab_names[i]
        ax.semilogy(t, _loggable(effective[:, i]), label=name, lw=1.6, color=colours[name])
    rest = [i for i in range(len(result.lab_names)) if i not in set(shown)]
    if rest:
        band = _loggable(effective[:, rest])
        with np.errstate(all="ignore"):
            low, high = np.nanmin(band, axis=1), np.nanmax(band, axis=1)
        ax.fill_between(t, low, high, color=OTHER, alpha=0.3, lw=0,
                        label=f"{len(rest)} other labs (range)")
    ax.set_title("Each lab's best AI system: effective training compute")
    ax.set_ylabel("FLOP, at 2023 software efficiency")
    ax.legend(fontsize=8, loc="lower right", title="labs (colours used throughout)",
              title_fontsize=8)


def _horizon_panel(result: RunResult, ax: plt.Axes) -> None:
    w = result.world
    t = w["time"]
    ax.semilogy(t, _loggable(w["frontier_horizon_minutes"]), color="tab:green", lw=1.8,
                label="model: best AI system")
    rows = [o for o in observations() if o.quantity == METR_QUANTITY and o.value is not None
            and t[0] <= decimal_year(o.date) <= t[-1]]
    if rows:
        x = np.array([decimal_year(o.date) for o in rows])
        y = np.array([o.value for o in rows])
        low = np.array([o.low if o.low is not None else o.value for o in rows])
        high = np.array([o.high if o.high is not None else o.value for o in rows])
        ax.errorbar(x, y, yerr=[y - low, high - y], fmt="o", ms=3.5, color="black", lw=1.0,
                    capsize=2, label="METR measured (95% interval)")
    for minutes, label in HORIZON_MARKS:
        ax.axhline(minutes, color=OTHER, lw=0.6, ls=":")
        ax.text(t[0], minutes, " " + label, fontsize=7, color="dimgrey", va="bottom",
                clip_on=True)
    ax.set_title("Length of tasks the best AI completes half the time")
    ax.set_ylabel("task length for a human expert, minutes")
    ax.legend(fontsize=8, loc="lower right")


def _automation_panel(result: RunResult, ax: plt.Axes) -> None:
    w = result.world
    t = w["time"]
    ax.plot(t, w["rnd_automation"], color="tab:blue", lw=1.8, label="AI R&D work automated")
    ax.plot(t, w["review_automation"], color="tab:purple", lw=1.2, ls="--",
            label="human review of AI changes automated")
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title("Share of AI research done by AI (most automated lab)")
    ax.set_ylabel("share automated")
    ax.legend(fontsize=8, loc="upper left")


def _multiplier_panel(result: RunResult, ax: plt.Axes) -> None:
    w = result.world
    t = w["time"]
    raw = np.asarray(w["rnd_progress_multiplier"], dtype=float)
    mult = _loggable(raw)
    ax.semilogy(t, mult, color="tab:red", lw=1.6, label="fastest lab")
    stalled = ~(raw > 0)
    if stalled.any():  # one artist for every stalled stretch, whatever their number
        ax.fill_between(t, 0, 1, where=stalled, transform=ax.get_xaxis_transform(),
                        color=OTHER, alpha=0.25, lw=0, step="mid", label="no software progress")
    finite = mult[np.isfinite(mult)]
    top = finite.max() if finite.size else 1.0
    # at least 0.5x..2x in view, so a run near the human pace reads as such, not as noise
    ax.set_ylim(min(finite.min(initial=1.0) / LOG_MARGIN, SPEED_VIEW[0]),
                max(top * LOG_MARGIN, SPEED_VIEW[1]))
    for m in (1, *PROGRESS_MILESTONES):
        if m <= top:
            ax.axhline(m, color=OTHER, lw=0.6, ls=":")
            ax.text(t[-1], m, f"{m}x ", fontsize=7, color="dimgrey", ha="right", va="bottom",
                    clip_on=True)
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_title("Speed of AI software progress (x the 2023 human-only pace)")
    ax.set_ylabel("progress multiplier (log scale)")
    ax.legend(fontsize=8, loc="upper left")


def _rules_panel(result: RunResult, ax: plt.Axes) -> None:
    w = result.world
    ax.step(w["time"], w["max_policy_level"], where="post", color="tab:brown", lw=1.6)
    ax.yaxis.set_major_locator(FixedLocator(range(len(POLICY_LEVELS))))
    ax.set_yticklabels([level.replace("_", " ") for level in POLICY_LEVELS], fontsize=8)
    ax.set_ylim(-0.3, len(POLICY_LEVELS) - 0.7)
    ax.set_title("Strictest rule in force in any jurisdiction")


def _events_panel(result: RunResult, ax: plt.Axes, colours: dict[str, str]) -> None:
    """One row per kind of key event; a lab's events in its colour, the others grey."""
    ev = result.events
    for row, (_, kind, level) in enumerate(EVENT_ROWS):
        hits = [j for j, (k, lv) in enumerate(zip(ev["kind"], ev["level"]))
                if k == kind and (level is None or lv == level)]
        xs = [ev["time"][j] for j in hits]
        cs = [colours.get(ev["lab"][j], OTHER) for j in hits]
        marker = EVENT_MARKERS.get(kind, "o")
        ax.scatter(xs, np.full(len(xs), row), c=cs, s=110 if marker == "*" else 45,
                   marker=marker, edgecolors="none", zorder=3)
    ax.set_yticks(range(len(EVENT_ROWS)), [label for label, _, _ in EVENT_ROWS], fontsize=9)
    ax.set_ylim(-0.7, len(EVENT_ROWS) - 0.3)
    ax.set_title("Key events (colour: lab; grey: governments and other labs)")
