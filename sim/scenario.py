"""The scenario: its typed schema (pydantic), TOML loading, overrides, one-line errors.

Every number has a range, units and a source: a CALIBRATION.md row (``CAL-2``) or an
``assumption`` with its reason. ``ixsim params`` renders this metadata as the parameter table.
The sections live in ``sim/schema/`` (world: time, hardware, ..., tasks; actors: strategies,
labs, regulators, networks, risk).

A loaded scenario is immutable; overrides make a new one::

    from ixsim.sim.scenario import load_scenario
    spec = load_scenario("baseline", {"software.returns_r": 1.5, "labs[0].researchers": 2e3})

A name (no ``/``, no ``.toml``) is a file of ``scenarios/``; ``scenario_names()`` lists them.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, Field, PrivateAttr, StringConstraints, ValidationError,
                      model_validator)

from ixsim.sim.calibration import overlay
from ixsim.sim.measured import CalibrationFileError
from ixsim.sim.schema.actors import (DEFAULT_STRATEGIES, ExportControl, LabSpec, Networks,
                                     RegulatorSpec, Responses, Risk, Strategy, merge_strategies)
from ixsim.sim.schema.base import Strict
from ixsim.sim.schema.world import (DEFAULT_TASKS, Capability, Hardware, Investment, Labour,
                                    Meta, Scaling, Software, TaskCategory)

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_set_options", "resolve_scenario",
           "scenario_names", "parse_scenario", "field_table", "SCENARIOS_DIR", "MAX_SCENARIO_BYTES"]

# sim/ sits at the top of the source tree, beside scenarios/
SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "scenarios"
MAX_SCENARIO_BYTES = 1_000_000  # refuse files over 1 MB: scenarios are hand-written, never that big
MAX_EXTENDS_DEPTH = 8  # scenario chains deeper than this are surely a mistake


class ScenarioError(Exception):
    """A problem with a scenario file or override, rendered as one line per problem:
    ``error: SOURCE: dotted.path: problem (got X)``."""

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


def _did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt ``word``, or None when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return close[0] if close else None


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
                          "fast_follower and open_weights, updated field by field, plus new "
                          "ones that a lab uses"))
    labs: Annotated[list[LabSpec], Field(min_length=1, max_length=1000)] = Field(
        default_factory=_default_labs)
    regulators: list[RegulatorSpec] = Field(default_factory=_default_regulators)
    export_controls: list[ExportControl] = Field(default_factory=list)
    responses: Responses = Field(default_factory=Responses)
    networks: Networks = Field(default_factory=Networks)
    risk: Risk = Field(default_factory=Risk)
    # where the calibrated fields came from (published row, measured file or override); set by
    # load_scenario, kept by model_copy
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
                close = _did_you_mean(lab.strategy, strategies)
                hint = f"; did you mean {close}?" if close else ""
                raise ValueError(f"labs[{i}].strategy: unknown strategy {lab.strategy!r}{hint} "
                                 f"(known: {', '.join(sorted(strategies))})")
        used = {lab.strategy for lab in self.labs}
        for name in strategies:
            if name in DEFAULT_STRATEGIES or name in used:
                continue
            # a new strategy no lab uses changes nothing: most likely a misspelt name
            close = _did_you_mean(name, [*DEFAULT_STRATEGIES, *sorted(used)])
            hint = (f"did you mean {close}?" if close else
                    f"it changes nothing; give a lab strategy = {name!r} or remove the table")
            raise ValueError(f"strategies.{name}: no lab uses this strategy; {hint}")
        jurisdictions = [r.jurisdiction for r in self.regulators]
        if len(set(jurisdictions)) != len(jurisdictions):
            raise ValueError("regulators: one regulator per jurisdiction")
        known = set(jurisdictions) | {lab.jurisdiction for lab in self.labs}
        for i, ctl in enumerate(self.export_controls):
            if ctl.target not in known:
                raise ValueError(f"export_controls[{i}].target: unknown jurisdiction "
                                 f"{ctl.target!r}")
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
# Dotted paths into the schema: "labs[0].shares.training"


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def _parse_path(path: str) -> list[str | int]:
    """Split ``labs[0].shares.training`` (or ``labs.0.shares.training``) into keys and indices."""
    parts: list[str | int] = []
    for raw in path.strip().split("."):
        if raw.isdigit():
            parts.append(int(raw))
            continue
        m = _SEGMENT.match(raw)
        if not m:
            raise ValueError("not a dotted field path")
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def _dotted(keys: Sequence[str | int]) -> str:
    """The inverse of _parse_path: ``["labs", 0, "name"]`` -> ``labs[0].name``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else ("." if out else "") + str(key)
    return out


def _unwrap(annotation: Any) -> Any:
    """``Annotated[list[X], ...]`` -> ``list[X]``."""
    return annotation.__origin__ if getattr(annotation, "__metadata__", None) is not None else (
        annotation)


class _BadPath(ValueError):
    def __init__(self, index: int, message: str, siblings: Sequence[str] = ()):
        super().__init__(message)
        self.index, self.siblings = index, siblings


