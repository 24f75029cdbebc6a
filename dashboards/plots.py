"""Charts of the model pages as plain data (``Chart``), drawn two ways from the same numbers:
live Bokeh figures whose data sources are updated in place (a re-run sends only new numbers to
the browser) and matplotlib figures for the PNG downloads.

A ``Chart`` holds lines, shaded bands, points (with optional error bars) and text labels; the
functions below turn a run (``RunResult``) or an ensemble (``Ensemble``) into charts. Nothing
here runs the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ixsim.analysis.ensemble import Ensemble
    from ixsim.sim.results import RunResult

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
MAX_LABS_SHOWN = 8  # as the run figure: the largest eight labs


@dataclass
class Line:
    label: str
    x: np.ndarray
    y: np.ndarray
    color: str
    dash: str = "solid"
    width: float = 2.0


@dataclass
class Band:
    label: str
    x: np.ndarray
    low: np.ndarray
    high: np.ndarray
    color: str
    alpha: float = 0.25


@dataclass
class Points:
    label: str
    x: Sequence[float]
    y: Sequence[Any]
    color: str
    marker: str = "circle"
    size: float = 8.0
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    hover: Sequence[str] | None = None


@dataclass
class Text:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    """One figure's data. ``categories``: the y axis is categorical (points' y are names);
    ``plain``: no axes (a network drawing)."""

    key: str
    title: str
    ylabel: str
    logy: bool = False
    xlabel: str = "year"
    lines: list[Line] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    points: list[Points] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    categories: list[str] | None = None
    plain: bool = False
    ylim: tuple[float, float] | None = None

    def frame(self) -> pd.DataFrame:
        """The chart's numbers in long format (one row per point), for the CSV download."""
        parts = []
        for line in self.lines:
            parts.append(pd.DataFrame({"series": line.label, "x": line.x, "y": line.y}))
        for band in self.bands:
            parts.append(pd.DataFrame({"series": band.label, "x": band.x, "low": band.low,
                                       "high": band.high}))
        for pts in self.points:
            df = pd.DataFrame({"series": pts.label, "x": list(pts.x), "y": list(pts.y)})
            if pts.low is not None:
                df["low"], df["high"] = list(pts.low), list(pts.high)
            if pts.hover is not None:
                df["detail"] = list(pts.hover)
            parts.append(df)
        for t in self.texts:
            parts.append(pd.DataFrame({"series": ["label"], "x": [t.x], "y": [t.y],
                                       "detail": [t.text]}))
        if not parts:
            return pd.DataFrame({"series": [], "x": [], "y": []})
        return pd.concat(parts, ignore_index=True)


def _positive(y: np.ndarray, logy: bool) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return np.where(y > 0, y, np.nan) if logy else y


# ---------------------------------------------------------------- one run


