"""Typed scenario schema (pydantic), TOML loading, ``--set`` overrides and one-line errors.

Every number has a range, units and a source: a CALIBRATION.md row (``CAL-2``) or an
``assumption`` with its reason. ``ixsim params`` renders this metadata as the parameter table.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator, model_validator)

MAX_SCENARIO_BYTES = 1_000_000  # refuse files over 1 MB: scenarios are hand-written, never that big


class ScenarioError(Exception):
    """A problem with a scenario file or override, rendered as one line per problem."""

    def __init__(self, source: str, problems: list[tuple[str, str, Any]]):
        self.source = source
        self.problems = problems  # (dotted path or "", message, offending value or _NO_VALUE)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for path, message, got in self.problems:
            where = f"{self.source}: {path}: " if path else f"{self.source}: "
            tail = "" if got is _NO_VALUE else f" (got {_show(got)})"
            out.append(f"error: {where}{message}{tail}")
        return out


_NO_VALUE = object()


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def P(default: Any, lo: float, hi: float, units: str, *, source: str = "", assumption: str = "",
      description: str = "") -> Any:
    """A scenario number: default, inclusive range, units and its source row or assumption."""
    if not (source or assumption):
        raise ValueError("every scenario number needs a source row or an assumption")
    return Field(
        default,
        ge=lo,
        le=hi,
        description=description,
        json_schema_extra={"units": units, "source": source, "assumption": assumption},
    )


class Strict(BaseModel):
    """Base for every scenario section: unknown keys and NaN/inf are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Meta(Strict):
    name: str = Field("unnamed", min_length=1, max_length=120, description="scenario name")
    description: str = Field("", max_length=4000, description="what the scenario represents")
    start_year: float = P(2023.0, 2000.0, 2100.0, "year", source="CAL-4b",
                          description="start of the run; 2023.0 is the documented GPT-4 state")
    end_year: float = P(2045.0, 2000.5, 2200.0, "year",
                        assumption="long enough for the slow scenarios to finish their takeoff",
                        description="end of the run")
    steps_per_year: int = P(12, 1, 365, "steps/year",
                            assumption="agents decide monthly; the continuous state is sub-stepped",
                            description="agent decision steps per year")

    @field_validator("end_year")
    @classmethod
    def _end_after_start(cls, value: float, info: ValidationInfo) -> float:
        start = info.data.get("start_year")
        if start is not None and value <= start:
            raise ValueError(f"must be after start_year ({start})")
        return value


class Hardware(Strict):
    flop_per_s_per_usd_2023: float = P(
        1.2e10, 1e6, 1e16, "effective FLOP/s per USD of hardware",
        assumption="an H100 (~1e15 dense bf16 FLOP/s) at ~$33k with networking, used at ~40%",
        description="price-performance of ML hardware at start_year, utilisation included")
    price_performance_growth_per_year: float = P(
        1.391, 0.5, 10.0, "x/year", source="CAL-3b",
        description="growth of FLOP/s per USD; 2^(1/2.1 years)")
    price_performance_ceiling_oom: float = P(
        4.0, 0.0, 30.0, "OOM above start",
        assumption="physical limits of CMOS-like hardware, a few OOM above 2023",
        description="headroom of price-performance before it stops growing")
    utilisation_growth_per_year: float = P(
        1.408, 0.5, 10.0, "x/year", source="CAL-3c",
        description="utilisation/precision gains beyond hardware: 4.7 / (2.4 x 1.391)")
    utilisation_ceiling_oom: float = P(
        1.0, 0.0, 30.0, "OOM above start",
        assumption="lower precision and better utilisation give about 10x before saturating",
        description="headroom of the utilisation/precision factor")
    depreciation_per_year: float = P(
        0.25, 0.01, 2.0, "1/year", assumption="accelerators are written off over about four years",
        description="fraction of the compute stock retired per year")