def _walk(keys: Sequence[str | int]) -> None:
    """Raise _BadPath at the first of ``keys`` that is not in the schema (dict keys are free)."""
    current: Any = Scenario
    for i, key in enumerate(keys):
        origin = getattr(current, "__origin__", None)
        if origin is dict:
            current = _unwrap(current.__args__[1])
            continue
        if origin is list:
            if not isinstance(key, int):
                raise _BadPath(i, f"is a list: name an item by its index, as in "
                                  f"{_dotted([*keys[:i], 0, *keys[i:]])}")
            current = _unwrap(current.__args__[0])
            continue
        if isinstance(key, int):
            raise _BadPath(i, "is not a list")
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            raise _BadPath(i, f"has no field {key!r}")
        field = current.model_fields.get(key)
        if field is None:
            raise _BadPath(i, "unknown field", list(current.model_fields))
        current = _unwrap(field.annotation)


def _path_problem(keys: list[str | int], exc: _BadPath) -> str:
    """The message for a bad path, with the nearest valid path when a key is misspelt."""
    key = keys[exc.index]
    close = _did_you_mean(str(key), exc.siblings) if exc.siblings else None
    if close is None:
        return str(exc)
    fixed = [*keys[: exc.index], close, *keys[exc.index + 1:]]
    try:
        _walk(fixed)
    except _BadPath:
        fixed = fixed[: exc.index + 1]
    return f"{exc}; did you mean {_dotted(fixed)}?"


def _problems_from(err: ValidationError) -> list[tuple[str, str, Any]]:
    problems = []
    for e in err.errors():
        loc = [p for p in e["loc"] if p not in ("function-after",)]
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        elif e["type"] == "extra_forbidden":
            try:
                _walk(loc)
                msg = "unknown field"
            except _BadPath as exc:
                msg = _path_problem(loc, exc)
        elif e["type"] == "missing":
            msg = "required field is missing"
        msg = msg[0].lower() + msg[1:] if msg else msg
        got = e.get("input", _NO_VALUE)
        if e["type"] in ("missing",) or isinstance(got, (dict, list)):
            got = _NO_VALUE
        if e["type"] == "finite_number":
            msg = "must be a finite number"
        problems.append((_dotted(loc), msg, got))
    return problems


# ---------------------------------------------------------------------------------------------
# Overrides


def _parse_value(text: str) -> Any:
    """Parse an override value as a TOML literal (number, bool, string, array), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set_options(items: Sequence[str]) -> dict[str, Any]:
    """The command line's ``--set`` items as overrides: ``["software.returns_r=1.5"]`` ->
    ``{"software.returns_r": 1.5}``, each value parsed as a TOML literal (else kept as a string).
    Paths are checked when the overrides are applied; an item without ``=`` raises
    ScenarioError with source ``--set``."""
    if isinstance(items, str):
        items = [items]
    out: dict[str, Any] = {}
    problems: list[tuple[str, str, Any]] = []
    for item in items:
        path, sep, text = str(item).partition("=")
        if not sep or not path.strip():
            problems.append(("", "expected dotted.path=value", item))
            continue
        out[path.strip()] = _parse_value(text.strip())
    if problems:
        raise ScenarioError("--set", problems)
    return out


def _plain(value: Any) -> Any:
    """Python values for numpy scalars and arrays (np.float64, np.int64, np.bool_), tuples and
    nested containers; numpy itself is not imported."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _assign(data: dict[str, Any], keys: list[str | int], value: Any) -> None:
    node: Any = data
    for key in keys[:-1]:
        if isinstance(key, int):
            if key >= len(node):
                raise IndexError(f"index {key} is past the end of the list ({len(node)} items)")
        elif key not in node:
            node[key] = {}  # a new table: only under a dict field (strategies)
        node = node[key]
    last = keys[-1]
    if isinstance(last, int) and last >= len(node):
        raise IndexError(f"index {last} is past the end of the list ({len(node)} items)")
    node[last] = value


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any],
                   label: str = "overrides") -> Scenario:
    """A new scenario: ``scenario`` with ``overrides`` (dotted path -> value); every problem is
    reported against ``label``."""
    data = scenario.model_dump()
    problems: list[tuple[str, str, Any]] = []
    overridden: set[str] = set()
    for path, raw in overrides.items():
        value = _plain(raw)
        try:
            keys = _parse_path(str(path))
            _walk(keys)
        except _BadPath as exc:
            problems.append((str(path), _path_problem(keys, exc), value))
            continue
        except ValueError as exc:
            problems.append((str(path), str(exc), value))
            continue
        try:
            _assign(data, keys, value)
        except (IndexError, KeyError, TypeError) as exc:
            problems.append((str(path), f"cannot set: {exc}", value))
            continue
        overridden.add(_dotted(keys))
    try:
        new = Scenario.model_validate(data)
    except ValidationError as exc:
        problems += _problems_from(exc)
    if problems:
        raise ScenarioError(label, problems)
    new._calibration_source = {field: f"override: {label}" if field in overridden else source
                               for field, source in scenario._calibration_source.items()}
    return new


