"""The runs of a sweep: their order, seeds and chunks, the columns of a row, and the worker
function that runs one chunk through the sweep's model (``ixsim.analysis.sweep.models``) and
returns Arrow tables (never model objects).

Order. ``run_id = (sample_id * n_lever_sets + lever_set) * seeds_per_sample + seed_index``:
sample by sample, within a sample lever set by lever set, within those seed by seed. Chunk ``c``
holds run ids ``[c * chunk_size, (c + 1) * chunk_size)``.

Seeds. A run's seed depends on the sweep's seed, its sample and its seed index, never on the
lever set (paired draws: every lever set of a sample meets the same chance events):
``SeedSequence(sweep_seed, spawn_key=(sample_id, seed_index)).generate_state(1)[0]`` (a
uint32, the child ``SeedSequence(sweep_seed).spawn`` would give at those indices), so
``ixsim run BASE --seed SEED --set ...`` repeats any run. The samplers draw from
``SeedSequence(sweep_seed)`` itself (default_rng(seed)), a stream apart from every child.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ixsim.analysis.sweep.models import DEFAULT_MODEL, get_model

__all__ = ["Plan", "Chunk", "RunContext", "ChunkResult", "run_seed", "run_chunk",
           "ARROW_TYPES", "IDENTITY_COLUMNS", "metric_kinds", "run_columns", "arrow_schema"]

ARROW_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
               "string": pa.string()}
IDENTITY_COLUMNS = (("run_id", "int64"), ("sample_id", "int64"), ("lever_set", "int64"),
                    ("seed_index", "int64"), ("seed", "int64"), ("status", "string"),
                    ("error", "string"))
# summary keys that are not kept as columns: the seed is the identity's, the rest are text
# that is the same for every run (scenario is kept: it names the base)
_DROPPED = ("seed",)
MAX_ERROR_CHARS = 1000


def run_seed(sweep_seed: int, sample_id: int, seed_index: int) -> int:
    """The model seed of a run (see the module docstring)."""
    state = np.random.SeedSequence(sweep_seed, spawn_key=(sample_id, seed_index))
    return int(state.generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class Chunk:
    """The runs of one task: identity columns and the sampled points (rows of the design)."""

    index: int
    run_id: np.ndarray
    sample_id: np.ndarray
    lever_set: np.ndarray
    seed_index: np.ndarray
    seed: np.ndarray
    unit: np.ndarray  # (n, k) unit-cube coordinates
    values: np.ndarray  # (n, k) parameter values

    def __len__(self) -> int:
        return len(self.run_id)


@dataclass(frozen=True)
class Plan:
    """A sweep's runs: the design (unit points and values, one row per sample), the lever sets
    and seeds; ``chunk(c)`` cuts task ``c``."""

    unit: np.ndarray
    values: np.ndarray
    n_lever_sets: int
    seeds_per_sample: int
    sweep_seed: int
    chunk_size: int

    @property
    def n_samples(self) -> int:
        return len(self.unit)

    @property
    def n_runs(self) -> int:
        return self.n_samples * self.n_lever_sets * self.seeds_per_sample

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_runs / self.chunk_size)

    def chunk_rows(self, c: int) -> int:
        return min(self.chunk_size, self.n_runs - c * self.chunk_size)

    def chunk(self, c: int) -> Chunk:
        start = c * self.chunk_size
        run_id = np.arange(start, start + self.chunk_rows(c), dtype=np.int64)
        rest, seed_index = np.divmod(run_id, self.seeds_per_sample)
        sample_id, lever_set = np.divmod(rest, self.n_lever_sets)
        seed = np.array([run_seed(self.sweep_seed, int(s), int(i))
                         for s, i in zip(sample_id, seed_index)], dtype=np.int64)
        return Chunk(c, run_id, sample_id, lever_set, seed_index, seed,
                     self.unit[sample_id], self.values[sample_id])


@dataclass(frozen=True)
class RunContext:
    """What every task needs besides its chunk (sent with each task: a few KB)."""

    scenario: Any  # the base Scenario, constants applied (None: a model without scenario)
    parameters: tuple[str, ...]
    lever_names: tuple[str, ...]
    lever_sets: tuple[tuple[Any, ...], ...]  # values in lever_names order, by lever set
    series: tuple[str, ...]
    per_run_series: bool
    year_stride: int  # steps per year: the per-run series keep every year_stride-th step
    columns: tuple[tuple[str, str], ...]  # (name, kind) of every runs column, in order
    model: str = DEFAULT_MODEL  # a name in ixsim.analysis.sweep.models.MODELS
    constants: tuple[tuple[str, Any], ...] = ()  # a model without scenario: its fixed values


@dataclass(frozen=True)
class ChunkResult:
    """A chunk's tables: ``runs`` (one row per run), ``series`` (yearly per-run series, when
    kept) and ``monthly`` (each successful run's series at every step: the input of the
    quantiles, a float64 matrix with a row per run: run_id, lever_set, then every step of the
    first series, of the second...)."""

    index: int
    runs: pa.Table
    series: pa.Table | None
    monthly: np.ndarray | None
    n_failed: int


# --- columns ----------------------------------------------------------------------------------


def metric_kinds(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, kind) of the summary metrics kept as columns, from one run's summary: numbers
    (a None is a missing float), booleans and the scenario's name; dicts and other text go."""
    out = []
    for key, value in summary.items():
        if key in _DROPPED:
            continue
        if isinstance(value, bool):
            out.append((key, "bool"))
        elif isinstance(value, int):
            out.append((key, "int64"))
        elif value is None or isinstance(value, float):
            out.append((key, "float64"))
        elif key == "scenario":
            out.append((key, "string"))
    return out