class Investment(Strict):
    spend_growth_per_year: float = P(
        2.4, 0.5, 20.0, "x/year", source="CAL-4a",
        description="investor-driven growth of each lab's compute spending")
    gwp_usd_2023: float = P(1.05e14, 1e12, 1e17, "USD/year",
                            assumption="gross world product 2023 (IMF), order of magnitude only",
                            description="gross world product at start_year")
    gwp_growth_per_year: float = P(1.03, 0.5, 100.0, "x/year",
                                   assumption="recent real world growth, before AI",
                                   description="growth of gross world product without AI")
    max_spend_share_of_gwp: float = P(
        0.02, 1e-6, 0.5, "fraction", assumption="budgets are finite: no lab spends over 2% of GWP",
        description="cap on one lab's compute spending")
    value_capture_share: float = P(
        5e-4, 0.0, 1.0, "fraction",
        assumption="labs capture a small share of the value of the work they automate; gives "
                   "AI revenue of order $10B/year by 2025",
        description="share of automated economic output that becomes AI revenue")
    revenue_reinvestment_share: float = P(
        0.5, 0.0, 1.0, "fraction", assumption="half of revenue goes back into compute",
        description="share of revenue spent on compute once it exceeds investor funding")


class Software(Strict):
    returns_r: float = P(1.2, 0.05, 10.0, "doublings/doubling", source="CAL-7b",
                         description="returns to software R&D r = lambda / beta")
    beta: float = P(0.5, 0.01, 5.0, "-",
                    assumption="ideas-getting-harder exponent; lambda = r*beta ~ 0.6, contested",
                    description="exponent of S in d ln S/dt = rate (R/R0)^lambda S^-beta")
    rate_per_year: float = P(1.04, 0.0, 50.0, "1/year", source="CAL-2",
                             description="d ln S/dt of the reference lab at start: ln 2 / (8/12)")
    ceiling_oom: float = P(10.0, 0.5, 40.0, "OOM", source="CAL-7b",
                           description="headroom of the software level S above start (6-16 OOM)")
    labour_weight: float = P(0.5, 0.0, 1.0, "-",
                             assumption="equal weight of cognitive labour and experiment compute",
                             description="CES weight of cognitive labour in research input R")
    compute_rho: float = P(-0.5, -20.0, 0.9, "-",
                           assumption="labour and experiments are complements; the key contested "
                                      "compute-bottleneck parameter (elasticity 1/(1-rho) = 0.67)",
                           description="CES exponent between labour and experiment compute")


class Labour(Strict):
    researcher_growth_per_year: float = P(
        1.063, 0.5, 2.0, "x/year", source="CAL-7c",
        description="growth of the human talent pool: x18 researchers over ~47 years")
    inference_flop_per_s_per_researcher: float = P(
        1e13, 1e9, 1e20, "FLOP/s",
        assumption="2 x ~2.8e11 active parameters x ~20 tokens/s for a GPT-4-class model",
        description="inference compute that runs one AI researcher-equivalent at S = 1")
    task_rho: float = P(-1.0, -20.0, 0.9, "-",
                        assumption="R&D tasks are complements (elasticity 0.5)",
                        description="CES exponent across R&D tasks")
    review_ratio: float = P(10.0, 0.01, 1e6, "researcher-equivalents per reviewer",
                            assumption="one human can check the output of about ten AI researchers",
                            description="AI output one human reviewer can check while review is "
                                        "not automated")