def run_charts(result: RunResult, observed: pd.DataFrame | None = None,
               initial_levels: dict[str, int] | None = None) -> dict[str, Chart]:
    """The explorer's charts of one run, by key. ``observed``: METR's points
    (``observed_horizons()``); ``initial_levels``: each jurisdiction's policy level at the
    start (``initial_policy_levels(scenario)``)."""
    frames = result.frames()
    world, labs, events = frames["world"], frames["labs"], frames["events"]
    t = world["time"].to_numpy(float)
    charts: dict[str, Chart] = {}

    c = Chart("compute", "Effective compute per lab", "effective FLOP (log)", logy=True)
    finals = (labs.groupby("lab", sort=False)["effective_flop"].max()
              .sort_values(ascending=False))
    for i, lab in enumerate(finals.index[:MAX_LABS_SHOWN]):
        rows = labs[labs["lab"] == lab]
        y = np.where(rows["active"].to_numpy(bool), rows["effective_flop"].to_numpy(float),
                     np.nan)
        c.lines.append(Line(str(lab), rows["time"].to_numpy(float), _positive(y, True),
                            PALETTE[i % len(PALETTE)]))
    charts[c.key] = c

    c = Chart("automation", "R&D automation and progress multiplier",
              "share automated / multiplier (log)", logy=True)
    c.lines.append(Line("R&D automated (share)", t, _positive(world["rnd_automation"], True),
                        PALETTE[0]))
    c.lines.append(Line("review automated (share)", t,
                        _positive(world["review_automation"], True), PALETTE[2], "dashed"))
    c.lines.append(Line("progress multiplier (x 2023 pace)", t,
                        _positive(world["rnd_progress_multiplier"], True), PALETTE[1]))
    charts[c.key] = c

    c = Chart("horizon", "Time horizon of the best AI system", "minutes (log)", logy=True)
    c.lines.append(Line("model: 50% time horizon", t,
                        _positive(world["frontier_horizon_minutes"], True), PALETTE[0]))
    if observed is not None and len(observed):
        c.points.append(Points("METR observed (95% interval)", observed["year"].tolist(),
                               observed["value"].tolist(), "#000000", "circle", 7,
                               observed["low"].tolist(), observed["high"].tolist(),
                               observed["subject"].tolist()))
    charts[c.key] = c

    c = Chart("safety", "Leader's safety share", "% of the leader's compute")
    c.lines.append(Line("safety share (%)", t,
                        100 * world["leader_safety_share"].to_numpy(float), PALETTE[2]))
    c.lines.append(Line("R&D decisions unreviewed (%)", t,
                        100 * world["unreviewed_share"].to_numpy(float), PALETTE[4], "dashed"))
    charts[c.key] = c

    c = Chart("incidents", "Incidents so far", "incidents (minor and major)")
    c.lines.append(Line("incidents so far", t, world["incidents"].to_numpy(float), PALETTE[3]))
    major = events[events["kind"] == "incident_major"]
    if len(major):
        idx = np.searchsorted(t, major["time"].to_numpy(float)).clip(0, len(t) - 1)
        c.points.append(Points("major incident", major["time"].tolist(),
                               world["incidents"].to_numpy(float)[idx].tolist(), PALETTE[3],
                               "triangle", 9, hover=major["detail"].astype(str).tolist()))
    charts[c.key] = c

    charts["policy"] = policy_chart(result, events, t, initial_levels or {})
    charts["events"] = events_chart(events)
    charts["network"] = network_chart(result.network)
    return charts


def initial_policy_levels(scenario: Any) -> dict[str, int]:
    """Each regulator's policy level at the start (0 none .. 5 pause)."""
    from ixsim.sim.schema.actors import POLICY_LEVELS

    return {r.jurisdiction: POLICY_LEVELS.index(r.initial_level) for r in scenario.regulators}


def policy_chart(result: RunResult, events: pd.DataFrame, t: np.ndarray,
                 initial_levels: dict[str, int]) -> Chart:
    """Strictest policy level in force in each jurisdiction (0 none .. 5 pause), as steps."""
    c = Chart("policy", "Policy stringency by jurisdiction",
              "level: 0 none, 1 reporting .. 5 pause", ylim=(-0.2, 5.4))
    pol = events[events["kind"].isin(["policy_change", "policy_repeal"])]
    regs = [n["name"] for n in result.network.get("nodes", []) if n.get("kind") == "regulator"]
    start = float(t[0]) if len(t) else 0.0
    end = float(t[-1]) if len(t) else 1.0
    for i, jur in enumerate(regs or sorted(pol["jurisdiction"].unique())):
        rows = pol[pol["jurisdiction"] == jur]
        level = float(initial_levels.get(jur, 0))
        xs, ys = [start], [level]
        for when, new in zip(rows["time"].to_numpy(float), rows["level"].to_numpy(float)):
            xs += [when, when]
            ys += [level, new]
            level = new
        xs.append(end)
        ys.append(level)
        offset = 0.04 * (i - len(regs) / 2)  # keep overlapping steps apart
        c.lines.append(Line(str(jur), np.array(xs), np.array(ys) + offset,
                            PALETTE[i % len(PALETTE)]))
    return c


EVENT_KINDS_SHOWN = ("rnd_automation", "successor_training", "software_oom", "incident_minor",
                     "incident_major", "policy_change", "policy_repeal", "treaty",
                     "relocation_started", "evasion", "evasion_detected", "export_controls",
                     "run_reported", "weights_adopted")


