"""Actor sections of a scenario: lab strategies, labs, regulators, export controls, networks, risk."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ixsim.sim.schema.base import Strict, param

POLICY_LEVELS = ("none", "reporting", "evaluations", "licensing", "compute_cap", "pause")
PolicyLevel = Literal["none", "reporting", "evaluations", "licensing", "compute_cap", "pause"]


class Shares(Strict):
    """How a lab splits the compute it does not spend on safety; the four shares sum to 1."""

    training: float = param(0.4, 0.0, 1.0, "fraction", assumption="frontier labs train on ~40%",
                            description="share of compute in training runs")
    experiments: float = param(0.3, 0.0, 1.0, "fraction",
                               assumption="research experiments take a large share",
                               description="share of compute in research experiments")
    internal_inference: float = param(0.05, 0.0, 1.0, "fraction",
                                      assumption="a small share runs internal AI researchers",
                                      description="share of compute running AI researchers")
    deployment: float = param(0.25, 0.0, 1.0, "fraction", assumption="serving customers",
                              description="share of compute serving external users")

    @model_validator(mode="wrap")
    @classmethod
    def _sum_to_one(cls, data: Any, handler: Any) -> Shares:
        shares = handler(data)
        total = shares.training + shares.experiments + shares.internal_inference + (
            shares.deployment)
        if abs(total - 1.0) > 1e-6:
            # say which shares were given and where the others came from: a table that gives
            # only training = 1.0 sums to 1.6 with the other three's defaults
            names = list(type(shares).model_fields)
            given = [n for n in names if isinstance(data, dict) and n in data
                     and n not in getattr(data, "inherited", ())]
            value = {n: str(round(getattr(shares, n), 6)) for n in names}
            if not isinstance(data, dict) or len(given) == len(names):
                parts = ", ".join(f"{n} {value[n]}" for n in names)
            else:
                origin = getattr(data, "origin", "the defaults")
                said = ", ".join(f"{n} {value[n]}" for n in given) + " given" if given else (
                    "none given")
                rest = ", ".join(f"{n} {value[n]}" for n in names if n not in given)
                parts = f"{said}; {rest} from {origin}"
            raise ValueError(f"must sum to 1 (got {total:.6g}: {parts})")
        return shares


class _MergedShares(dict):
    """A strategy's shares table with the keys it ``inherited`` from a built-in strategy named in
    ``origin``, for the message when they do not sum to 1."""

    def __init__(self, values: dict, inherited: set[str], origin: str):
        super().__init__(values)
        self.inherited, self.origin = inherited, origin


class Strategy(Strict):
    """A lab's strategy as data: how it splits compute, races, publishes and obeys rules."""

    shares: Shares = Field(default_factory=Shares)
    safety_share: float = param(0.05, 0.0, 0.9, "fraction of compute",
                                assumption="frontier labs say they spend a few percent on safety",
                                description="safety share of compute with no close rival")
    race_response: float = param(0.5, 0.0, 1.0, "fraction",
                                 assumption="a level race halves safety effort",
                                 description="share of safety effort cut when a rival is level")
    race_window_months: float = param(6.0, 0.1, 120.0, "months",
                                      assumption="rivals within half a year of progress feel close",
                                      description="a rival nearer than this many months is a race")
    run_months: int = param(
        4, 1, 60, "months", assumption="GPT-4-class runs took three to four months",
        description="length of one training run")
    autonomous_run_months: int = param(
        1, 1, 60, "months",
        assumption="an AI that trains its successor restarts monthly",
        description="run length once the lab's AI trains successors")
    openness: float = param(0.3, 0.0, 1.0, "fraction",
                            assumption="frontier labs publish some of what they find",
                            description="share of insights that leak to linked labs")
    releases_weights: bool = Field(
        False, description="publishes each system's weights: labs linked to it on the spillover "
                           "network deploy the released system when it beats their own")
    law_abidance_months: float = param(
        60.0, 0.0, 600.0, "months of progress",
        assumption="a listed lab would give up years of progress rather than break the law",
        description="cost a lab puts on breaking a rule, beyond expected penalties")