def run_columns(parameters: list[str], levers: list[tuple[str, str]],
                metrics: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every column of the runs table, in order: identity, ``u:NAME``, NAME, levers, metrics."""
    columns = [*IDENTITY_COLUMNS, *((f"u:{p}", "float64") for p in parameters),
               *((p, "float64") for p in parameters), *levers, *metrics]
    names = [n for n, _ in columns]
    if len(set(names)) != len(names):
        seen = {n for n in names if names.count(n) > 1}
        raise ValueError(f"column names collide: {', '.join(sorted(seen))}")
    return columns


def arrow_schema(columns: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> pa.Schema:
    return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns])


def series_schema(series: tuple[str, ...]) -> pa.Schema:
    return pa.schema([("run_id", pa.int64()), ("year", pa.float64()),
                      *((s, pa.float64()) for s in series)])


def _coerce(value: Any, kind: str) -> Any:
    """A summary value for a column of ``kind``; TypeError when it does not fit."""
    if value is None:
        return None
    if kind == "float64" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == "int64" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "int64" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "string" and isinstance(value, str):
        return value
    raise TypeError(f"a {type(value).__name__} ({value!r:.40}) where the column holds {kind}")


def _one_line(exc: BaseException) -> str:
    lines = getattr(exc, "lines", None)
    text = "; ".join(lines()) if callable(lines) else str(exc)
    text = " ".join(f"{type(exc).__name__}: {text}".split())
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 3] + "..."


# --- the worker --------------------------------------------------------------------------------


def run_chunk(context: RunContext, chunk: Chunk) -> ChunkResult:
    """Run every run of ``chunk`` and return its tables. A run that raises is a row with status
    "failed" and its error (one line), never lost; only KeyboardInterrupt and SystemExit end
    the task."""
    run = get_model(context.model).run
    columns = context.columns
    kinds = dict(columns)
    k = len(context.parameters)
    metric_names = [n for n, _ in columns[len(IDENTITY_COLUMNS) + 2 * k
                                          + len(context.lever_names):]]
    data: dict[str, list[Any]] = {name: [] for name, _ in columns}
    series_rows: dict[str, list[Any]] = {"run_id": [], "year": [],
                                         **{s: [] for s in context.series}}
    monthly_ids: list[int] = []
    monthly_sets: list[int] = []
    monthly_values: list[np.ndarray] = []
    n_failed = 0
    for i in range(len(chunk)):
        lever_values = context.lever_sets[int(chunk.lever_set[i])]
        values = [float(v) for v in chunk.values[i]]
        identity = {"run_id": int(chunk.run_id[i]), "sample_id": int(chunk.sample_id[i]),
                    "lever_set": int(chunk.lever_set[i]),
                    "seed_index": int(chunk.seed_index[i]), "seed": int(chunk.seed[i])}
        metrics: dict[str, Any] = {}
        try:
            overrides = {**dict(context.constants), **dict(zip(context.parameters, values)),
                         **dict(zip(context.lever_names, lever_values))}
            summary, world = run(context.scenario, overrides, identity["seed"])
            metrics = {name: _coerce(summary.get(name), kinds[name]) for name in metric_names}
            status, error = "ok", None
        except Exception as exc:  # recorded, never lost: the row says what went wrong
            status, error, metrics, world = "failed", _one_line(exc), {}, None
            n_failed += 1
        row = {**identity, "status": status, "error": error,
               **{f"u:{p}": float(u) for p, u in zip(context.parameters, chunk.unit[i])},
               **dict(zip(context.parameters, values)),
               **dict(zip(context.lever_names, lever_values)),
               **{name: metrics.get(name) for name in metric_names}}
        for name, _ in columns:
            data[name].append(row[name])
        if world is None or not context.series:
            continue
        monthly_ids.append(identity["run_id"])
        monthly_sets.append(identity["lever_set"])
        monthly_values.append(np.concatenate([np.asarray(world[s], dtype=np.float64)
                                              for s in context.series]))
        if context.per_run_series:
            steps = np.arange(0, len(world["time"]), context.year_stride)
            series_rows["run_id"].extend([identity["run_id"]] * len(steps))
            series_rows["year"].extend(np.asarray(world["time"], dtype=float)[steps].tolist())
            for s in context.series:
                series_rows[s].extend(np.asarray(world[s], dtype=float)[steps].tolist())
    runs = pa.table({name: pa.array(data[name], type=ARROW_TYPES[kind])
                     for name, kind in columns})
    series = None
    if context.per_run_series and context.series:
        series = pa.table(series_rows, schema=series_schema(context.series))
    monthly = None
    if context.series:
        monthly = _monthly_matrix(monthly_ids, monthly_sets, monthly_values)
    return ChunkResult(chunk.index, runs, series, monthly, n_failed)


def _monthly_matrix(ids: list[int], sets: list[int], values: list[np.ndarray]
                    ) -> np.ndarray | None:
    if not values:
        return None  # no successful run: nothing for the quantiles
    return np.column_stack([np.asarray(ids, dtype=np.float64),
                            np.asarray(sets, dtype=np.float64), np.vstack(values)])