def events_chart(events: pd.DataFrame) -> Chart:
    """Events of the run on a timeline, one row per kind (training runs left out: too many)."""
    kinds = [k for k in EVENT_KINDS_SHOWN]
    c = Chart("events", "Events timeline", "", categories=[k.replace("_", " ") for k in kinds])
    for i, kind in enumerate(kinds):
        rows = events[events["kind"] == kind]
        if not len(rows):
            continue
        hover = [f"{lab} {det}".strip() for lab, det in zip(rows["lab"].astype(str),
                                                             rows["detail"].astype(str))]
        c.points.append(Points(kind.replace("_", " "), rows["time"].tolist(),
                               [kind.replace("_", " ")] * len(rows),
                               PALETTE[i % len(PALETTE)], "diamond", 9, hover=hover))
    return c


def network_chart(network: dict[str, Any]) -> Chart:
    """Labs and regulators on a circle: spillover (lab-lab), coordination (regulator-regulator)
    and membership (lab-regulator) edges."""
    c = Chart("network", "Who is linked to whom", "", xlabel="", plain=True,
              ylim=(-1.35, 1.35))
    nodes = network.get("nodes", [])
    labs = [n for n in nodes if n.get("kind") == "lab"]
    regs = [n for n in nodes if n.get("kind") != "lab"]
    pos: dict[str, tuple[float, float]] = {}
    for ring, group, radius in ((0, labs, 0.55), (1, regs, 1.0)):
        for i, node in enumerate(group):
            angle = 2 * math.pi * i / max(len(group), 1) + ring * 0.4
            pos[node["id"]] = (radius * math.cos(angle), radius * math.sin(angle))
    styles = {"spillover": (PALETTE[0], "solid"), "coordination": (PALETTE[1], "dashed"),
              "member": ("#aaaaaa", "dotted")}
    for edge in network.get("edges", []):
        a, b = pos.get(edge["source"]), pos.get(edge["target"])
        if a is None or b is None:
            continue
        color, dash = styles.get(edge.get("kind", ""), ("#888888", "solid"))
        label = edge.get("kind", "link")
        c.lines.append(Line(label, np.array([a[0], b[0]]), np.array([a[1], b[1]]), color, dash,
                            1.0 + min(float(edge.get("weight", 1.0)), 3.0)))
    for group, color, marker, label in ((labs, PALETTE[2], "circle", "lab"),
                                        (regs, PALETTE[3], "square", "regulator")):
        if group:
            c.points.append(Points(label, [pos[n["id"]][0] for n in group],
                                   [pos[n["id"]][1] for n in group], color, marker, 16,
                                   hover=[n["name"] for n in group]))
            c.texts.extend(Text(pos[n["id"]][0], pos[n["id"]][1] + 0.1, n["name"])
                           for n in group)
    return c


# ---------------------------------------------------------------- ensembles

ENSEMBLE_SERIES = (
    ("frontier_effective_flop", "Frontier effective compute", "effective FLOP (log)", True),
    ("rnd_automation", "Share of AI R&D automated", "share 0..1", False),
    ("frontier_horizon_minutes", "Time horizon of the best AI system", "minutes (log)", True),
    ("leader_safety_share", "Leader's safety share", "share of compute", False),
    ("max_policy_level", "Strictest policy in force", "level 0..5", False),
)


def fan_charts(ensembles: Sequence[tuple[str, Ensemble]],
               names: Sequence[tuple[str, str, str, bool]] = ENSEMBLE_SERIES) -> dict[str, Chart]:
    """10-90% bands and medians of each series, one colour per ensemble (overlaid)."""
    charts = {}
    for name, title, ylabel, logy in names:
        c = Chart(f"fan-{name}", title, ylabel, logy=logy)
        for i, (label, ens) in enumerate(ensembles):
            if ens.size == 0 or name not in ens.series:
                continue
            q = ens.bands(name)
            color = PALETTE[i % len(PALETTE)]
            c.bands.append(Band(f"{label}: 10-90%", ens.times, _positive(q[0], logy),
                                _positive(q[2], logy), color))
            c.lines.append(Line(f"{label}: median", ens.times, _positive(q[1], logy), color))
        charts[c.key] = c
    return charts


# ---------------------------------------------------------------- drawing: Bokeh


