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
from ixsim.sim.inputfiles import (MAX_KEY_PARTS, MAX_NESTING, FileIdentity, InputFileError,
                                  read_toml, toml_nesting_problem, toml_value_problem)
from ixsim.sim.measured import CalibrationFileError
from ixsim.sim.schema.actors import (DEFAULT_STRATEGIES, ExportControl, LabSpec, Networks,
                                     RegulatorSpec, Responses, Risk, Strategy, merge_strategies)
from ixsim.sim.schema.base import Strict
from ixsim.sim.schema.world import (DEFAULT_TASKS, Capability, Hardware, Investment, Labour,
                                    Meta, Scaling, Software, TaskCategory)

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_set_options", "resolve_scenario",
           "scenario_names", "parse_scenario", "field_table", "SCENARIOS_DIR", "MAX_SCENARIO_BYTES",
           "MAX_EXTENDS_DEPTH", "MAX_LAB_STEPS"]

# sim/ sits at the top of the source tree, beside scenarios/
SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "scenarios"
MAX_SCENARIO_BYTES = 1_000_000  # refuse files over 1 MB: scenarios are hand-written, never that big
MAX_EXTENDS_DEPTH = 8  # at most 8 extends in a chain (9 files): deeper is surely a mistake
# The supported scale: labs x agent steps, steps = (end_year - start_year) x steps_per_year.
# 1,000 labs at monthly steps over 22 years is 264,000 lab-steps, about 30 s and 1 GB; the
# baseline is 3 x 264 = 792. Time and memory grow in proportion (1,000 labs at 365 steps a year,
# 8 million lab-steps, ran past 300 s and 8.5 GB), so a scenario beyond this is refused.
MAX_LAB_STEPS = 300_000
MAX_PROBLEM_LINES = 50  # a file with more problems shows the first 50 and a count of the rest


class ScenarioError(Exception):
    """A problem with a scenario file or override, rendered as one line per problem:
    ``error: SOURCE: dotted.path: problem (got X)``."""

    def __init__(self, source: str, problems: list[tuple[str, str, Any]]):
        self.source = source
        self.problems = problems  # (dotted path or "", message, offending value or _NO_VALUE)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for path, message, got in self.problems[:MAX_PROBLEM_LINES]:
            path = path if len(path) <= 120 else path[:100] + "..."  # a 20,000-part --set path
            where = f"{self.source}: {path}: " if path else f"{self.source}: "
            tail = "" if got is _NO_VALUE else f" (got {_show(got)})"
            out.append(f"error: {where}{message}{tail}")
        if len(self.problems) > MAX_PROBLEM_LINES:
            out.append(f"error: {self.source}: {len(self.problems) - MAX_PROBLEM_LINES} more "
                       "problems not shown")
        return out


_NO_VALUE = object()


def _show(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 200:  # str() of 4,300+ digits fails
        digits = len(str(abs(value))) if value.bit_length() < 14_000 else "over 4,000"
        return f"an integer of {digits} digits"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt ``word``, or None when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return close[0] if close else None


def _year(value: float) -> str:
    """A decimal year to four places, without trailing zeros: 2030.0, 2030.0833."""
    text = f"{value:.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


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
        meta = self.meta
        exact = (meta.end_year - meta.start_year) * meta.steps_per_year
        steps = max(1, round(exact))  # as the model counts them (sim/model.py)
        if abs(exact - round(exact)) > 1e-6:
            # the model would round the span to whole steps and end elsewhere without a word
            per = "1 step a year" if meta.steps_per_year == 1 else (
                f"{meta.steps_per_year} steps a year")
            below = meta.start_year + math.floor(exact) / meta.steps_per_year
            above = meta.start_year + math.ceil(exact) / meta.steps_per_year
            raise ValueError(f"meta.end_year: {meta.end_year} is not a whole number of steps from "
                             f"meta.start_year {meta.start_year} at {per} (the nearest ends are "
                             f"{_year(below)} and {_year(above)})")
        if len(self.labs) * steps > MAX_LAB_STEPS:
            raise ValueError(f"labs: {len(self.labs)} labs x {steps} steps = "
                             f"{len(self.labs) * steps:,} lab-steps exceeds the supported "
                             f"{MAX_LAB_STEPS:,}; use fewer labs, fewer meta.steps_per_year or a "
                             "shorter span")
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


# ASCII only: \d and str.isdigit() also take other scripts' digits ("labs[\u0661]" is not labs[1])
_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[0-9]+\])*)")
_INDEX = re.compile(r"[0-9]+")


