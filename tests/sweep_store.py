"""Sweep stores for tests, in the engine's layout: ``manifest.json`` and
``runs/chunk-NNNNN.parquet`` (one row per run, ordered by run_id).

``write_store(directory, manifest, rows)`` is the one writer; the builders below make the rows
of known functions (Ishigami, linear, a threshold) as the engine's workers would return them.
When the engine (``ixsim.analysis.sweep``) lands, an end-to-end test swaps ``write_store`` for a
real sweep and keeps the same assertions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK_SIZE = 4096


def write_store(directory: str | Path, manifest: dict[str, Any], rows: Iterable[dict[str, Any]],
                *, series: Iterable[dict[str, Any]] | None = None) -> Path:
    """Write a store: the rows in chunks of ``manifest["chunk_size"]`` (run_id order), then the
    manifest with n_runs and n_chunks filled in. Returns the folder."""
    directory = Path(directory)
    (directory / "runs").mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=lambda r: r["run_id"])
    size = int(manifest.get("chunk_size") or CHUNK_SIZE)
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    for number, chunk in enumerate(chunks):
        pq.write_table(pa.Table.from_pylist(chunk),
                       directory / "runs" / f"chunk-{number:05d}.parquet", compression="zstd")
    if series is not None:
        (directory / "series").mkdir(exist_ok=True)
        pq.write_table(pa.Table.from_pylist(list(series)),
                       directory / "series" / "chunk-00000.parquet")
    manifest = {**manifest, "n_runs": len(rows), "chunk_size": size, "n_chunks": len(chunks)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return directory


def manifest_for(sampler: str, names: Sequence[str], unit: np.ndarray, *, seeds: int = 1,
                 lever_sets: Sequence[dict[str, Any]] = ({},), samples: int | None = None,
                 outputs: Sequence[str] = ()) -> dict[str, Any]:
    """A manifest as the engine writes it, for ``unit`` (samples x k, the SALib unit cube)."""
    levers: dict[str, list[Any]] = {}
    for lever_set in lever_sets:
        for name, value in lever_set.items():
            levers.setdefault(name, []).append(value)
    return {
        "spec": {"sampler": sampler, "parameters": {n: {"dist": "uniform"} for n in names}},
        "spec_hash": "test", "base_scenario": "test", "sampler": sampler,
        "samples": samples if samples is not None else len(unit), "parameters": list(names),
        "levers": levers, "lever_sets": [dict(s) for s in lever_sets], "seeds_per_sample": seeds,
        "problem": {"num_vars": len(names), "names": list(names),
                    "bounds": [[0.0, 1.0]] * len(names)},
        "chunk_size": CHUNK_SIZE, "outputs": {"metrics": list(outputs)},
        "versions": {"ixsim": "test"}, "git_commit": None,
    }


def rows_for(names: Sequence[str], unit: np.ndarray, values: np.ndarray,
             outcome: Callable[[np.ndarray, int, int], dict[str, Any]], *, seeds: int = 1,
             lever_sets: Sequence[dict[str, Any]] = ({},)) -> list[dict[str, Any]]:
    """One row per (lever set, sample, seed), run_id in that order, as a worker returns it:
    ``outcome(parameter values, seed_index, lever_set)`` gives the metrics."""
    rows = []
    run_id = 0
    for lever_set, levers in enumerate(lever_sets):
        for sample_id, (u, x) in enumerate(zip(unit, values)):
            for seed_index in range(seeds):
                row = {"run_id": run_id, "sample_id": sample_id, "lever_set": lever_set,
                       "seed_index": seed_index, "seed": 1000 * sample_id + seed_index,
                       "status": "ok", "error": None}
                row.update({f"u:{n}": float(v) for n, v in zip(names, u)})
                row.update({n: float(v) for n, v in zip(names, x)})
                row.update(levers)
                row.update(outcome(x, seed_index, lever_set))
                rows.append(row)
                run_id += 1
    return rows


ISHIGAMI = ("ishigami.x1", "ishigami.x2", "ishigami.x3")
# Analytic indices of Ishigami (a = 7, b = 0.1), Saltelli et al. (2008) Global Sensitivity
# Analysis: The Primer, section 4.6.
ISHIGAMI_S1 = (0.314, 0.442, 0.0)
ISHIGAMI_ST = (0.558, 0.442, 0.244)


def ishigami(x: np.ndarray) -> float:
    """Y = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1 (x in [-pi, pi]^3)."""
    return math.sin(x[0]) + 7.0 * math.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * math.sin(x[0])


def ishigami_store(directory: str | Path, n: int = 2048, *, seeds: int = 1,
                   seed_offset: float = 0.0) -> Path:
    """The Ishigami function on SALib's Saltelli design (calc_second_order=False, N = ``n``):
    the unit cube mapped to [-pi, pi]. With ``seeds`` > 1, seed i adds +-``seed_offset`` (a
    pair cancels in each sample's mean)."""
    from SALib.sample import sobol

    problem = {"num_vars": 3, "names": list(ISHIGAMI), "bounds": [[0.0, 1.0]] * 3}
    unit = sobol.sample(problem, n, calc_second_order=False, seed=7)
    values = -math.pi + 2.0 * math.pi * unit

    def outcome(x: np.ndarray, seed_index: int, lever_set: int) -> dict[str, Any]:
        return {"y": ishigami(x) + seed_offset * (1 if seed_index % 2 == 0 else -1)}

    manifest = manifest_for("sobol", ISHIGAMI, unit, seeds=seeds, samples=n, outputs=["y"])
    return write_store(directory, manifest, rows_for(ISHIGAMI, unit, values, outcome,
                                                     seeds=seeds))