class BokehChart:
    """A live Bokeh figure for one chart key; ``update(chart)`` replaces its data in place."""

    def __init__(self, chart: Chart, height: int = 300):
        from bokeh.models import ColumnDataSource, FactorRange, HoverTool, Range1d
        from bokeh.plotting import figure

        self.key = chart.key
        kwargs: dict[str, Any] = {"height": height, "sizing_mode": "stretch_width",
                                  "title": chart.title, "tools": "pan,wheel_zoom,box_zoom,reset",
                                  "toolbar_location": "right"}
        if chart.logy:
            kwargs["y_axis_type"] = "log"
        if chart.categories is not None:
            kwargs["y_range"] = FactorRange(*chart.categories)
        elif chart.ylim is not None:
            kwargs["y_range"] = Range1d(*chart.ylim)
        if chart.plain:
            kwargs["x_range"] = Range1d(-1.5, 1.5)
            kwargs["match_aspect"] = True
        fig = figure(**kwargs)
        fig.xaxis.axis_label = chart.xlabel
        fig.yaxis.axis_label = chart.ylabel
        if chart.plain:
            fig.axis.visible = False
            fig.grid.visible = False
        # legend fields are named apart: Bokeh merges legend items that share a field name
        self.bands = ColumnDataSource(dict(xs=[], ys=[], color=[], alpha=[], band=[]),
                                      name=f"{chart.key}-bands")
        self.lines = ColumnDataSource(dict(xs=[], ys=[], color=[], dash=[], width=[], line=[]),
                                      name=f"{chart.key}-lines")
        self.points = ColumnDataSource(dict(x=[], y=[], color=[], marker=[], size=[], label=[],
                                            hover=[]), name=f"{chart.key}-points")
        self.bars = ColumnDataSource(dict(x=[], low=[], high=[], color=[]),
                                     name=f"{chart.key}-bars")
        self.texts = ColumnDataSource(dict(x=[], y=[], text=[]), name=f"{chart.key}-texts")
        fig.patches("xs", "ys", source=self.bands, fill_color="color", fill_alpha="alpha",
                    line_alpha=0, legend_field="band")
        fig.multi_line("xs", "ys", source=self.lines, line_color="color", line_dash="dash",
                       line_width="width", legend_field="line")
        fig.segment("x", "low", "x", "high", source=self.bars, line_color="color")
        glyph = fig.scatter("x", "y", source=self.points, color="color", marker="marker",
                            size="size", legend_field="label")
        fig.text("x", "y", "text", source=self.texts, text_align="center",
                 text_font_size="9pt")
        fig.add_tools(HoverTool(renderers=[glyph], tooltips=[("", "@label"), ("", "@hover"),
                                                             ("x", "@x{0.00}")]))
        fig.legend.location = "top_left"
        fig.legend.label_text_font_size = "8pt"
        fig.legend.background_fill_alpha = 0.6
        fig.legend.click_policy = "hide"  # click a legend entry to hide its series
        if chart.categories is not None:
            fig.legend.visible = False
        if chart.plain:
            fig.legend.location = "bottom_right"
        self.figure = fig
        self.update(chart)

    def update(self, chart: Chart) -> None:
        def clean(a: Any) -> list:
            return [None if (isinstance(v, float) and not math.isfinite(v)) else v
                    for v in np.asarray(a, dtype=float).tolist()]

        bands = dict(xs=[], ys=[], color=[], alpha=[], band=[])
        for b in chart.bands:
            ok = np.isfinite(b.low) & np.isfinite(b.high)
            x, lo, hi = np.asarray(b.x)[ok], np.asarray(b.low)[ok], np.asarray(b.high)[ok]
            bands["xs"].append(np.concatenate([x, x[::-1]]).tolist())
            bands["ys"].append(np.concatenate([lo, hi[::-1]]).tolist())
            bands["color"].append(b.color)
            bands["alpha"].append(b.alpha)
            bands["band"].append(b.label)
        lines = dict(xs=[], ys=[], color=[], dash=[], width=[], line=[])
        for ln in chart.lines:
            lines["xs"].append(clean(ln.x))
            lines["ys"].append(clean(ln.y))
            lines["color"].append(ln.color)
            lines["dash"].append(ln.dash)
            lines["width"].append(ln.width)
            lines["line"].append(ln.label)
        points = dict(x=[], y=[], color=[], marker=[], size=[], label=[], hover=[])
        bars = dict(x=[], low=[], high=[], color=[])
        for p in chart.points:
            n = len(p.x)
            points["x"] += list(map(float, p.x))
            points["y"] += list(p.y)
            points["color"] += [p.color] * n
            points["marker"] += [p.marker] * n
            points["size"] += [p.size] * n
            points["label"] += [p.label] * n
            points["hover"] += list(p.hover) if p.hover is not None else [""] * n
            if p.low is not None:
                for x, lo, hi in zip(p.x, p.low, p.high):
                    if lo is not None and hi is not None and not (
                            math.isnan(lo) or math.isnan(hi)):
                        bars["x"].append(float(x))
                        bars["low"].append(float(lo))
                        bars["high"].append(float(hi))
                        bars["color"].append(p.color)
        texts = dict(x=[t.x for t in chart.texts], y=[t.y for t in chart.texts],
                     text=[t.text for t in chart.texts])
        self.bands.data, self.lines.data, self.points.data = bands, lines, points
        self.bars.data, self.texts.data = bars, texts


