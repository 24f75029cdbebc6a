"""Running a sweep on Dask: one task per chunk, results streamed into the store as they arrive.

``run_sweep(sweep, out)`` starts a ``LocalCluster`` (``scheduler="local"``: ``workers``
processes of one thread each) or connects to a running scheduler (``"tcp://HOST:PORT"``), or
uses the ``client`` it is given. At most a few tasks per worker are in flight
(``client.submit`` + ``as_completed``). A worker that sees the store's folder (the same
device and inode as the client's: a local cluster, or a shared filesystem) writes its chunk's
files itself and returns a few numbers; elsewhere it returns the chunk's tables and the client
writes them as they land. Either way the client holds a handful of chunks whatever the number
of runs, and the bytes written are the same. A worker that dies is replaced and its task
rescheduled by Dask; chunks are pure functions of the spec, so where a chunk ran never changes
its rows (a file half-written by a killed worker is a temporary that the next write of that
chunk removes).

The folder ``out`` is locked (``ixsim.analysis.files.exclusive``) for the whole sweep.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ixsim.analysis.files import exclusive
from ixsim.analysis.sweep import dataset
from ixsim.analysis.sweep.models import get_model
from ixsim.analysis.sweep.runs import (Chunk, ChunkResult, Plan, RunContext, metric_kinds,
                                       run_chunk, run_columns)
from ixsim.analysis.sweep.samplers import problem, unit_design
from ixsim.analysis.sweep.spec import Sweep, lever_kind

__all__ = ["run_sweep", "plan_for", "SweepOutcome", "SweepStoreError", "SweepRunError"]

TASKS_PER_WORKER = 2  # in flight per worker: one running, one queued behind it
CONNECT_TIMEOUT_S = 10
# The local cluster has no dashboard, so nothing reads the workers' statistical profiler (a
# thread sampling every stack each 10 ms) and the system monitor need not run twice a second:
# together they halved the CPU time of a worker's event loop (from about 3.5% of the worker's
# time to 2%, the forecast spec on a 2-core machine).
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                        "distributed.admin.system-monitor.interval": "5s"}


class SweepStoreError(Exception):
    """The output folder cannot take this sweep; ``str()`` is one line (``PATH: problem``)."""


class SweepRunError(Exception):
    """A task failed as a whole (not a run: runs record their own failures), e.g. a worker
    killed again and again; the chunks written so far stay, ``--resume`` continues."""


@dataclass(frozen=True)
class SweepOutcome:
    out: Path
    n_runs: int  # planned for the whole sweep
    ran: int  # runs executed by this call
    skipped: int  # runs already in the store (resume)
    status: dict[str, int]  # runs by status over the whole store
    seconds: float  # wall time from the first task submitted to the last chunk written
    workers: int


def plan_for(sweep: Sweep) -> Plan:
    """The sweep's design and run plan (deterministic: a function of the spec)."""
    unit = unit_design(sweep.sampler, len(sweep.uncertainties), samples=sweep.samples,
                       seed=sweep.seed, **sweep.sampler_options())
    return Plan(unit, sweep.values(unit), len(sweep.lever_sets), sweep.seeds_per_sample,
                sweep.seed, sweep.chunk_size)


def _probe(sweep: Sweep) -> tuple[list[tuple[str, str]], np.ndarray]:
    """One run (seed 0) of the base scenario, or for a model without scenario at the
    uncertainties' medians and the first lever set: the metrics' column kinds and the time grid
    (empty without world series)."""
    model = get_model(sweep.model)
    values: dict[str, Any] = {}
    what = "the base scenario"
    if not model.uses_scenario:
        medians = sweep.values(np.full((1, len(sweep.parameters)), 0.5))[0]
        values = {**sweep.constants, **dict(zip(sweep.parameters, medians.tolist())),
                  **sweep.lever_sets[0]}
        what = f"the {model.name} model at the medians"
    try:
        summary, world = model.run(sweep.scenario, values, 0)
    except Exception as exc:
        raise SweepRunError(f"{what} does not run (seed 0): "
                            f"{' '.join(str(exc).split())[:300]}") from None
    times = np.empty(0) if world is None else np.asarray(world["time"], dtype=float)
    return metric_kinds(summary), times