def _index(text: str) -> int:
    if len(text) > 9:
        raise ValueError(f"index {text[:20]}{'...' if len(text) > 20 else ''} is too large")
    return int(text)


def _parse_path(path: str) -> list[str | int]:
    """Split ``labs[0].shares.training`` (or ``labs.0.shares.training``) into keys and indices.
    Raises ValueError for anything else, a path of more than MAX_KEY_PARTS parts among them."""
    raw_parts = path.strip().split(".")
    if len(raw_parts) > MAX_KEY_PARTS:
        raise ValueError(f"a dotted path has at most {MAX_KEY_PARTS} parts; this one has "
                         f"{len(raw_parts):,}")
    parts: list[str | int] = []
    for raw in raw_parts:
        if _INDEX.fullmatch(raw):
            parts.append(_index(raw))
            continue
        m = _SEGMENT.fullmatch(raw)
        if not m:
            raise ValueError("not a dotted field path")
        parts.append(m.group(1))
        parts.extend(_index(i) for i in re.findall(r"\[([0-9]+)\]", m.group(2)))
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
        elif e["type"] in ("float_type", "int_type") and isinstance(got, str):
            if _looks_numeric(got):  # types are strict: '1.2' is text, 1.2 a number
                msg += ", not a string: write the number without quotes"
        elif e["type"] in ("float_type", "int_type") and isinstance(got, bool):
            msg += ", not true or false"
        elif e["type"] == "float_type" and isinstance(got, int):
            msg = "must be a finite number"  # an integer past 1.8e308
        problems.append((_dotted(loc), msg, got))
    return problems


def _looks_numeric(text: str) -> bool:
    try:
        float(text.strip().replace("_", ""))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Overrides


def _parse_value(text: str) -> Any:
    """Parse an override value as one TOML literal (number, bool, string, array, inline table),
    else keep the text as a string (``meta.name=x y``); the schema then checks its type as
    strictly as a file's (``'1.2'`` is a string, refused for a number). Raises ValueError for
    text that could smuggle in more than one value (a line break) or nests too deeply."""
    if "\n" in text or "\r" in text:
        raise ValueError("a value is one TOML literal on one line (this one holds a line break)")
    if toml_nesting_problem(f"v = {text}") is not None:
        raise ValueError(f"a value may nest at most {MAX_NESTING} levels of [ and {{")
    try:
        doc = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:  # the pre-scan should have caught it
        raise ValueError(f"a value may nest at most {MAX_NESTING} levels of [ and {{") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ValueError(toml_value_problem(exc)) from None
    if list(doc) != ["v"]:
        raise ValueError("a value is one TOML literal")
    return doc["v"]


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
        try:
            out[path.strip()] = _parse_value(text.strip())
        except ValueError as exc:
            problems.append((path.strip(), str(exc), text.strip()))
    if problems:
        raise ScenarioError("--set", problems)
    return out


def _plain(value: Any, depth: int = 0) -> Any:
    """Python values for numpy scalars and arrays (np.float64, np.int64, np.bool_), tuples and
    nested containers; numpy itself is not imported. Raises ValueError past MAX_NESTING levels."""
    if depth > MAX_NESTING:
        raise ValueError(f"a value may nest at most {MAX_NESTING} levels of lists and tables")
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()  # an array becomes nested lists: checked below
        if not isinstance(value, list):
            return value
    if isinstance(value, Mapping):
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
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
        try:
            value = _plain(raw)
        except ValueError as exc:
            problems.append((str(path), str(exc), _NO_VALUE))
            continue
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
    """Append a problem for each NaN or infinity in ``value``: a walk with its own stack, so
    that no nesting the reader lets through can exhaust Python's."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            problems.append((where, "must be a finite number", item))
        elif isinstance(item, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v)
                         for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(item))))


def _read_toml(path: str | os.PathLike) -> tuple[dict[str, Any], FileIdentity]:
    """Read a TOML file with the checks of a careful loader: a regular file (never a device or a
    pipe) of at most MAX_SCENARIO_BYTES, UTF-8, nesting within MAX_NESTING levels and
    MAX_KEY_PARTS key parts (before tomllib, which recurses), syntax, NaN/inf, and at least one
    setting. Returns the data and the file's identity (for extends loops)."""
    try:
        data, identity = read_toml(path, MAX_SCENARIO_BYTES, "scenario file")
    except InputFileError as exc:
        raise ScenarioError(exc.path, [("", exc.message, _NO_VALUE)]) from None
    source = str(path)
    if not data:
        # An empty file and one holding only comments are alike refused: both are far more
        # likely a truncated or wrong file than a wish for every default, and the defaults are
        # one line away ([meta] name = "defaults").
        raise ScenarioError(source, [("", "file holds no settings", _NO_VALUE)])
    problems: list[tuple[str, str, Any]] = []
    _check_finite(data, "", problems)
    if problems:
        raise ScenarioError(source, problems)
    return data, identity