# ---------------------------------------------------------------- drawing: matplotlib


def matplotlib_figure(chart: Chart):
    """The chart as a matplotlib Figure (no pyplot: safe in a server thread)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.2 if not chart.plain else 6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(chart.title)
    index = {name: i for i, name in enumerate(chart.categories or [])}
    for b in chart.bands:
        ax.fill_between(b.x, b.low, b.high, color=b.color, alpha=b.alpha, lw=0, label=b.label)
    mpl_dash = {"solid": "-", "dashed": "--", "dotted": ":"}
    for ln in chart.lines:
        ax.plot(ln.x, ln.y, color=ln.color, ls=mpl_dash.get(ln.dash, "-"),
                lw=ln.width * 0.75, label=ln.label or None)
    markers = {"circle": "o", "triangle": "^", "diamond": "D", "square": "s"}
    for p in chart.points:
        ys = [index[y] for y in p.y] if chart.categories is not None else list(p.y)
        if p.low is not None:
            lo = np.array([np.nan if v is None else v for v in p.low], dtype=float)
            hi = np.array([np.nan if v is None else v for v in p.high], dtype=float)
            y = np.array(ys, dtype=float)
            ax.errorbar(p.x, y, yerr=[np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)],
                        fmt="none", ecolor=p.color, lw=0.8)
        ax.scatter(p.x, ys, color=p.color, marker=markers.get(p.marker, "o"),
                   s=p.size ** 2 / 2, label=p.label, zorder=3)
    for t in chart.texts:
        ax.text(t.x, t.y, t.text, ha="center", fontsize=8)
    if chart.logy:
        ax.set_yscale("log")
    if chart.categories is not None:
        ax.set_yticks(range(len(chart.categories)), chart.categories, fontsize=8)
    if chart.ylim is not None:
        ax.set_ylim(*chart.ylim)
    if chart.plain:
        ax.set_axis_off()
        ax.set_xlim(-1.5, 1.5)
    else:
        ax.set_xlabel(chart.xlabel)
        ax.set_ylabel(chart.ylabel)
        ax.grid(alpha=0.3)
    if chart.categories is None:
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))  # one entry per label (network edges repeat)
        if unique:
            ax.legend(unique.values(), unique.keys(), fontsize=7, loc="best")
    return fig


def observed_horizons() -> pd.DataFrame:
    """METR's published 50% time horizons (data/observations.csv): year, value, low, high,
    subject."""
    from ixsim.analysis.observations import decimal_year
    from ixsim.sim.sources import observations

    rows = [o for o in observations() if o.quantity == "metr_p50_horizon" and o.value]
    return pd.DataFrame({"year": [decimal_year(o.date) for o in rows],
                         "value": [o.value for o in rows],
                         "low": [o.low if o.low is not None else math.nan for o in rows],
                         "high": [o.high if o.high is not None else math.nan for o in rows],
                         "subject": [o.subject for o in rows]})
