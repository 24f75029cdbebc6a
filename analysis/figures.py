"""Static figures of a run (matplotlib, Agg): the 2x2 trajectory figure written by ``ixsim run``."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ixsim.analysis.files import staged  # noqa: E402
from ixsim.sim.results import RunResult  # noqa: E402

EVENT_ROWS = ("training_run_finished", "run_reported", "software_oom", "rnd_automation",
              "successor_training", "incident_minor", "incident_major", "policy_change",
              "policy_repeal", "relocation_started", "evasion_detected", "treaty")
HORIZON_MARKS = ((60.0, "1 hour"), (60.0 * 8, "1 workday"), (60.0 * 8 * 21, "1 work-month"),
                 (60.0 * 2000, "1 work-year"))


MAX_LABS_SHOWN = 8  # labs drawn one by one; the rest as one band, so the cost does not grow
LOG_RANGE = (1e-100, 1e100)  # log axes: values clipped (matplotlib ticks overflow on wider spans)


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


def trajectory_figure(result: RunResult, path: str | Path) -> None:
    """Effective compute per lab; R&D automation and progress multiplier; horizon; events.

    At most ``MAX_LABS_SHOWN`` labs are drawn one by one, the others as one grey band."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    try:
        _draw(result, axes, shown=_shown_labs(result))
        fig.suptitle(f"ixsim: {result.scenario} (seed {result.seed})", fontsize=12)
        with staged(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)


def _draw(result: RunResult, axes: np.ndarray, shown: list[int]) -> None:
    w = result.world
    t = w["time"]
    ax = axes[0, 0]
    effective = _lab_matrix(result, "effective_flop")
    for i in shown:
        ax.semilogy(t, _loggable(effective[:, i]), label=result.lab_names[i], lw=1.6)
    rest = [i for i in range(len(result.lab_names)) if i not in set(shown)]
    if rest:
        band = _loggable(effective[:, rest])
        with np.errstate(all="ignore"):
            low, high = np.nanmin(band, axis=1), np.nanmax(band, axis=1)
        ax.fill_between(t, low, high, color="grey", alpha=0.3, lw=0,
                        label=f"{len(rest)} other labs (range)")
    ax.set_title("Effective training compute of each lab's deployed system")
    ax.set_ylabel("FLOP (2023 software)")
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[0, 1]
    ax.plot(t, w["rnd_automation"], color="tab:blue", lw=1.8, label="AI R&D automated")
    ax.plot(t, w["review_automation"], color="tab:blue", lw=1.2, ls="--",
            label="human review automated")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("share automated (most automated lab)")
    ax.set_title("R&D automation and progress multiplier")
    ax2 = ax.twinx()
    ax2.semilogy(t, _loggable(w["rnd_progress_multiplier"]), color="tab:red", lw=1.4,
                 label="progress multiplier")
    ax2.set_ylabel("progress multiplier (x humans alone)", color="tab:red")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=8, loc="upper left")

    ax = axes[1, 0]
    ax.semilogy(t, _loggable(w["frontier_horizon_minutes"]), color="tab:green", lw=1.8)
    for minutes, label in HORIZON_MARKS:
        ax.axhline(minutes, color="grey", lw=0.6, ls=":")
        ax.text(t[0], minutes * 1.15, label, fontsize=7, color="grey")
    ax.set_title("50% time horizon of the frontier system")
    ax.set_ylabel("minutes")
    ax.set_xlabel("year")

    ax = axes[1, 1]
    ev = result.events
    colours = {result.lab_names[i]: f"C{k % 10}" for k, i in enumerate(shown)}
    for row, kind in enumerate(EVENT_ROWS):
        xs = [x for x, k in zip(ev["time"], ev["kind"]) if k == kind]
        cs = [colours.get(lab, "grey") for lab, k in zip(ev["lab"], ev["kind"]) if k == kind]
        ax.scatter(xs, np.full(len(xs), row), c=cs, s=14, marker="|" if row < 2 else "o")
    ax.set_yticks(range(len(EVENT_ROWS)), [k.replace("_", " ") for k in EVENT_ROWS], fontsize=8)
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(-0.7, len(EVENT_ROWS) - 0.3)
    ax.set_title("Events (colour = lab; grey = regulators and world)")
    ax.set_xlabel("year")
    for a in axes.flat:
        a.grid(alpha=0.3)
