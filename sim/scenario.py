"""The scenario: its typed schema (pydantic), TOML loading, ``--set`` overrides, one-line errors.

Every number has a range, units and a source: a CALIBRATION.md row (``CAL-2``) or an
``assumption`` with its reason. ``ixsim params`` renders this metadata as the parameter table.
The sections live in ``sim/schema/`` (world: time, hardware, ..., tasks; actors: strategies,
labs, regulators, networks, risk).
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, Field, PrivateAttr, StringConstraints, ValidationError,
                      model_validator)

from ixsim.sim.schema.actors import (DEFAULT_STRATEGIES, POLICY_LEVELS, ExportControl, LabSpec,
                               Networks, RegulatorSpec, Responses, Risk, Shares, Strategy,
                               merge_strategies)
from ixsim.sim.schema.base import P, Strict
from ixsim.sim.schema.world import (DEFAULT_TASKS, Capability, Hardware, Investment, Labour, Meta,
                              Scaling, Software, TaskCategory)

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_scenario", "apply_overrides",
           "field_table", "read_toml", "LabSpec", "RegulatorSpec", "Strategy", "Shares",
           "ExportControl", "POLICY_LEVELS", "P"]

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


def _default_labs() -> list[LabSpec]:
    return [LabSpec(name="frontier")]


def _regulator(jurisdiction: str, threshold: float, lag: float, repeal: float,
               initial: str = "reporting") -> RegulatorSpec:
    return RegulatorSpec(jurisdiction=jurisdiction, reporting_threshold_flop=threshold,
                         lag_years=lag, repeal_per_year=repeal, initial_level=initial)


def _default_regulators() -> list[RegulatorSpec]:
    return [
        _regulator("US", 1e26, 1.0, 0.3),  # CAL-11c: 1e26 reporting; revoked after 15 months
        _regulator("EU", 1e25, 4.3, 0.02),  # CAL-11a: 1e25; CAL-11b: ~4.3 years to obligations
        _regulator("CN", 1e18, 0.4, 0.05),  # CAL-11f: every public model filed, 3-6 months
        _regulator("UK", 1e26, 2.0, 0.1, initial="none"),  # assumption: voluntary regime
        _regulator("RoW", 1e26, 5.0, 0.1, initial="none"),  # assumption: slow followers
    ]


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
    strategies: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], Strategy] = (
        Field(default_factory=lambda: dict(DEFAULT_STRATEGIES),
              description="lab strategies by name: the built-in frontier, rsi_startup, "
                          "fast_follower and open_weights, updated field by field, plus any new"))
    labs: Annotated[list[LabSpec], Field(min_length=1, max_length=1000)] = Field(
        default_factory=_default_labs)
    regulators: list[RegulatorSpec] = Field(default_factory=_default_regulators)
    export_controls: list[ExportControl] = Field(default_factory=list)
    responses: Responses = Field(default_factory=Responses)
    networks: Networks = Field(default_factory=Networks)
    risk: Risk = Field(default_factory=Risk)
    # where the calibrated fields came from (published row or measured file); set by the loader
    _calibration_source: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def calibration_source(self) -> dict[str, str]:
        return dict(self._calibration_source)

    @model_validator(mode="before")
    @classmethod
    def _merge_strategies(cls, data: Any) -> Any:
        if isinstance(data, dict) and "strategies" in data:
            data = {**data, "strategies": merge_strategies(data["strategies"])}
        return data

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
        strategies = self.strategies
        for i, lab in enumerate(self.labs):
            if lab.strategy not in strategies:
                raise ValueError(f"labs[{i}].strategy: unknown strategy {lab.strategy!r} "
                                 f"(known: {', '.join(sorted(strategies))})")
        jurisdictions = [r.jurisdiction for r in self.regulators]
        if len(set(jurisdictions)) != len(jurisdictions):
            raise ValueError("regulators: one regulator per jurisdiction")
        known = set(jurisdictions) | {lab.jurisdiction for lab in self.labs}
        for i, ctl in enumerate(self.export_controls):
            if ctl.target not in known:
                raise ValueError(f"export_controls[{i}].target: unknown jurisdiction {ctl.target!r}")
        for i, edge in enumerate(self.networks.spillover.edges):
            for end in (edge.source, edge.target):
                if end not in labs:
                    raise ValueError(f"networks.spillover.edges[{i}]: unknown lab {end!r}")
        for i, edge in enumerate(self.networks.coordination.edges):
            for end in (edge.source, edge.target):
                if end not in jurisdictions:
                    raise ValueError(f"networks.coordination.edges[{i}]: unknown regulator {end!r}")
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
        if getattr(current, "__origin__", None) is dict:
            current = current.__args__[1]
            continue
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


def apply_overrides(data: dict[str, Any],
                    overrides: list[str]) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    """Apply ``dotted.path=value`` overrides (values parsed as TOML) to raw scenario data;
    returns the new data and the problems found (path, message, value)."""
    data = copy.deepcopy(data)
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
                node[key] = copy.deepcopy(_dig(default, keys[: i + 1]))
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


MAX_EXTENDS_DEPTH = 8  # scenario chains deeper than this are surely a mistake


def merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, arrays and values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = value
    return out


def _read_with_parents(path: Path, chain: list[Path]) -> dict[str, Any]:
    """Read a scenario; ``extends = "other.toml"`` (relative to it) supplies what it leaves out."""
    data = read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), [("extends", "must be a file name", parent)])
    target = (path.parent / parent).resolve()
    if target in chain or target == path.resolve() or len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(str(path), [("extends", "scenarios extend each other in a loop",
                                         parent)])
    try:
        base = _read_with_parents(target, [*chain, path.resolve()])
    except ScenarioError as exc:
        raise ScenarioError(str(path), [("extends", f"{line.removeprefix('error: ')}", _NO_VALUE)
                                        for line in exc.lines()]) from None
    return merge_tables(base, data)


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate raw scenario data; raise ScenarioError with every problem found."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _problems_from(exc)) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None,
                  calibration: str | Path | None = None) -> Scenario:
    """Load, calibrate, override and validate a scenario file (the one loader of ixsim).

    ``calibration`` names a measured calibration file (``ixsim calibrate``) whose values replace
    the published ones; ``overrides`` (``--set``) are applied last and win over both.
    """
    from ixsim.sim.calibration import CalibrationError, overlay

    source = str(path)
    data = _read_with_parents(Path(path), [])
    problems: list[tuple[str, str, Any]] = []
    if overrides:
        data, problems = apply_overrides(data, overrides)
    explicit = {item.split("=", 1)[0].strip() for item in overrides or []}
    try:
        data, sources = overlay(data, Path(path), Path(calibration) if calibration else None,
                                keep=explicit)
    except CalibrationError as exc:
        raise ScenarioError(source, [("calibration", str(exc).removeprefix("error: "),
                                      _NO_VALUE)]) from None
    try:
        scenario = parse_scenario(data, source)
    except ScenarioError as exc:
        raise ScenarioError(source, problems + exc.problems) from None
    if problems:
        raise ScenarioError(source, problems)
    scenario._calibration_source = sources
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
        if origin is dict:
            item = ann.__args__[1]
            if isinstance(item, type) and issubclass(item, BaseModel):
                rows.extend(field_table(item, dotted + ".<name>."))
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