class Capability(Strict):
    reference_training_flop: float = P(2.1e25, 1e18, 1e40, "FLOP", source="CAL-4b",
                                       description="training compute of the 2023 frontier system")
    reference_horizon_minutes: float = P(5.0, 0.01, 1e6, "minutes", source="CAL-5b",
                                         description="50% time horizon of that system")
    oom_per_horizon_doubling: float = P(
        0.656, 0.01, 10.0, "OOM of effective FLOP",
        source="CAL-1a, CAL-2, CAL-5a",
        description="effective compute per horizon doubling: log10(4.7 x 2.83)/yr x 7/12 yr")
    automation_reliability: float = P(
        0.2, 1e-4, 1.0, "fraction of the 50% horizon",
        assumption="a task is automated when it fits in about a fifth of the 50% horizon, where "
                   "success is reliable enough to hand over",
        description="task length automated, as a fraction of the 50% time horizon")
    economy_task_hours_min: float = P(0.02, 1e-5, 1e5, "hours",
                                      assumption="the shortest paid tasks take about a minute",
                                      description="shortest economic task (log-uniform spread)")
    economy_task_hours_max: float = P(2000.0, 1e-5, 1e6, "hours",
                                      assumption="the longest economic projects take about a "
                                                 "working year",
                                      description="longest economic task (log-uniform spread)")

    @field_validator("economy_task_hours_max")
    @classmethod
    def _economy_range(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("economy_task_hours_min")
        if low is not None and value <= low:
            raise ValueError(f"must exceed economy_task_hours_min ({low})")
        return value


class Scaling(Strict):
    """Chinchilla loss L(N, D) = E + A/N^alpha + B/D^beta; gives the frontier's loss in nats."""

    E: float = P(1.69, 0.0, 10.0, "nats/token", source="CAL-6a", description="irreducible loss")
    A: float = P(406.4, 1e-3, 1e6, "nats", source="CAL-6a", description="parameter term scale")
    B: float = P(410.7, 1e-3, 1e6, "nats", source="CAL-6a", description="data term scale")
    alpha: float = P(0.34, 0.01, 2.0, "-", source="CAL-6a", description="parameter exponent")
    beta: float = P(0.28, 0.01, 2.0, "-", source="CAL-6a", description="data exponent")


class TaskCategory(Strict):
    """An AI R&D task category; its tasks' lengths spread log-uniformly over [min, max] hours."""

    name: str = Field(..., min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    weight: float = P(1.0, 0.0, 1e3, "-", assumption="equal shares of R&D effort",
                      description="share of R&D effort (normalised over non-review categories)")
    task_hours_min: float = P(0.25, 1e-6, 1e6, "hours", assumption="per category, see scenario",
                              description="shortest task of the category")
    task_hours_max: float = P(100.0, 1e-6, 1e6, "hours", assumption="per category, see scenario",
                              description="longest task of the category")
    review: bool = Field(False, description="true for human review of AI-made changes")

    @field_validator("task_hours_max")
    @classmethod
    def _range(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("task_hours_min")
        if low is not None and value <= low:
            raise ValueError(f"must exceed task_hours_min ({low})")
        return value


def _task(name: str, lo: float, hi: float, review: bool = False) -> TaskCategory:
    return TaskCategory(name=name, task_hours_min=lo, task_hours_max=hi, review=review)


# assumption: task lengths per category; automation starts once the reliable horizon reaches the
# shortest tasks and ends at the longest. Review of AI-made changes is the longest tail.
DEFAULT_TASKS = [
    _task("tune_parameters", 0.25, 40.0),
    _task("optimize_inference", 0.5, 160.0),
    _task("evaluate_weaknesses", 0.5, 160.0),
    _task("select_training_methods", 2.0, 500.0),
    _task("improve_reasoning", 4.0, 1000.0),
    _task("design_architectures", 8.0, 2000.0),
    _task("human_review", 1.0, 2000.0, review=True),
]


class Shares(Strict):
    """How a lab splits its compute stock; the four shares sum to 1."""

    training: float = P(0.4, 0.0, 1.0, "fraction", assumption="frontier labs train on ~40%",
                        description="share of compute in training runs")
    experiments: float = P(0.3, 0.0, 1.0, "fraction",
                           assumption="research experiments take a large share",
                           description="share of compute in research experiments")
    internal_inference: float = P(0.05, 0.0, 1.0, "fraction",
                                  assumption="a small share runs internal AI researchers",
                                  description="share of compute running AI researchers")
    deployment: float = P(0.25, 0.0, 1.0, "fraction", assumption="serving customers",
                          description="share of compute serving external users")

    @model_validator(mode="after")
    def _sum_to_one(self) -> Shares:
        total = self.training + self.experiments + self.internal_inference + self.deployment
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1 (they sum to {total:.6g})")
        return self


class LabSpec(Strict):
    name: str = Field(..., min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    jurisdiction: str = Field("US", min_length=1, max_length=40)
    compute_flop_per_s: float = P(
        5e18, 0.0, 1e40, "FLOP/s (effective)",
        assumption="frontier lab: a run of run_months at the training share starting in 2023.0 "
                   "reproduces the CAL-4b frontier run",
        description="compute stock at start_year, utilisation included")
    researchers: float = P(1000.0, 0.0, 1e8, "researchers",
                           assumption="frontier lab research staff in 2023, order of magnitude",
                           description="human researchers at start_year")
    initial_system_flop: float = P(2.1e25, 1e15, 1e40, "FLOP", source="CAL-4b",
                                   description="training compute of the lab's deployed system")
    run_months: int = P(4, 1, 60, "months",
                        assumption="GPT-4 class runs took about three to four months",
                        description="length of one training run")
    shares: Shares = Field(default_factory=Shares)


class RegulatorSpec(Strict):
    jurisdiction: str = Field(..., min_length=1, max_length=40)
    reporting_threshold_flop: float = P(1e26, 1e18, 1e45, "FLOP", source="CAL-11c, CAL-11e",
                                        description="training runs above this are reported")


class Edge(Strict):
    source: str = Field(..., min_length=1)
    target: str = Field(..., min_length=1)
    weight: float = P(1.0, 0.0, 1e3, "-", assumption="edges weigh equally unless stated",
                      description="strength of the link")


class Networks(Strict):
    spillover: list[Edge] = Field(default_factory=list,
                                  description="undirected lab pairs that leak insights")
    spillover_rate_per_year: float = P(
        0.5, 0.0, 50.0, "1/year",
        assumption="a lagging lab closes half its log-software gap to a linked leader in ~1.4 yr",
        description="catch-up rate of ln S along spillover edges, per unit weight")


class Risk(Strict):
    hazard_per_year_2023: float = P(0.002, 0.0, 10.0, "1/year",
                                    assumption="serious incidents were rare in 2023",
                                    description="incident hazard of the frontier in 2023")
    hazard_growth_per_oom: float = P(1.5, 1.0, 100.0, "x per OOM",
                                     assumption="each OOM of effective compute adds 50% hazard",
                                     description="hazard multiplier per OOM of effective compute")
    oversight_oom_per_year: float = P(1.0, 0.01, 100.0, "OOM/year",
                                      assumption="oversight keeps pace with ~1 OOM of effective "
                                                 "compute per year (the 2023-26 pace)",
                                      description="pace of change oversight can absorb")
    pace_exponent: float = P(1.0, 0.0, 10.0, "-",
                             assumption="hazard rises in proportion to pace beyond oversight",
                             description="hazard elasticity to pace above oversight capacity")


def _default_labs() -> list[LabSpec]:
    return [LabSpec(name="frontier")]


def _default_regulators() -> list[RegulatorSpec]:
    return [RegulatorSpec(jurisdiction="US")]


class Scenario(Strict):
    meta: Meta = Field(default_factory=Meta)
    calibration: Literal["published", "measured"] = Field(
        "published", description="use published rates, or the measured training-loop rates")
    hardware: Hardware = Field(default_factory=Hardware)
    investment: Investment = Field(default_factory=Investment)
    software: Software = Field(default_factory=Software)
    labour: Labour = Field(default_factory=Labour)
    capability: Capability = Field(default_factory=Capability)
    scaling: Scaling = Field(default_factory=Scaling)
    tasks: list[TaskCategory] = Field(default_factory=lambda: list(DEFAULT_TASKS))
    labs: Annotated[list[LabSpec], Field(min_length=1, max_length=1000)] = Field(
        default_factory=_default_labs)
    regulators: list[RegulatorSpec] = Field(default_factory=_default_regulators)
    networks: Networks = Field(default_factory=Networks)
    risk: Risk = Field(default_factory=Risk)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError("tasks: names must be unique")
        if sum(1 for t in self.tasks if t.review) != 1:
            raise ValueError("tasks: exactly one category must have review = true")
        if sum(1 for t in self.tasks if not t.review) < 6:
            raise ValueError("tasks: at least six R&D task categories besides review are needed")
        if sum(t.weight for t in self.tasks if not t.review) <= 0:
            raise ValueError("tasks: the R&D categories' weights must not all be zero")
        labs = [lab.name for lab in self.labs]
        if len(set(labs)) != len(labs):
            raise ValueError("labs: names must be unique")
        jurisdictions = [r.jurisdiction for r in self.regulators]
        if len(set(jurisdictions)) != len(jurisdictions):
            raise ValueError("regulators: one regulator per jurisdiction")
        for i, edge in enumerate(self.networks.spillover):
            for end in (edge.source, edge.target):
                if end not in labs:
                    raise ValueError(f"networks.spillover[{i}]: unknown lab {end!r}")
        return self


# ---------------------------------------------------------------------------------------------
# Loading and overrides


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _problems_from(err: ValidationError) -> list[tuple[str, str, Any]]:
    problems = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if p not in ("function-after",))
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        elif e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "missing":
            msg = "required field is missing"
        msg = msg[0].lower() + msg[1:] if msg else msg
        got = e.get("input", _NO_VALUE)
        if e["type"] in ("missing",) or isinstance(got, (dict, list)):
            got = _NO_VALUE
        if e["type"] == "finite_number":
            msg = "must be a finite number"
        problems.append((_loc_to_path(loc), msg, got))
    return problems


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def _parse_path(path: str) -> list[str | int]:
    """Split ``labs[0].shares.training`` (or ``labs.0.shares.training``) into keys and indices."""
    parts: list[str | int] = []
    for raw in path.split("."):
        if raw.isdigit():
            parts.append(int(raw))
            continue
        m = _SEGMENT.match(raw)
        if not m:
            raise ValueError("not a dotted field path")
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def _parse_value(text: str) -> Any:
    """Parse an override value as a TOML literal (number, bool, string, array), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _schema_walk(model: type[BaseModel], keys: list[str | int]) -> None:
    """Raise ValueError if ``keys`` does not name a field of the schema."""
    current: Any = model
    for key in keys:
        if isinstance(key, int):
            args = getattr(current, "__args__", None)
            if getattr(current, "__origin__", None) is not list or not args:
                raise ValueError("is not a list")
            current = args[0]
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            raise ValueError(f"has no field {key!r}")
        field = current.model_fields.get(key)
        if field is None:
            raise ValueError("unknown field")
        current = field.annotation
        meta_args = getattr(current, "__metadata__", None)
        if meta_args is not None:  # Annotated[list[X], ...]
            current = current.__origin__


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str) -> dict[str, Any]:
    """Apply ``dotted.path=value`` overrides to raw scenario data; values are parsed as TOML."""
    data, problems = _apply_overrides(data, overrides)
    if problems:
        raise ScenarioError(source, problems)
    return data


def _apply_overrides(data: dict[str, Any],
                     overrides: list[str]) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    data = _deep_copy(data)
    problems: list[tuple[str, str, Any]] = []
    for item in overrides:
        if "=" not in item:
            problems.append(("--set", "expected dotted.path=value", item))
            continue
        path, text = item.split("=", 1)
        path = path.strip()
        try:
            keys = _parse_path(path)
            _schema_walk(Scenario, keys)
        except ValueError as exc:
            problems.append((path or "--set", str(exc), text))
            continue
        try:
            _assign(data, keys, _parse_value(text.strip()))
        except (IndexError, KeyError, TypeError) as exc:
            problems.append((path, f"cannot set: {exc}", text))
    return data, problems


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _assign(data: dict[str, Any], keys: list[str | int], value: Any) -> None:
    node: Any = data
    for i, key in enumerate(keys[:-1]):
        nxt = keys[i + 1]
        if isinstance(key, int):
            if key >= len(node):
                raise IndexError(f"index {key} is past the end of the list ({len(node)} items)")
            node = node[key]
            continue
        if key not in node:
            if isinstance(nxt, int):
                default = Scenario().model_dump(mode="python")
                node[key] = _deep_copy(_dig(default, keys[: i + 1]))
            else:
                node[key] = {}
        node = node[key]
    last = keys[-1]
    if isinstance(last, int):
        if last >= len(node):
            raise IndexError(f"index {last} is past the end of the list ({len(node)} items)")
    node[last] = value


def _dig(data: Any, keys: list[str | int]) -> Any:
    for key in keys:
        data = data[key]
    return data


def _check_finite(value: Any, path: str, problems: list[tuple[str, str, Any]]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        problems.append((path, "must be a finite number", value))
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}" if path else str(k), problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]", problems)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file with the checks of a careful loader: size, encoding, syntax, NaN/inf."""
    source = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ScenarioError(source, [("", "file not found", _NO_VALUE)]) from None
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot read file: {exc.strerror}", _NO_VALUE)]) from None
    if p.is_dir():
        raise ScenarioError(source, [("", "is a directory, not a scenario file", _NO_VALUE)])
    if size > MAX_SCENARIO_BYTES:
        raise ScenarioError(source, [("", f"file is too large ({size} bytes; the limit is "
                                          f"{MAX_SCENARIO_BYTES})", _NO_VALUE)])
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, [("", f"not UTF-8 text (byte {exc.start})", _NO_VALUE)]) from None
    if not text.strip():
        raise ScenarioError(source, [("", "file is empty", _NO_VALUE)])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [("", f"not valid TOML: {exc}", _NO_VALUE)]) from None
    problems: list[tuple[str, str, Any]] = []
    _check_finite(data, "", problems)
    if problems:
        raise ScenarioError(source, problems)
    return data


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate raw scenario data; raise ScenarioError with every problem found."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _problems_from(exc)) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load, override and validate a scenario file (the one loader of ixsim)."""
    source = str(path)
    data = read_toml(path)
    problems: list[tuple[str, str, Any]] = []
    if overrides:
        data, problems = _apply_overrides(data, overrides)
    try:
        scenario = parse_scenario(data, source)
    except ScenarioError as exc:
        raise ScenarioError(source, problems + exc.problems) from None
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def field_table(model: type[BaseModel] = Scenario, prefix: str = "") -> list[dict[str, Any]]:
    """One row per number of the schema: dotted name, units, range, default, source/assumption."""
    rows: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        ann = field.annotation
        origin = getattr(ann, "__origin__", None)
        if getattr(ann, "__metadata__", None) is not None:
            ann = ann.__origin__
            origin = getattr(ann, "__origin__", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows.extend(field_table(ann, dotted + "."))
            continue
        if origin is list:
            item = ann.__args__[0]
            if isinstance(item, type) and issubclass(item, BaseModel):
                rows.extend(field_table(item, dotted + "[]."))
            continue
        extra = field.json_schema_extra or {}
        if not isinstance(extra, dict) or "units" not in extra:
            continue
        lo = hi = None
        for m in field.metadata:
            lo = getattr(m, "ge", lo) if getattr(m, "ge", None) is not None else lo
            hi = getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi
        rows.append({
            "name": dotted, "units": extra["units"], "low": lo, "high": hi,
            "default": field.default, "source": extra.get("source", ""),
            "assumption": extra.get("assumption", ""), "description": field.description or "",
        })
    return rows