def _merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, arrays and values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_tables(out[key], value)
        else:
            out[key] = value
    return out


class _ChainTooDeep(ScenarioError):
    """Reported against the first file of the chain as it is, not wrapped at every level."""


def _read_with_parents(path: Path) -> dict[str, Any]:
    """Read a scenario; ``extends = "other.toml"`` (relative to it) supplies what it leaves out,
    through at most MAX_EXTENDS_DEPTH extends. A parent that cannot be read is reported as
    ``FILE: extends: PARENT: problem``."""
    data, identity = _read_toml(path)
    return _extend(path, data, (identity,), path)


def _extend(path: Path, data: dict[str, Any], seen: tuple[FileIdentity, ...],
            first: Path) -> dict[str, Any]:
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(str(path), [("extends", "must be a file name", parent)])
    target = path.parent / parent
    try:
        base, identity = _read_toml(target)
        if identity in seen:
            raise ScenarioError(str(path), [("extends", "scenarios extend each other in a loop",
                                             parent)])
        if len(seen) > MAX_EXTENDS_DEPTH:
            raise _ChainTooDeep(str(first), [(
                "extends", f"the chain of extends is too deep: the limit is {MAX_EXTENDS_DEPTH} "
                           f"extends, and the {len(seen)}th is {path}: extends = {parent!r}",
                _NO_VALUE)])
        base = _extend(target, base, (*seen, identity), first)
    except _ChainTooDeep:
        raise
    except ScenarioError as exc:
        if exc.source == str(path):
            raise
        raise ScenarioError(str(path), [("extends", f"{line.removeprefix('error: ')}", _NO_VALUE)
                                        for line in exc.lines()]) from None
    return _merge_tables(base, data)


def scenario_names() -> list[str]:
    """The named scenarios shipped in ``scenarios/`` (``load_scenario(name)`` loads one)."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")) if SCENARIOS_DIR.is_dir() else []


def named_file(text: str, folder: Path) -> Path | None:
    """The file ``text`` means: a path as given (it has a ``/`` or ends in ``.toml``, or exists),
    else ``folder/NAME.toml`` if that is a file; None for an unknown name. A path that is not a
    regular file (a pipe, a device, a link loop) is returned: the reader says what it is."""
    seps = {"/", os.sep, os.altsep} - {None}
    if not text or text.endswith(".toml") or any(sep in text for sep in seps):
        return Path(text)
    named = folder / f"{text}.toml"
    if named.is_file():
        return named
    return Path(text) if os.path.lexists(text) else None


def resolve_scenario(path_or_name: str | os.PathLike) -> Path:
    """The file of a scenario: a path as given, or for a name (no ``/``, no ``.toml``)
    ``scenarios/NAME.toml``. An unknown name raises ScenarioError listing the available ones."""
    text = os.fspath(path_or_name)
    found = named_file(text, SCENARIOS_DIR)
    if found is not None:
        return found
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
    data = _read_with_parents(path)
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
    except CalibrationFileError as exc:  # the calibration file's problem, not the scenario's
        raise ScenarioError(exc.path, [(exc.field, exc.message, _NO_VALUE)]) from None
    scenario = parse_scenario(data, source)
    scenario._calibration_source = sources
    return with_overrides(scenario, overrides, overrides_label) if overrides else scenario


def schema_key(name: str) -> str:
    """The ``field_table`` name of a dotted parameter: ``regulators[1].lag_years`` ->
    ``regulators[].lag_years``, ``strategies.frontier.x`` -> ``strategies.<name>.x``."""
    key = re.sub(r"\[[0-9]+\]", "[]", name)
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "strategies":
        parts[1] = "<name>"
    return ".".join(parts)


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