# ---------------------------------------------------------------------------------------------
# Reading files and names


def _check_finite(value: Any, path: str, problems: list[tuple[str, str, Any]]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        problems.append((path, "must be a finite number", value))
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}" if path else str(k), problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]", problems)


def _read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file with the checks of a careful loader: size, encoding, syntax, NaN/inf."""
    source = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ScenarioError(source, [("", "file not found", _NO_VALUE)]) from None
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot read file: {exc.strerror}",
                                      _NO_VALUE)]) from None
    if p.is_dir():
        raise ScenarioError(source, [("", "is a directory, not a scenario file", _NO_VALUE)])
    if size > MAX_SCENARIO_BYTES:
        raise ScenarioError(source, [("", f"file is too large ({size} bytes; the limit is "
                                          f"{MAX_SCENARIO_BYTES})", _NO_VALUE)])
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, [("", f"not UTF-8 text (byte {exc.start})",
                                      _NO_VALUE)]) from None
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


def _merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, arrays and values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_tables(out[key], value)
        else:
            out[key] = value
    return out


def _read_with_parents(path: Path, chain: list[Path]) -> dict[str, Any]:
    """Read a scenario; ``extends = "other.toml"`` (relative to it) supplies what it leaves out."""
    data = _read_toml(path)
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
    return _merge_tables(base, data)


def scenario_names() -> list[str]:
    """The named scenarios shipped in ``scenarios/`` (``load_scenario(name)`` loads one)."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")) if SCENARIOS_DIR.is_dir() else []


def resolve_scenario(path_or_name: str | os.PathLike) -> Path:
    """The file of a scenario: a path as given, or for a name (no ``/``, no ``.toml``)
    ``scenarios/NAME.toml``. An unknown name raises ScenarioError listing the available ones."""
    text = os.fspath(path_or_name)
    seps = {"/", os.sep, os.altsep} - {None}
    if not text or text.endswith(".toml") or any(sep in text for sep in seps):
        return Path(text)
    named = SCENARIOS_DIR / f"{text}.toml"
    if named.is_file():
        return named
    if Path(text).is_file():  # a scenario file without the .toml suffix
        return Path(text)
    names = scenario_names()
    close = _did_you_mean(text, names)
    hint = f"; did you mean {close}?" if close else ""
    available = f"available: {', '.join(names)}" if names else "no named scenarios are installed"
    raise ScenarioError(text, [("", f"no such scenario file or name{hint} ({available})",
                                _NO_VALUE)])


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate raw scenario data; raise ScenarioError with every problem found."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _problems_from(exc)) from None


def load_scenario(path_or_name: str | os.PathLike, overrides: Mapping[str, Any] | None = None, *,
                  calibration: str | os.PathLike | None = None,
                  overrides_label: str = "overrides") -> Scenario:
    """Load, calibrate, validate and override a scenario (the one loader of ixsim).

    ``path_or_name``: a TOML file, or the name of one in ``scenarios/`` (``"baseline"``).
    ``calibration`` names a measured calibration file (``ixsim calibrate``) whose values replace
    the published ones (a scenario can also ask for ``calibration = "measured"``).
    ``overrides`` maps dotted paths (``"software.returns_r"``, ``"labs[0].compute_flop_per_s"``,
    ``"strategies.frontier.race_response"``) to typed values (numpy scalars work); they are
    applied last, win over both, and make a new scenario. Problems in the file are reported
    against the file, problems in the overrides against ``overrides_label`` (``"--set"`` on the
    command line). Raises ScenarioError, one line per problem.
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        # transitional: the old list of "dotted.path=value" strings (the command line's --set)
        overrides, overrides_label = parse_set_options(overrides), "--set"
    overrides = dict(overrides or {})
    path = resolve_scenario(path_or_name)
    source = str(path)
    data = _read_with_parents(path, [])
    keep = set()
    for key in overrides:
        try:
            keep.add(_dotted(_parse_path(str(key))))
        except ValueError:
            pass  # reported when the overrides are applied
    mode = overrides.get("calibration", data.get("calibration"))
    if calibration is not None and "calibration" in overrides and mode != "measured":
        raise ScenarioError(overrides_label, [(
            "calibration", "a calibration file is given, so the calibration is measured", mode)])
    try:
        data, sources = overlay(data, path, None if calibration is None else Path(calibration),
                                wanted=calibration is not None or mode == "measured", keep=keep)
    except CalibrationFileError as exc:
        raise ScenarioError(source, [("calibration", str(exc).removeprefix("error: "),
                                      _NO_VALUE)]) from None
    scenario = parse_scenario(data, source)
    scenario._calibration_source = sources
    return with_overrides(scenario, overrides, overrides_label) if overrides else scenario


def field_table(model: type[BaseModel] = Scenario, prefix: str = "") -> list[dict[str, Any]]:
    """One row per number of the schema: dotted name, units, range, default, source/assumption."""
    rows: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        ann = _unwrap(field.annotation)
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