def _strategy(shares: tuple[float, float, float, float], **kw) -> Strategy:
    keys = ("training", "experiments", "internal_inference", "deployment")
    return Strategy(shares=Shares(**dict(zip(keys, shares))), **kw)


# assumption: four archetypes; numbers are orders of magnitude, each overridable per scenario
DEFAULT_STRATEGIES = {
    "frontier": _strategy((0.4, 0.3, 0.05, 0.25)),
    "rsi_startup": _strategy((0.3, 0.35, 0.3, 0.05), safety_share=0.02, race_response=0.8,
                             run_months=3, openness=0.05, law_abidance_months=6.0),
    "fast_follower": _strategy((0.45, 0.2, 0.05, 0.3), safety_share=0.03, race_response=0.6,
                               openness=0.3, law_abidance_months=24.0),
    "open_weights": _strategy((0.5, 0.25, 0.05, 0.2), safety_share=0.02, race_response=0.4,
                              openness=1.0, releases_weights=True, law_abidance_months=12.0),
}


def merge_strategies(raw: object) -> dict:
    """Built-in strategies, each updated field by field with the scenario's table of the name."""
    merged = {name: s.model_dump() for name, s in DEFAULT_STRATEGIES.items()}
    if not isinstance(raw, dict):
        return raw  # let validation report the wrong type
    for name, over in raw.items():
        base = merged.get(name, {})
        if isinstance(over, dict) and isinstance(base, dict):
            shares = over.get("shares")
            if isinstance(shares, dict) and base:
                inherited = set(base.get("shares", {})) - set(shares)
                shares = _MergedShares({**base.get("shares", {}), **shares}, inherited,
                                       f"the built-in {name} strategy")
            merged[name] = {**base, **over, **({"shares": shares} if shares is not None else {})}
        else:
            merged[name] = over
    return merged


