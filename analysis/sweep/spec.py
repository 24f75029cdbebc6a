"""The sweep spec: a TOML file read through the one bounded reader (``ixsim.sim.inputfiles``),
checked like a scenario (pydantic, strict types) and against the base scenario, every problem
one line ``error: FILE: field: problem (got X)``.

The spec keeps EMA Workbench's split: ``[uncertainties]`` (what the world does: a distribution
per dotted scenario parameter, or the shipped catalogue), ``[levers]`` (what a policy maker
chooses: a list of values per parameter; the lever sets are their product), ``[constants]``
(settings applied to the base scenario for every run) and ``[outputs]`` (which world series are
kept)::

    [sweep]
    name = "forecast"
    model = "ixsim"              # the default; or a test function (ixsim.analysis.sweep.models)
    base = "baseline"            # a scenario name, or a path relative to this file
    sampler = "monte-carlo"      # monte-carlo | latin-hypercube | sobol | morris | grid
    samples = 1000               # base samples (sobol: Saltelli's N; morris: trajectories)
    seeds_per_sample = 1
    seed = 0
    chunk_size = 50
    [uncertainties]
    "software.returns_r" = { dist = "lognorm", s = 0.5, scale = 1.2 }
    "software.compute_rho" = { dist = "uniform", low = -1.0, high = 0.3 }
    [levers]
    "strategies.frontier.race_response" = [0.0, 1.0]
    [constants]
    "meta.end_year" = 2035.0
    [outputs]
    series = ["frontier_horizon_minutes", "rnd_automation"]
    per_run_series = false

Distributions are written as in the uncertainty catalogue (``data/priors.toml``, see
``ixsim.analysis.priors``): a continuous ``scipy.stats`` name with its shape parameters, ``loc``
and ``scale``; ``low``/``high`` for uniform and loguniform; ``loc``/``scale``/``low``/``high``
for truncnorm; ``truncate_low``/``truncate_high`` on any of them. ``[uncertainties]`` absent or
``from_catalogue = true`` means the catalogue's priors (with their correlations).

Every value a sweep can draw (from the 1e-9 to the 1 - 1e-9 quantile: unit points are clipped
to that, as in the catalogue) must lie inside the parameter's schema range and make a valid
scenario; every lever value and every lever set must make a valid scenario. ``meta.*`` (the
time grid) cannot be swept: the series of all runs share one time axis.

A model other than ``ixsim`` (``ishigami``: a test function with known Sobol indices) runs no
scenario: the spec has no ``base``, no series, and its uncertainties, levers and constants
together give each parameter the model takes exactly once. ``model = "ixsim"`` is left out of
the canonical spec, so the specs written before models existed keep their hash.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator

from ixsim.analysis.sweep.models import DEFAULT_MODEL, MODELS, SweepModel, get_model
from ixsim.sim.inputfiles import InputFileError, read_toml
from ixsim.sim.results import WORLD_COLUMNS
# _NO_VALUE: ScenarioError's own "this problem has no offending value" marker, so that a
# SweepError renders its lines exactly as a scenario's problems are rendered
from ixsim.sim.scenario import (_NO_VALUE, SCENARIOS_DIR, Scenario, ScenarioError, field_table,
                               named_file, schema_key,
                                load_scenario, resolve_scenario, with_overrides)
from ixsim.sim.schema.base import Strict

__all__ = ["Sweep", "SweepError", "Uncertainty", "load_sweep", "parse_sweep", "resolve_sweep",
           "sweep_names", "SWEEPS_DIR", "SAMPLERS", "EPS", "MAX_RUNS"]

SWEEPS_DIR = SCENARIOS_DIR / "sweeps"
MAX_SPEC_BYTES = 1_000_000  # hand-written, a few KB: 1 MB is surely a wrong file
MAX_RUNS = 10_000_000  # runs in one sweep: beyond this a typo is far likelier than a plan
MAX_LEVER_SETS = 10_000  # each lever set is checked as a scenario when the spec is read
MAX_LEVER_VALUES = 1_000
SAMPLERS = ("monte-carlo", "latin-hypercube", "sobol", "morris", "grid")
# Unit coordinates are clipped to [EPS, 1 - EPS] before a ppf (the catalogue's convention,
# ixsim.analysis.priors.EPS): a sampler's 0 or 1 (Morris levels) maps to a finite value.
EPS = 1e-9
DEFAULT_SERIES = ("frontier_horizon_minutes", "rnd_automation")
SERIES_NAMES = tuple(c for c in WORLD_COLUMNS if c != "time")
# keys of a distribution table besides the distribution's own parameters (as in the catalogue)
_DIST_KEYS = ("dist", "truncate_low", "truncate_high")


class SweepError(ScenarioError):
    """A problem with a sweep spec, one line each: ``error: FILE: field: problem (got X)``."""


# --- the file's structure (pydantic) ----------------------------------------------------------


class SweepSection(Strict):
    name: str = Field(..., min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = Field("", max_length=2000)
    model: str = DEFAULT_MODEL
    base: str | None = Field(None, min_length=1, max_length=1000)  # required by ixsim
    sampler: Literal["monte-carlo", "latin-hypercube", "sobol", "morris", "grid"] = "monte-carlo"
    samples: int = Field(1000, ge=1, le=MAX_RUNS)
    seeds_per_sample: int = Field(1, ge=1, le=10_000)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    chunk_size: int = Field(50, ge=1, le=100_000)
    grid_points: int = Field(5, ge=2, le=1_000)  # grid: quantile points per parameter
    morris_levels: int = Field(4, ge=2, le=1_000)  # morris: SALib's num_levels

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in MODELS:
            raise ValueError(f"unknown model {value!r}{_hint(value, list(MODELS))} "
                             f"(known: {', '.join(MODELS)})")
        return value


class Outputs(Strict):
    # None: DEFAULT_SERIES for a model that runs the scenario, none for the others
    series: list[str] | None = Field(None, max_length=len(SERIES_NAMES))
    per_run_series: bool = False

    @field_validator("series")
    @classmethod
    def _known_series(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        for name in value:
            if name not in SERIES_NAMES:
                raise ValueError(f"unknown world series {name!r}{_hint(name, SERIES_NAMES)} "
                                 f"(known: {', '.join(SERIES_NAMES)})")
        if len(set(value)) != len(value):
            raise ValueError("a series is listed twice")
        return value


class SpecFile(Strict):
    sweep: SweepSection
    uncertainties: dict[str, Any] | None = None
    levers: dict[str, Any] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    outputs: Outputs = Field(default_factory=Outputs)


# --- the validated sweep ------------------------------------------------------------------------


@dataclass(frozen=True)
class Uncertainty:
    """One uncertain parameter: its dotted name, frozen scipy distribution and the text of it."""

    name: str
    dist: Any
    text: str


@dataclass(frozen=True)
class Sweep:
    """A validated sweep spec. ``spec`` is its canonical form (plain JSON values, in file order:
    the manifest's ``spec``); ``scenario`` is the base scenario with the constants applied."""

    source: str
    spec: dict[str, Any]
    scenario: Scenario | None  # None for a model that runs no scenario
    uncertainties: tuple[Uncertainty, ...]
    priors: Any  # the catalogue (ixsim.analysis.priors.Priors) when from it, else None
    levers: tuple[tuple[str, tuple[Any, ...]], ...]

    @property
    def name(self) -> str:
        return self.spec["sweep"]["name"]

    @property
    def model(self) -> str:
        return self.spec["sweep"].get("model", DEFAULT_MODEL)

    @property
    def base(self) -> str | None:
        """The base scenario as the spec names it; None for a model that runs no scenario."""
        return self.spec["sweep"].get("base")

    @property
    def constants(self) -> dict[str, Any]:
        return dict(self.spec["constants"])

    @property
    def sampler(self) -> str:
        return self.spec["sweep"]["sampler"]

    @property
    def samples(self) -> int:
        return self.spec["sweep"]["samples"]

    @property
    def seeds_per_sample(self) -> int:
        return self.spec["sweep"]["seeds_per_sample"]

    @property
    def seed(self) -> int:
        return self.spec["sweep"]["seed"]

    @property
    def chunk_size(self) -> int:
        return self.spec["sweep"]["chunk_size"]

    @property
    def series(self) -> tuple[str, ...]:
        return tuple(self.spec["outputs"]["series"])

    @property
    def per_run_series(self) -> bool:
        return self.spec["outputs"]["per_run_series"]

    @property
    def from_catalogue(self) -> bool:
        return self.priors is not None

    @property
    def parameters(self) -> list[str]:
        return [u.name for u in self.uncertainties]

    @property
    def lever_names(self) -> list[str]:
        return [name for name, _ in self.levers]

    @property
    def lever_sets(self) -> list[dict[str, Any]]:
        """Every combination of lever values (the first lever varies slowest); one empty set
        when there are no levers."""
        names = self.lever_names
        return [dict(zip(names, combo))
                for combo in itertools.product(*(values for _, values in self.levers))]

    @property
    def spec_hash(self) -> str:
        """sha256 of the canonical JSON of ``spec`` (keys in file order, no spaces)."""
        return spec_hash(self.spec)

    def sampler_options(self) -> dict[str, int]:
        return {"grid_points": self.spec["sweep"]["grid_points"],
                "morris_levels": self.spec["sweep"]["morris_levels"]}

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Parameter values (n, k) of unit-cube points (n, k): the catalogue's ppf (through its
        copula) or each distribution's ppf, on points clipped to [EPS, 1 - EPS]."""
        unit = np.asarray(unit, dtype=float)
        if self.priors is not None:
            return np.asarray(self.priors.ppf(unit), dtype=float)
        clipped = np.clip(unit, EPS, 1.0 - EPS)
        if not self.uncertainties:
            return np.empty((len(unit), 0))
        with np.errstate(all="ignore"):
            return np.column_stack([u.dist.ppf(clipped[:, j])
                                    for j, u in enumerate(self.uncertainties)]).astype(float)

    def inputs_digest(self) -> dict[str, Any]:
        """What the spec names but does not hold: the base scenario as loaded (with the
        constants) and the distributions (the catalogue's when from it). A resumed sweep must
        find them unchanged."""
        scenario = None if self.scenario is None else hashlib.sha256(
            self.scenario.model_dump_json().encode()).hexdigest()
        return {"scenario_sha256": scenario,
                "uncertainties": [[u.name, u.text] for u in self.uncertainties]}