def _manifest(sweep: Sweep, plan: Plan, columns: list[tuple[str, str]],
              metrics: list[str]) -> dict[str, Any]:
    return {
        "spec": sweep.spec,
        "spec_hash": sweep.spec_hash,
        "base_scenario": sweep.base,
        "model": sweep.model,
        "sampler": sweep.sampler,
        "samples": sweep.samples,
        "n_samples": plan.n_samples,
        "parameters": sweep.parameters,
        "levers": {name: list(values) for name, values in sweep.levers},
        "lever_sets": sweep.lever_sets,
        "seeds_per_sample": sweep.seeds_per_sample,
        "seed": sweep.seed,
        "seeds": "SeedSequence(seed, spawn_key=(sample_id, seed_index)).generate_state(1, "
                 "uint32)[0]: the same for every lever set of a sample",
        "run_order": "run_id = (sample_id * len(lever_sets) + lever_set) * seeds_per_sample + "
                     "seed_index",
        "problem": problem(sweep.parameters),
        "n_runs": plan.n_runs,
        "chunk_size": plan.chunk_size,
        "n_chunks": plan.n_chunks,
        "outputs": {**sweep.spec["outputs"], "metrics": metrics},
        "series_quantiles": {"quantiles": list(dataset.QUANTILES),
                             "method": "numpy nanquantile (linear) over successful runs, per "
                                       "lever set and step"},
        "columns": [list(c) for c in columns],
        "inputs": sweep.inputs_digest(),
        "versions": dataset.versions(),
        "git_commit": dataset.git_commit(),
        "complete": False,
    }