class LabSpec(Strict):
    name: str = Field(..., min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    jurisdiction: str = Field("US", min_length=1, max_length=40)
    strategy: str = Field("frontier", min_length=1, description="name of a strategy")
    compute_flop_per_s: float = param(
        5e18, 1.0, 1e40, "FLOP/s (effective)",  # > 0: a lab's pace is the growth of ln(stock)
        assumption="frontier lab: a run of run_months at the training share starting in 2023.0 "
                   "reproduces the CAL-4b frontier run",
        description="compute stock at start_year (or at entry), utilisation included")
    researchers: float = param(1000.0, 0.0, 1e8, "researchers",
                               assumption="frontier lab research staff in 2023, order of magnitude",
                               description="human researchers at start_year")
    initial_system_flop: float = param(2.1e25, 1e15, 1e40, "FLOP", source="CAL-4b",
                                       description="training compute of the lab's deployed system")
    entry_year: float = param(0.0, 0.0, 2200.0, "year", assumption="0 means present from the start",
                              description="year a new lab enters (0: at start_year)")


class RegulatorSpec(Strict):
    """One regulator per jurisdiction: thresholds, a policy ladder with lags, enforcement."""

    jurisdiction: str = Field(..., min_length=1, max_length=40)
    reporting_threshold_flop: float = param(1e26, 1e18, 1e45, "FLOP", source="CAL-11c, CAL-11e",
                                            description="runs above this are reported and governed")
    initial_level: PolicyLevel = Field("reporting", description="policy in force at start")
    max_level: PolicyLevel = Field("pause", description="the strictest policy it can reach")
    lag_years: float = param(1.0, 0.01, 20.0, "years",
                             assumption="US executive action binds within about a year (CAL-11c)",
                             description="delay from a trigger to the next policy level")
    emergency_lag_years: float = param(0.25, 0.0, 20.0, "years",
                                       assumption="after a major incident rules come within months",
                                       description="delay of the next level after a major incident")
    repeal_per_year: float = param(0.1, 0.0, 5.0, "1/year",
                                   assumption="CAL-11c: an order was revoked after 15 months; "
                                              "repeal is rarer for statutes",
                                   description="rate at which the top policy level is repealed")
    trigger_concern: float = param(0.5, 0.0, 1.0, "concern index",
                                   assumption="regulators act once concern is widespread",
                                   description="public concern that triggers the next level")
    evaluation_months: float = param(1.0, 0.0, 24.0, "months",
                                     assumption="pre-deployment evaluations take about a month",
                                     description="delay a governed run incurs under evaluations")
    licensing_delay_months: float = param(6.0, 0.0, 60.0, "months", source="CAL-11f",
                                          description="approval delay of a licence (3-6 months)")
    compute_cap_flop: float = param(1e27, 1e18, 1e45, "FLOP",
                                    assumption="a cap one OOM above the 1e26 reporting line",
                                    description="largest run allowed under a compute cap")
    detection_probability: float = param(0.5, 0.0, 1.0, "probability",
                                         assumption="half of evading runs are caught",
                                         description="chance an evading run is detected (inert on "
                                                     "the baseline: its labs weigh the law heavily "
                                                     "and never evade, even undetected)")
    penalty_compute_share: float = param(
        0.3, 0.0, 1.0, "fraction of compute",
        assumption="fines and seizure cost about a third of compute",
        description="share of a caught lab's compute stock lost (inert on the baseline: no lab "
                    "evades there)")

    @field_validator("max_level")
    @classmethod
    def _max_not_below_initial(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("initial_level")
        if start is not None and POLICY_LEVELS.index(value) < POLICY_LEVELS.index(start):
            raise ValueError(f"must not be below initial_level ({start})")
        return value


class ExportControl(Strict):
    """Controls on compute sold into a jurisdiction: higher prices and a cap on its stock."""

    target: str = Field(..., min_length=1, description="jurisdiction under controls")
    start_year: float = param(2023.0, 1990.0, 2200.0, "year",
                              assumption="US controls on advanced chips to China from Oct 2022",
                              description="year the controls take effect")
    price_multiplier: float = param(2.0, 1.0, 1000.0, "x",
                                    assumption="smuggled or older chips cost about twice as much",
                                    description="price of compute in the target relative to world")
    stock_cap_flop_per_s: float = param(0.0, 0.0, 1e40, "FLOP/s",
                                        assumption="0 = no cap on any one lab's stock",
                                        description="largest compute stock a lab there can hold")


class Edge(Strict):
    source: str = Field(..., min_length=1)
    target: str = Field(..., min_length=1)
    weight: float = param(1.0, 0.0, 1e3, "-", assumption="edges weigh equally unless stated",
                          description="strength of the link")


class GraphSpec(Strict):
    """A network as explicit edges and/or a named networkx generator over the nodes."""

    edges: list[Edge] = Field(default_factory=list, description="explicit undirected edges")
    generator: Literal["none", "complete", "ring", "erdos_renyi", "watts_strogatz"] = Field(
        "none", description="networkx generator adding edges over all nodes")
    p: float = param(0.5, 0.0, 1.0, "probability", assumption="generator parameter",
                     description="edge (erdos_renyi) or rewiring (watts_strogatz) probability "
                                 "(inert on the baseline: it lists its edges, no generator)")
    k: int = param(2, 1, 100, "neighbours", assumption="generator parameter",
                   description="neighbours per node for watts_strogatz (inert on the baseline: "
                               "no generator)")
    seed: int = param(0, 0, 2**31 - 1, "-", assumption="fixed: the graph is part of the scenario",
                      description="generator seed (inert on the baseline: no generator)")
    weight: float = param(1.0, 0.0, 1e3, "-", assumption="generated edges weigh 1",
                          description="weight of generated edges (inert on the baseline: no "
                                      "generator)")


class Networks(Strict):
    spillover: GraphSpec = Field(default_factory=GraphSpec,
                                 description="labs whose insights leak to each other")
    spillover_rate_per_year: float = param(
        0.5, 0.0, 50.0, "1/year",
        assumption="a laggard closes half its log-software gap to an open leader in ~1.4 yr",
        description="catch-up rate of ln S along a spillover edge, per unit weight x openness")
    espionage: float = param(0.0, 0.0, 1.0, "fraction",
                             assumption="0 unless a scenario models theft",
                             description="leakage along spillover edges regardless of openness")
    coordination: GraphSpec = Field(default_factory=GraphSpec,
                                    description="regulators that copy each other's policies")
    diffusion_lag_factor: float = param(0.5, 0.0, 1.0, "fraction of lag",
                                        assumption="copying a neighbour's rule takes half the time",
                                        description="lag of a policy copied along the graph")
    treaty_compute_share: float = param(
        0.6, 0.0, 1.0, "fraction of world compute",
        assumption="a treaty needs the jurisdictions holding most "
                   "of the world's compute",
        description="compute share of a coalition that forms a treaty (inert on the baseline: "
                    "its regulators reach the treaty's rule together, covering all compute at "
                    "once, so no share between 0 and 1 changes when the treaty forms)")


class Risk(Strict):
    hazard_per_year_2023: float = param(0.05, 0.0, 10.0, "1/year",
                                        assumption="minor incidents of 2023-class systems were "
                                                   "occasional",
                                        description="incident hazard of a 2023 frontier system")
    hazard_growth_per_oom: float = param(
        1.3, 1.0, 100.0, "x per OOM",
        assumption="loss of interpretability: +30% hazard per OOM",
        description="hazard multiplier per OOM of effective compute")
    oversight_oom_per_year: float = param(
        1.0, 0.01, 100.0, "OOM/year",
        assumption="oversight keeps pace with ~1 OOM of effective "
                   "compute per year (the 2023-26 pace)",
        description="pace of change oversight can absorb")
    pace_exponent: float = param(1.0, 0.0, 10.0, "-",
                                 assumption="hazard rises in proportion to pace beyond oversight",
                                 description="hazard elasticity to pace above oversight capacity")
    safety_half_share: float = param(0.05, 1e-4, 1.0, "fraction of compute",
                                     assumption="safety work at 5% of compute gives 50% assurance",
                                     description="safety share giving alignment assurance 0.5")
    unreviewed_hazard: float = param(1.0, 0.0, 100.0, "-",
                                     assumption="hazard doubles once no decision is reviewed",
                                     description="extra hazard per unit share of unreviewed R&D")
    major_share: float = param(0.1, 0.0, 1.0, "fraction",
                               assumption="one incident in ten is major",
                               description="share of incidents that are major")
    concern_half_life_years: float = param(1.0, 0.01, 100.0, "years",
                                           assumption="public attention fades within a year or two",
                                           description="half-life of public concern")
    concern_per_minor: float = param(0.05, 0.0, 1.0, "concern index",
                                     assumption="a minor incident adds a little concern",
                                     description="concern added by a minor incident")
    concern_per_major: float = param(0.5, 0.0, 1.0, "concern index",
                                     assumption="a major incident alarms half the public",
                                     description="concern added by a major incident")
    concern_per_milestone: float = param(0.2, 0.0, 1.0, "concern index",
                                         assumption="half of AI research automated is news",
                                         description="concern added when 50% of R&D is automated")


class Responses(Strict):
    """What a lab weighs when a rule binds: comply, relocate or evade."""

    relocation_months: float = param(
        24.0, 0.0, 120.0, "months",
        assumption="a frontier-scale data centre abroad takes about two years to build and power",
        description="delay before a relocating lab trains again")
    relocation_compute_share: float = param(
        0.8, 0.0, 1.0, "fraction of compute",
        assumption="only what spare capacity abroad holds moves at once, about a fifth; the "
                   "rest is stranded and rebuilt at the usual spending pace",
        description="share of compute lost by relocating")