def spec_hash(spec: Mapping[str, Any]) -> str:
    text = json.dumps(spec, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# --- reading -------------------------------------------------------------------------------------


def sweep_names() -> list[str]:
    """The sweep specs shipped in ``scenarios/sweeps/``."""
    return sorted(p.stem for p in SWEEPS_DIR.glob("*.toml")) if SWEEPS_DIR.is_dir() else []


def resolve_sweep(path_or_name: str | os.PathLike) -> Path:
    """A spec's file: a path as given, or for a name (no ``/``, no ``.toml``)
    ``scenarios/sweeps/NAME.toml``; an unknown name raises SweepError listing the shipped ones."""
    text = os.fspath(path_or_name)
    found = named_file(text, SWEEPS_DIR)
    if found is not None:
        return found
    names = sweep_names()
    raise SweepError(text, [("", f"no such sweep spec file or name{_hint(text, names)} "
                                 f"(shipped: {', '.join(names) or 'none'})", _NO_VALUE)])


def load_sweep(path_or_name: str | os.PathLike, *, samples: int | None = None) -> Sweep:
    """Read and check a sweep spec (a file, or a name in ``scenarios/sweeps/``); ``samples``
    replaces ``sweep.samples`` (the command line's ``--samples``) and is part of the spec.
    Raises SweepError (one line per problem; a base scenario's own problems are reported
    against ``sweep.base``)."""
    path = resolve_sweep(path_or_name)
    source = str(path)
    try:
        data, _ = read_toml(path, MAX_SPEC_BYTES, "sweep spec file")
    except InputFileError as exc:
        raise SweepError(exc.path, [("", exc.message, _NO_VALUE)]) from None
    if samples is not None and isinstance(data.get("sweep"), dict):
        data["sweep"] = {**data["sweep"], "samples": samples}
    return parse_sweep(data, source, path.parent)


def parse_sweep(data: dict[str, Any], source: str = "<sweep>",
                base_dir: str | os.PathLike = ".") -> Sweep:
    """Check raw spec data (as read from TOML); ``base_dir`` is where a relative ``base`` path
    starts (the spec file's folder). Raises SweepError with every structural problem, else the
    first problem found against the scenario."""
    try:
        parsed = SpecFile.model_validate(data)
    except ValidationError as exc:
        raise SweepError(source, _structure_problems(exc)) from None
    section = parsed.sweep
    model = get_model(section.model)
    constants = _flatten(parsed.constants, leaf=lambda v: not isinstance(v, dict))
    series = parsed.outputs.series
    if model.uses_scenario:
        if section.base is None:
            raise SweepError(source, [("sweep.base", "required field is missing", _NO_VALUE)])
        scenario = _base_scenario(section.base, Path(base_dir), source)
        if constants:
            try:
                scenario = with_overrides(scenario, constants, "constants")
            except ScenarioError as exc:
                raise SweepError(source, _from_scenario(exc, "constants")) from None
        series = list(DEFAULT_SERIES) if series is None else series
    else:
        scenario = None
        _model_only(model, section.base, constants, series or [], source)
        series = []

    uncertainties, priors, canonical_u = _uncertainties(parsed.uncertainties, scenario, source,
                                                        model)
    levers = _levers(parsed.levers, scenario, source, model)
    taken = {u.name: "uncertainties" for u in uncertainties}
    for name, _ in levers:
        if name in taken:
            raise SweepError(source, [(f"levers.{name}", "is also an uncertainty: a parameter is "
                                       "one or the other", _NO_VALUE)])
    for name in constants:
        if name in taken or name in dict(levers):
            where = taken.get(name, "levers")
            raise SweepError(source, [(f"constants.{name}", f"is also in [{where}]: a constant "
                                       "is not varied", _NO_VALUE)])
    if not model.uses_scenario:
        given = {*taken, *dict(levers), *constants}
        lacking = [p for p in model.parameters if p not in given]
        if lacking:
            raise SweepError(source, [("sweep.model", f"the {model.name} model takes "
                                       f"{', '.join(lacking)} too: give each as an uncertainty, "
                                       "a lever or a constant", _NO_VALUE)])
    _check_size(section, len(uncertainties), levers, source)
    head = section.model_dump()
    if head["model"] == DEFAULT_MODEL:
        del head["model"]  # the specs from before models existed keep their hash
    if head["base"] is None:
        del head["base"]
    spec = {
        "sweep": head,
        "uncertainties": canonical_u,
        "levers": {name: list(values) for name, values in levers},
        "constants": constants,
        "outputs": {**parsed.outputs.model_dump(), "series": series},
    }
    return Sweep(source, spec, scenario, tuple(uncertainties), priors, tuple(levers))


# --- the parts ---------------------------------------------------------------------------------


def _model_only(model: SweepModel, base: str | None, constants: dict[str, Any],
                series: list[str], source: str) -> None:
    """Refuse what a model that runs no scenario cannot take: a base, world series, constants
    that are not its parameters or not numbers."""
    if base is not None:
        raise SweepError(source, [("sweep.base", f"the {model.name} model runs no scenario: "
                                   "leave base out", base)])
    if series:
        raise SweepError(source, [("outputs.series", f"the {model.name} model has no world "
                                   "series: leave series out", _NO_VALUE)])
    for name, value in constants.items():
        _model_parameter(model, name, f"constants.{name}", source)
        if _number(value) is None:
            raise SweepError(source, [(f"constants.{name}", "must be a finite number", value)])


def _model_parameter(model: SweepModel, name: str, field: str, source: str) -> None:
    if name not in model.parameters:
        raise SweepError(source, [(field, f"not a parameter of the {model.name} model (it "
                                   f"takes {', '.join(model.parameters)})"
                                   + _hint(name, model.parameters), _NO_VALUE)])


def _base_scenario(base: str, base_dir: Path, source: str) -> Scenario:
    """The base scenario: a name from scenarios/, or a path relative to the spec's folder."""
    seps = {"/", os.sep, os.altsep} - {None}
    is_path = base.endswith(".toml") or any(sep in base for sep in seps)
    try:
        path = base_dir / base if is_path else resolve_scenario(base)
        return load_scenario(path)
    except ScenarioError as exc:
        raise SweepError(source, [("sweep.base", line.removeprefix("error: "), _NO_VALUE)
                                  for line in exc.lines()]) from None


def _flatten(table: Mapping[str, Any], leaf, prefix: str = "") -> dict[str, Any]:
    """``{"software": {"returns_r": X}}`` (TOML's unquoted dotted keys) -> ``{"software.returns_r":
    X}``; ``leaf(value)`` says where a name ends."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if leaf(value):
            out[name] = value
        else:
            out.update(_flatten(value, leaf, name))
    return out


_SCHEMA: dict[str, dict[str, Any]] | None = None


def _schema_rows() -> dict[str, dict[str, Any]]:
    """The numbers of the scenario schema by generic name (``labs[].researchers``)."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = {row["name"]: row for row in field_table()}
    return _SCHEMA


def _not_meta(name: str, field: str, source: str) -> None:
    """Refuse to vary ``meta.*``: the series of all runs share one time axis."""
    if name.split(".")[0].split("[")[0] == "meta":
        raise SweepError(source, [(field, "the time grid (meta.*) is one for the whole sweep: "
                                   "set it in [constants]", _NO_VALUE)])


def _from_scenario(exc: ScenarioError, section: str) -> list[tuple[str, str, Any]]:
    """A ScenarioError's problems as the spec's: ``section.PATH``."""
    return [(f"{section}.{path}" if path else section, message, got)
            for path, message, got in exc.problems]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _distribution(name: str, table: Any, source: str) -> tuple[Uncertainty, dict[str, Any]]:
    """A distribution table as the catalogue writes it -> (Uncertainty, canonical table)."""
    from scipy import stats

    from ixsim.analysis import priors as catalogue

    where = f"uncertainties.{name}"
    if not isinstance(table, dict):
        raise SweepError(source, [(where, "must be a table such as { dist = \"uniform\", "
                                   "low = 0.0, high = 1.0 }", table)])
    dist_name = table.get("dist")
    continuous = sorted(n for n in dir(stats) if isinstance(getattr(stats, n), stats.rv_continuous))
    if not isinstance(dist_name, str):
        raise SweepError(source, [(f"{where}.dist", "missing: name a continuous scipy.stats "
                                   "distribution" if dist_name is None else
                                   "must be a scipy.stats distribution name", dist_name
                                   if dist_name is not None else _NO_VALUE)])
    if dist_name not in continuous:
        raise SweepError(source, [(f"{where}.dist", "unknown distribution (a continuous "
                                   f"scipy.stats distribution){_hint(dist_name, continuous)}",
                                   dist_name)])
    # one way to write a distribution: the catalogue's (ixsim.analysis.priors)
    required, optional = catalogue._param_names(dist_name)
    raw: dict[str, float] = {}
    for key, value in table.items():
        if key in _DIST_KEYS:
            continue
        if key not in required and key not in optional:
            raise SweepError(source, [(f"{where}.{key}", f"not a parameter of {dist_name} (it "
                                       f"takes {', '.join([*required, *optional])})"
                                       + _hint(key, [*required, *optional, *_DIST_KEYS]),
                                       _NO_VALUE)])
        x = _number(value)
        if x is None:
            raise SweepError(source, [(f"{where}.{key}", "must be a finite number", value)])
        raw[key] = x
    for key in required:
        if key not in raw:
            raise SweepError(source, [(f"{where}.{key}", f"missing (a {dist_name} distribution "
                                       f"needs {', '.join(required)})", _NO_VALUE)])
    cut: list[float | None] = []
    for key in ("truncate_low", "truncate_high"):
        value = table.get(key)
        x = None if value is None else _number(value)
        if value is not None and x is None:
            raise SweepError(source, [(f"{where}.{key}", "must be a finite number", value)])
        cut.append(x)
    text = catalogue._spec_text(dist_name, raw, *cut)
    try:
        with np.errstate(all="ignore"):
            dist = getattr(stats, dist_name)(**catalogue._params(dist_name, raw))
            checks = dist.ppf([EPS, 0.5, 1.0 - EPS])
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise SweepError(source, [(where, f"bad parameters for {dist_name}: {exc}",
                                   _NO_VALUE)]) from None
    if not np.all(np.isfinite(checks)) or not checks[0] < checks[2]:
        raise SweepError(source, [(where, f"bad parameters: {text} is not a distribution with "
                                   "finite quantiles", _NO_VALUE)])
    low, high = cut
    if low is not None or high is not None:
        lo = float(dist.support()[0]) if low is None else low
        hi = float(dist.support()[1]) if high is None else high
        with np.errstate(all="ignore"):
            mass = float(dist.cdf(hi) - dist.cdf(lo)) if lo < hi else 0.0
        if not mass > 1e-6:
            raise SweepError(source, [(f"{where}.truncate_low", f"the interval [{lo:g}, {hi:g}] "
                                       f"holds no mass of {dist_name}", _NO_VALUE)])
        dist = catalogue._Truncated(dist, lo, hi)()
    canonical = {"dist": dist_name, **raw}
    canonical.update({k: v for k, v in zip(("truncate_low", "truncate_high"), cut)
                      if v is not None})
    return Uncertainty(name, dist, text), canonical


def _reach(dist: Any) -> tuple[float, float]:
    """The lowest and highest value a sweep can draw: the EPS and 1 - EPS quantiles (unit points
    are clipped to those, as the catalogue's ``Priors.support`` says)."""
    with np.errstate(all="ignore"):
        return float(dist.ppf(EPS)), float(dist.ppf(1.0 - EPS))


def _check_support(u: Uncertainty, scenario: Scenario, field: str, source: str) -> None:
    """Refuse a parameter that is not a scenario number (or is a whole number), or a
    distribution that reaches outside the parameter's range or makes an invalid scenario."""
    _not_meta(u.name, field, source)
    rows = _schema_rows()
    row = rows.get(schema_key(u.name))
    if row is None:
        raise SweepError(source, [(field, "not a number of the scenario schema"
                                   + _hint(schema_key(u.name), sorted(rows))
                                   + " (ixsim params lists them)", _NO_VALUE)])
    if isinstance(row["default"], int) and not isinstance(row["default"], bool):
        raise SweepError(source, [(field, f"is a whole number ({row['units']}): give it as a "
                                   "lever with a list of values", _NO_VALUE)])
    lo, hi = _reach(u.dist)
    for end, value, limit in (("lowest", lo, row["low"]), ("highest", hi, row["high"])):
        if limit is not None and (value < limit if end == "lowest" else value > limit):
            raise SweepError(source, [(field, f"{u.text} reaches {value:.6g} (the {end} value "
                                       f"it can draw), outside the parameter's range "
                                       f"{row['low']:g}..{row['high']:g}", _NO_VALUE)])
        try:
            with_overrides(scenario, {u.name: value}, "uncertainty")
        except ScenarioError as exc:
            raise SweepError(source, [(field, f"at the {end} value it can draw ({value:.6g}): "
                                       + (f"{path}: " if path and path != u.name else "")
                                       + message, _NO_VALUE)
                                      for path, message, _ in exc.problems]) from None


def _uncertainties(table: dict[str, Any] | None, scenario: Scenario | None, source: str,
                   model: SweepModel) -> tuple[list[Uncertainty], Any, dict[str, Any]]:
    """(uncertainties, the catalogue or None, the canonical table)."""
    if not model.uses_scenario and (table is None or table.get("from_catalogue", False)):
        raise SweepError(source, [("uncertainties", "the catalogue's parameters are a "
                                   f"scenario's; the {model.name} model takes "
                                   f"{', '.join(model.parameters)}: list them", _NO_VALUE)])
    if table is None or "from_catalogue" in table:
        flag = True if table is None else table["from_catalogue"]
        if table is not None and len(table) > 1:
            other = next(k for k in table if k != "from_catalogue")
            raise SweepError(source, [(f"uncertainties.{other}", "from_catalogue = true takes "
                                       "every uncertainty from the catalogue: list them "
                                       "yourself, or use the catalogue alone", _NO_VALUE)])
        if not isinstance(flag, bool):
            raise SweepError(source, [("uncertainties.from_catalogue", "must be true or false",
                                       flag)])
        if flag:
            priors = _catalogue(source)
            out = [Uncertainty(p.name, p.dist, p.spec) for p in priors.priors]
            for u in out:
                _check_support(u, scenario, f"uncertainties.from_catalogue: {u.name}", source)
            return out, priors, {"from_catalogue": True}
        table = {}
    entries = _flatten(table, leaf=lambda v: not isinstance(v, dict) or "dist" in v)
    out: list[Uncertainty] = []
    canonical: dict[str, Any] = {}
    for name, entry in entries.items():
        if not model.uses_scenario:
            _model_parameter(model, name, f"uncertainties.{name}", source)
        u, canon = _distribution(name, entry, source)
        if model.uses_scenario:
            _check_support(u, scenario, f"uncertainties.{name}", source)
        out.append(u)
        canonical[name] = canon
    return out, None, canonical


def _catalogue(source: str) -> Any:
    try:
        from ixsim.analysis.priors import PriorsError, load_priors
    except ImportError:  # the catalogue is an optional part of the installation
        raise SweepError(source, [("uncertainties", "the uncertainty catalogue "
                                   "(ixsim.analysis.priors) is not installed: list the "
                                   "uncertainties in the spec", _NO_VALUE)]) from None
    try:
        return load_priors()
    except PriorsError as exc:
        raise SweepError(source, [("uncertainties.from_catalogue",
                                   str(exc).removeprefix("error: "), _NO_VALUE)]) from None


def _lever_kind(values: Sequence[Any]) -> str | None:
    """The column kind of a lever's values, None when they mix kinds."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if any(isinstance(v, bool) for v in values):
        return None
    if all(isinstance(v, int) for v in values):
        return "int64"
    if all(isinstance(v, (int, float)) for v in values):
        return "float64"
    if all(isinstance(v, str) for v in values):
        return "string"
    return None


def lever_kind(values: Sequence[Any]) -> str:
    kind = _lever_kind(values)
    if kind is None:
        raise ValueError("lever values of mixed kinds")
    return kind


def _levers(table: dict[str, Any], scenario: Scenario | None, source: str,
            model: SweepModel) -> list[tuple[str, tuple[Any, ...]]]:
    entries = _flatten(table, leaf=lambda v: not isinstance(v, dict))
    out: list[tuple[str, tuple[Any, ...]]] = []
    for name, values in entries.items():
        where = f"levers.{name}"
        if model.uses_scenario:
            _not_meta(name, where, source)
        else:
            _model_parameter(model, name, where, source)
        if not isinstance(values, list) or not values:
            raise SweepError(source, [(where, "must be a non-empty list of values, e.g. "
                                       "[0.0, 0.5, 1.0]", values if not isinstance(values, list)
                                       else _NO_VALUE)])
        if len(values) > MAX_LEVER_VALUES:
            raise SweepError(source, [(where, f"at most {MAX_LEVER_VALUES:,} values "
                                       f"(got {len(values):,})", _NO_VALUE)])
        kind = _lever_kind(values)
        if kind is None:
            raise SweepError(source, [(where, "values must all be numbers, all true/false or "
                                       "all text", _NO_VALUE)])
        if kind == "float64":  # integers among floats: one column type, the floats'
            values = [float(v) for v in values]
            if not all(math.isfinite(v) for v in values):
                raise SweepError(source, [(where, "values must be finite numbers", _NO_VALUE)])
        if len(set(values)) != len(values):
            raise SweepError(source, [(where, "a value is listed twice", _NO_VALUE)])
        if not model.uses_scenario:
            if kind not in ("int64", "float64"):
                raise SweepError(source, [(where, f"the {model.name} model takes numbers",
                                           _NO_VALUE)])
            out.append((name, tuple(values)))
            continue
        for i, value in enumerate(values):
            try:
                with_overrides(scenario, {name: value}, "lever")
            except ScenarioError as exc:
                raise SweepError(source, [(f"{where}[{i}]", p[1] if p[0] in ("", name) else
                                           f"{p[0]}: {p[1]}", p[2])
                                          for p in exc.problems]) from None
        out.append((name, tuple(values)))
    n_sets = math.prod(len(v) for _, v in out)
    if n_sets > MAX_LEVER_SETS:
        raise SweepError(source, [("levers", f"{n_sets:,} lever sets (the product of the "
                                   f"levers' values); at most {MAX_LEVER_SETS:,}", _NO_VALUE)])
    if len(out) > 1 and model.uses_scenario:
        names = [n for n, _ in out]
        for combo in itertools.product(*(v for _, v in out)):
            chosen = dict(zip(names, combo))
            try:
                with_overrides(scenario, chosen, "lever set")
            except ScenarioError as exc:
                shown = ", ".join(f"{k} = {_show(v)}" for k, v in chosen.items())
                raise SweepError(source, [("levers", f"the lever set {{{shown}}} is not a valid "
                                           f"scenario: {p[0] + ': ' if p[0] else ''}{p[1]}",
                                           _NO_VALUE) for p in exc.problems[:1]]) from None
    return out


def _check_size(section: SweepSection, k: int, levers: list, source: str) -> None:
    from ixsim.analysis.sweep.samplers import design_size

    if section.sampler in ("sobol", "morris") and k == 0:
        raise SweepError(source, [("sweep.sampler", f"{section.sampler} needs at least one "
                                   "uncertainty", section.sampler)])
    if section.sampler == "sobol" and section.samples & (section.samples - 1):
        below = 1 << (section.samples.bit_length() - 1)
        raise SweepError(source, [("sweep.samples", "sobol (Saltelli) needs a power of 2 "
                                   f"base samples, such as {below} or {below * 2}",
                                   section.samples)])
    points = design_size(section.sampler, k, samples=section.samples,
                         grid_points=section.grid_points)
    n_sets = math.prod(len(v) for _, v in levers)
    runs = points * n_sets * section.seeds_per_sample
    if runs > MAX_RUNS:
        raise SweepError(source, [("sweep", f"{runs:,} runs ({points:,} points x {n_sets:,} "
                                   f"lever sets x {section.seeds_per_sample:,} seeds); at most "
                                   f"{MAX_RUNS:,}", _NO_VALUE)])


# --- messages ------------------------------------------------------------------------------------


def _hint(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _model_at(loc: Sequence[Any]) -> Any:
    """The pydantic model a validation error's location points into (for "did you mean")."""
    model: Any = SpecFile
    for key in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(key)
        if field is None:
            return None
        model = field.annotation
    return model


def _structure_problems(err: ValidationError) -> list[tuple[str, str, Any]]:
    problems = []
    for e in err.errors():
        loc = [p for p in e["loc"] if not (isinstance(p, str) and "[" in p and "]" in p
                                           and p.startswith(("function", "list")))]
        path = ".".join(str(p) for p in loc)
        msg = e["msg"]
        got = e.get("input", _NO_VALUE)
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e["type"] == "extra_forbidden":
            model = _model_at(loc)
            fields = list(getattr(model, "model_fields", {}))
            msg = "unknown field" + _hint(str(loc[-1]), fields) + (
                f" (known: {', '.join(fields)})" if fields else "")
            got = _NO_VALUE
        elif e["type"] == "missing":
            msg = ("required table is missing" if len(loc) == 1 else "required field is missing")
            got = _NO_VALUE
        elif e["type"] in ("int_type", "float_type") and isinstance(got, bool):
            msg += ", not true or false"
        elif e["type"] in ("int_type",) and isinstance(got, float):
            msg = "must be a whole number"
        if isinstance(got, (dict, list)):
            got = _NO_VALUE
        msg = msg[0].lower() + msg[1:] if msg else msg
        problems.append((path, msg, got))
    return problems