def _spec_difference(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys where two specs differ (for the refusal message)."""
    out: list[str] = []
    for key in list(dict.fromkeys([*old, *new])):
        a, b = old.get(key), new.get(key)
        where = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_spec_difference(a, b, where))
        elif a != b or (key in old) != (key in new):
            out.append(where)
    return out


def _check_out(out: Path, resume: bool) -> bool:
    """Whether ``out`` holds a sweep to resume; SweepStoreError when it cannot be written."""
    real = Path(os.path.realpath(out))
    here = Path(os.path.realpath(os.getcwd()))
    if real == Path(real.anchor) or real == here or real in here.parents:
        raise SweepStoreError(f"{out}: is the filesystem root or holds the current folder; name "
                              "a folder for the sweep")
    if not os.path.lexists(out):
        return False
    if not out.is_dir():
        raise SweepStoreError(f"{out}: is not a folder")
    entries = [e for e in os.listdir(out)]
    if not entries:
        return False
    if not resume:
        raise SweepStoreError(f"{out}: is not empty; --resume continues the sweep there, or name "
                              "another folder")
    if dataset.MANIFEST not in entries:
        raise SweepStoreError(f"{out}: holds no {dataset.MANIFEST}: not a sweep to resume")
    return True


def _resumed_manifest(out: Path, sweep: Sweep) -> dict[str, Any]:
    path = out / dataset.MANIFEST
    try:
        manifest = dataset.read_manifest(out)
    except ValueError as exc:
        raise SweepStoreError(f"{path}: {exc}") from None
    if manifest["spec_hash"] != sweep.spec_hash:
        changed = _spec_difference(manifest.get("spec") or {}, sweep.spec)
        shown = ", ".join(changed[:4]) + (", ..." if len(changed) > 4 else "")
        raise SweepStoreError(f"{path}: the spec differs from the one this sweep was started "
                              f"with ({shown or 'spec_hash'}); start it in another folder")
    inputs = manifest.get("inputs") or {}
    now = sweep.inputs_digest()
    if inputs.get("scenario_sha256") != now["scenario_sha256"]:
        raise SweepStoreError(f"{path}: the base scenario ({sweep.base}) differs from the one "
                              "this sweep was started with; start it in another folder")
    if inputs.get("uncertainties") != now["uncertainties"]:
        raise SweepStoreError(f"{path}: the uncertainties' distributions differ from those this "
                              "sweep was started with (the catalogue changed?); start it in "
                              "another folder")
    return manifest


@contextlib.contextmanager
def _dask_client(scheduler: str, workers: int) -> Iterator[Any]:
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler == "local":
        with dask.config.set(LOCAL_CLUSTER_CONFIG), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                             dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster, set_as_default=False) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepStoreError(f"--scheduler: cannot reach {scheduler} "
                              f"({' '.join(str(exc).split())[:200]})") from None
    with client:
        yield client


def run_sweep(sweep: Sweep, out: str | os.PathLike, *, resume: bool = False,
              scheduler: str = "local", workers: int = 2, client: Any = None,
              on_start: Callable[[int, int], None] | None = None,
              on_chunk: Callable[[int], None] | None = None) -> SweepOutcome:
    """Run ``sweep`` into the store ``out`` (see ``ixsim.analysis.sweep.dataset``).

    ``resume``: continue the sweep in ``out`` (its spec must be this one); otherwise ``out``
    must be missing or empty. ``client``: an existing ``dask.distributed.Client`` (then
    ``scheduler`` and ``workers`` are not used). ``on_start(runs to do, runs already done)``
    and ``on_chunk(runs in the chunk just written)`` report progress.

    The local cluster starts worker processes with multiprocessing's "spawn": a script that
    calls this needs the usual ``if __name__ == "__main__":`` guard.

    Raises SweepStoreError (the folder, a manifest that does not match, a scheduler that
    cannot be reached), SweepRunError (a task failed as a whole), OutputError (the folder is
    locked by another writer)."""
    out = Path(out)
    has_manifest = _check_out(out, resume)
    out.mkdir(parents=True, exist_ok=True)
    with exclusive(out):
        if not has_manifest:  # checked again holding the lock: nobody started one meanwhile
            has_manifest = _check_out(out, resume)
        plan = plan_for(sweep)
        metrics, times = _probe(sweep)
        if has_manifest:
            manifest = _resumed_manifest(out, sweep)
            if (manifest["n_runs"], manifest["n_chunks"]) != (plan.n_runs, plan.n_chunks):
                raise SweepStoreError(f"{out / dataset.MANIFEST}: plans {manifest['n_runs']} "
                                      f"runs in {manifest['n_chunks']} chunks where this spec "
                                      f"gives {plan.n_runs} in {plan.n_chunks}")
        else:
            levers = [(name, lever_kind(values)) for name, values in sweep.levers]
            columns = run_columns(sweep.parameters, levers, metrics)
            manifest = _manifest(sweep, plan, columns, [n for n, _ in metrics])
            dataset.write_manifest(out, manifest)
        missing = []
        for c in range(plan.n_chunks):
            if dataset.chunk_done(out, c, manifest):
                problem_text = dataset.check_chunk(out, c, manifest, plan.chunk_rows(c))
                if problem_text is not None:
                    raise SweepStoreError(f"{problem_text}; remove it and resume")
            else:
                missing.append(c)
        to_run = sum(plan.chunk_rows(c) for c in missing)
        context = RunContext(
            scenario=sweep.scenario, parameters=tuple(sweep.parameters),
            lever_names=tuple(sweep.lever_names),
            lever_sets=tuple(tuple(s[n] for n in sweep.lever_names) for s in sweep.lever_sets),
            series=sweep.series, per_run_series=sweep.per_run_series,
            year_stride=1 if sweep.scenario is None else sweep.scenario.meta.steps_per_year,
            columns=tuple(tuple(c) for c in manifest["columns"]), model=sweep.model,
            constants=() if sweep.scenario is not None else tuple(sweep.constants.items()))

        def stream(dask_client: Any) -> tuple[int, float]:
            if on_start is not None:
                on_start(to_run, plan.n_runs - to_run)
            started = time.perf_counter()
            seen = _stream(dask_client, context, plan, missing, out, sweep, times, on_chunk)
            return seen, time.perf_counter() - started

        n_workers, seconds = 0, 0.0
        if not missing:
            if on_start is not None:
                on_start(0, plan.n_runs)
        elif client is not None:
            n_workers, seconds = stream(client)
        else:
            with _dask_client(scheduler, workers) as own:
                n_workers, seconds = stream(own)
        dataset.finish(out, manifest, times)
        status = dataset.count_status(out, plan.n_chunks)
    return SweepOutcome(out, plan.n_runs, to_run, plan.n_runs - to_run, status, seconds,
                        n_workers)


@dataclass(frozen=True)
class StoreTarget:
    """Where a worker writes the chunks it runs: the store's folder as the client sees it."""

    path: str  # absolute
    folder: tuple[int, int]  # (st_dev, st_ino) of the folder on the client's machine
    series: tuple[str, ...]
    n_steps: int
    per_run_series: bool

    def visible(self) -> bool:
        """Whether this process sees the client's folder (not a namesake elsewhere)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return False
        return (stat.st_dev, stat.st_ino) == self.folder


@dataclass(frozen=True)
class ChunkWritten:
    """What a worker returns for a chunk whose files it wrote."""

    index: int
    n_runs: int
    n_failed: int


def run_and_write(context: RunContext, chunk: Chunk, target: StoreTarget
                  ) -> ChunkWritten | ChunkResult:
    """The task: run the chunk, then write its files when this worker sees the store (the
    result is then a few numbers), else return its tables for the client to write."""
    result = run_chunk(context, chunk)
    if not target.visible():
        return result
    dataset.write_chunk(Path(target.path), result, target.series, target.n_steps,
                        target.per_run_series)
    return ChunkWritten(result.index, result.runs.num_rows, result.n_failed)


def _stream(client: Any, context: RunContext, plan: Plan, missing: list[int], out: Path,
            sweep: Sweep, times: np.ndarray, on_chunk: Callable[[int], None] | None) -> int:
    """Submit the missing chunks a few per worker at a time; a chunk lands written by its worker
    or as tables that are written here; returns the most workers seen."""
    from dask.distributed import as_completed

    def workers_now() -> int:
        return len(client.scheduler_info().get("workers", {}))

    seen = workers_now()
    real = os.path.realpath(out)
    stat = os.stat(real)
    target = StoreTarget(real, (stat.st_dev, stat.st_ino), context.series, len(times),
                         context.per_run_series)
    queue = iter(missing)
    prefix = f"ixsim-sweep-{sweep.spec_hash[:12]}"
    flight: set[Any] = set()
    done = as_completed(loop=client.loop)

    def top_up() -> None:
        while len(flight) < TASKS_PER_WORKER * max(1, seen) + 1:
            c = next(queue, None)
            if c is None:
                return
            future = client.submit(run_and_write, context, plan.chunk(c), target,
                                   key=f"{prefix}-chunk-{c:05d}", pure=False)
            flight.add(future)
            done.add(future)

    top_up()
    try:
        for future in done:
            flight.discard(future)
            try:
                result = future.result()
            except Exception as exc:
                raise SweepRunError(f"a task failed: {type(exc).__name__}: "
                                    f"{' '.join(str(exc).split())[:300]}") from None
            future.release()
            if isinstance(result, ChunkResult):  # a worker that does not see the store
                dataset.write_chunk(out, result, context.series, len(times),
                                    context.per_run_series)
                n_runs = result.runs.num_rows
            else:
                n_runs = result.n_runs
            del result
            if on_chunk is not None:
                on_chunk(n_runs)
            seen = max(seen, workers_now())
            top_up()
    finally:
        for future in flight:  # an error or an interrupt: nothing left running for us
            future.cancel()
    return seen
