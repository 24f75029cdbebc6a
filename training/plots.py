"""PNG figures of the three fits (matplotlib, Agg backend). Each function returns PNG bytes,
so that the command writes them atomically next to the JSON file."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from ixsim.training.fits import ScalingFit  # noqa: E402

_DPI = 120  # figures of about 50-100 kB that read well on screen


def _log_x(ax, ticks=None, label=None) -> None:
    """Log x axis; with ``ticks``, labelled there only (``label(value) -> str``), else on
    decades only (minor labels overlap at these ranges)."""
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    if ticks is not None:
        ax.set_xticks(list(ticks), [label(t) for t in ticks])


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    plt.close(fig)
    return buf.getvalue()


def scaling_plot(scaling: dict) -> bytes:
    """Validation loss against training tokens, one colour per model size, with the fit."""
    fit = ScalingFit(**{k: scaling[k]["value"] for k in ("E", "A", "B", "alpha", "beta")}, objective=0.0)
    points = scaling["points"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    sizes = sorted({p["N"] for p in points})
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(sizes)))
    d_all = np.array([p["D"] for p in points], float)
    d_line = np.geomspace(d_all.min() / 1.5, d_all.max() * 1.5, 100)
    for n, colour in zip(sizes, colours):
        mine = [p for p in points if p["N"] == n]
        ax.scatter([p["D"] for p in mine], [p["loss"] for p in mine], color=colour, label=f"N = {n:,}")
        ax.plot(d_line, fit.predict(np.full_like(d_line, n), d_line), color=colour, lw=1)
    _log_x(ax, sorted(set(d_all)), lambda d: f"{d / 1e6:.3g}M")
    ax.set_xlabel("training tokens D (bytes)")
    ax.set_ylabel("validation loss (nats/byte)")
    a, al, be = scaling["allocation"]["a"], scaling["alpha"], scaling["beta"]
    ax.set_title(f"L = E + A/N^α + B/D^β: α = {al['value']:.2f}, β = {be['value']:.2f}, "
                 f"N_opt ∝ C^{a['value']:.2f}", fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)


def recipes_plot(gains: list[dict], baseline: dict) -> bytes:
    """Left: the old recipe's loss-vs-compute curve and each recipe's loss at the reference
    compute. Right: compute-equivalent gains with 95% intervals."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    curve = baseline["old_curve"]
    flop = np.array(curve["flop"])
    loss = np.array(curve["val_loss_by_seed"])
    for seed_loss in loss:
        left.plot(flop, seed_loss, color="0.75", lw=0.8)
    left.plot(flop, loss.mean(axis=0), color="k", marker="o", ms=3, label="old recipe (mean of seeds)")
    for g in gains:
        left.scatter(g["train_flop"], np.mean(g["val_loss_by_seed"]), s=18, label=g["name"])
    _log_x(left)
    left.set_xlabel("training compute (FLOP, 6ND)")
    left.set_ylabel("validation loss (nats/byte)")
    left.legend(fontsize=7, loc="upper right", framealpha=0.9)
    names = [g["name"] for g in gains]
    y = np.arange(len(gains))
    value = np.array([g["gain"] for g in gains])
    err = np.array([[g["gain"] - g["low"] for g in gains], [g["high"] - g["gain"] for g in gains]])
    right.errorbar(value, y, xerr=np.clip(err, 0, None), fmt="o", color="C0", capsize=3)
    right.axvline(1.0, color="0.5", lw=0.8)
    right.set_yticks(y, names)
    lowest, highest = min(g["low"] for g in gains), max(g["high"] for g in gains)
    ticks = [2.0**k for k in range(-6, 7) if lowest / 2 <= 2.0**k <= highest * 2]
    _log_x(right, ticks, lambda t: f"{t:g}x")
    right.set_xlabel("compute-equivalent gain over the old recipe (x)")
    return _png(fig)


def returns_plot(returns: dict) -> bytes:
    """log2 efficiency against log2 research compute, the fitted slope r, published slopes."""
    points = returns["points"]
    x = np.log2([p["research_flop"] for p in points])
    y = np.log2([p["efficiency"] for p in points])
    lo = np.log2([max(p["low"], 1e-12) for p in points])
    hi = np.log2([max(p["high"], 1e-12) for p in points])
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    ax.errorbar(x - x[0], y, yerr=np.clip([y - lo, hi - y], 0, None), fmt="o", capsize=3,
                label="best recipe so far")
    slope, intercept = np.polyfit(x - x[0], y, 1) if len(x) > 1 else (0.0, y[0])
    xs = np.linspace(0, (x - x[0]).max(), 50)
    ax.plot(xs, intercept + slope * xs, color="C0",
            label=f"measured r = {returns['value']:.2f} ({returns['low']:.2f}-{returns['high']:.2f})")
    for (row, pub), style in zip(returns["published"].items(), ("--", ":")):
        ax.plot(xs, y[0] + pub["value"] * xs, ls=style, color="0.4", label=f"{row}: r = {pub['value']}")
    ax.set_xlabel("doublings of research compute (log2, from the first trial)")
    ax.set_ylabel("doublings of efficiency (log2 gain over old recipe)")
    ax.legend(fontsize=8)
    return _png(fig)
