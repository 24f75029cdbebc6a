"""The sweep store on disk (the layout ``ixsim query`` and ``ixsim analyze`` read)::

    DIR/manifest.json                 written first; "complete" turns true at the end
    DIR/runs/chunk-00000.parquet      one row per run (the commit mark of a chunk: written last)
    DIR/series/chunk-00000.parquet    with outputs.per_run_series: run_id, year, one column per
                                      series, at every whole year of each successful run
    DIR/series_quantiles.parquet      lever_set, time, series, q10, q50, q90 (per step)
    DIR/.monthly/chunk-00000.npy      scratch while the sweep runs: each successful run's series
                                      at every step (float64 rows: run_id, lever_set, then
                                      SERIES@STEP in series order), removed once the
                                      quantiles exist

Every file is written atomically (``ixsim.analysis.files.write_bytes``: a temporary beside it,
flushed, renamed), so a killed sweep leaves whole chunks only; ``--resume`` runs the chunks that
are missing. The quantiles are computed at the end by streaming over the scratch chunks a block
of steps at a time (linear interpolation, numpy's default; NaN left out), so memory stays
bounded by the block, never by the number of runs. The scratch is a plain ``.npy`` matrix (read
memory-mapped, a block of columns at a time): a Parquet file of a thousand columns costs tens of
milliseconds a chunk to write and to read, which made the quantiles of a 10,000-run sweep take
half a minute.

The chunk files are written by whoever holds the chunk's tables: the worker that ran it when it
sees the store's folder (``ixsim.analysis.sweep.execute``), else the client; the bytes are the
same either way.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ixsim.analysis.files import write_bytes, write_text
from ixsim.analysis.sweep.runs import ChunkResult, arrow_schema, series_schema

__all__ = ["MANIFEST", "QUANTILES", "chunk_path", "write_chunk", "write_manifest",
           "read_manifest", "chunk_done", "check_chunk", "write_series_quantiles",
           "finish", "git_commit", "versions", "count_status"]

MANIFEST = "manifest.json"
RUNS = "runs"
SERIES = "series"
MONTHLY = ".monthly"
SERIES_QUANTILES = "series_quantiles.parquet"
QUANTILES = (0.1, 0.5, 0.9)
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # lever sets and the spec: far below this
BLOCK_VALUES = 8_000_000  # values held at once while computing quantiles (64 MB as float64)


def chunk_path(out: Path, kind: str, c: int) -> Path:
    suffix = "npy" if kind == MONTHLY else "parquet"
    return out / kind / f"chunk-{c:05d}.{suffix}"


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def write_chunk(out: Path, result: ChunkResult, series: tuple[str, ...], n_steps: int,
                per_run_series: bool) -> None:
    """A chunk's files, the runs table last (its presence marks the chunk done)."""
    c = result.index
    if series:
        # every run failed: an empty matrix keeps the chunk accounted for
        matrix = (np.empty((0, 2 + len(series) * n_steps)) if result.monthly is None
                  else result.monthly)
        path = chunk_path(out, MONTHLY, c)
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = io.BytesIO()
        np.save(sink, matrix, allow_pickle=False)
        write_bytes(path, sink.getvalue())
    if per_run_series and series:
        table = result.series if result.series is not None else (
            series_schema(series).empty_table())
        _write(chunk_path(out, SERIES, c), table)
    _write(chunk_path(out, RUNS, c), result.runs)


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, _parquet_bytes(table))


def chunk_done(out: Path, c: int, manifest: dict[str, Any]) -> bool:
    """Whether chunk ``c`` needs no run: its runs file is there, and so is what the rest of
    the sweep still needs from it (the per-run series; the scratch series until the quantiles
    exist)."""
    if not chunk_path(out, RUNS, c).is_file():
        return False
    series = manifest["outputs"]["series"]
    if series and manifest["outputs"]["per_run_series"] and not (
            chunk_path(out, SERIES, c).is_file()):
        return False
    if series and not (out / SERIES_QUANTILES).is_file() and not (
            chunk_path(out, MONTHLY, c).is_file()):
        return False
    return True


def check_chunk(out: Path, c: int, manifest: dict[str, Any], expected_rows: int) -> str | None:
    """A problem with a finished chunk's runs file (wrong rows or columns), else None."""
    path = chunk_path(out, RUNS, c)
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (OSError, pa.ArrowException) as exc:
        return f"{path}: cannot read ({' '.join(str(exc).split())[:200]})"
    want = arrow_schema([tuple(c) for c in manifest["columns"]])
    if meta.num_rows != expected_rows:
        return f"{path}: holds {meta.num_rows} runs where the manifest plans {expected_rows}"
    if not schema.equals(want):
        return f"{path}: its columns are not the manifest's"
    return None


# --- the manifest ---------------------------------------------------------------------------------


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_text(out / MANIFEST, json.dumps(manifest, indent=1, allow_nan=False) + "\n")


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest, read through the one bounded reader; ValueError (one line) when it is not
    a sweep manifest."""
    from ixsim.sim.inputfiles import InputFileError, read_text

    try:
        text, _ = read_text(out / MANIFEST, MAX_MANIFEST_BYTES, "sweep manifest")
        manifest = json.loads(text)
    except InputFileError as exc:
        raise ValueError(exc.message) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({exc.__class__.__name__})") from None
    keys = ("spec", "spec_hash", "n_runs", "n_chunks", "chunk_size", "columns", "outputs")
    if not isinstance(manifest, dict) or any(k not in manifest for k in keys):
        raise ValueError("not a sweep manifest (written by ixsim sweep)")
    return manifest


def versions() -> dict[str, str | None]:
    from importlib import metadata

    from ixsim import __version__

    out: dict[str, str | None] = {"ixsim": __version__}
    for name in ("mesa", "numpy", "scipy", "dask", "distributed", "pyarrow", "SALib"):
        try:
            out[name.lower()] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name.lower()] = None
    return out


def git_commit() -> str | None:
    """The commit of the source tree ixsim runs from (``git rev-parse HEAD``, read-only), with
    ``-dirty`` when tracked files differ from it; None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


# --- the end -----------------------------------------------------------------------------------


def write_series_quantiles(out: Path, manifest: dict[str, Any], times: np.ndarray) -> None:
    """series_quantiles.parquet from the scratch chunks, a block of steps at a time."""
    series = list(manifest["outputs"]["series"])
    n_sets = len(manifest["lever_sets"])
    n_steps = len(times)
    files = [chunk_path(out, MONTHLY, c) for c in range(manifest["n_chunks"])] if series else []
    sets = np.concatenate([_columns(f, [slice(1, 2)])[0][:, 0] for f in files]).astype(
        np.int64) if files else np.empty(0, np.int64)
    rows = len(sets)
    q = np.full((n_sets, len(series), n_steps, len(QUANTILES)), np.nan)
    block = max(1, BLOCK_VALUES // max(1, rows * max(1, len(series))))
    for start in range(0, n_steps if series else 0, block):
        stop = min(n_steps, start + block)
        wanted = [slice(2 + i * n_steps + start, 2 + i * n_steps + stop)  # s@start .. s@stop-1
                  for i in range(len(series))]
        parts = [_columns(f, wanted) for f in files]
        for i, s in enumerate(series):
            values = np.concatenate([p[i] for p in parts]) if parts else (
                np.empty((0, stop - start)))
            for ls in range(n_sets):
                chosen = values[sets == ls]
                if len(chosen):
                    with warnings.catch_warnings():  # a step where every value is NaN
                        warnings.simplefilter("ignore", RuntimeWarning)
                        q[ls, i, start:stop, :] = np.nanquantile(chosen, QUANTILES, axis=0).T
    n = n_sets * len(series) * n_steps
    lever_set = np.repeat(np.arange(n_sets, dtype=np.int64), len(series) * n_steps)
    names = np.tile(np.repeat(np.array(series, dtype=object), n_steps), n_sets)
    time = np.tile(np.asarray(times, dtype=float), n_sets * len(series))
    flat = q.reshape(n, len(QUANTILES))
    table = pa.table({
        "lever_set": pa.array(lever_set, pa.int64()),
        "time": pa.array(time, pa.float64()),
        "series": pa.array(names.tolist() if n else [], pa.string()),
        **{f"q{round(p * 100)}": pa.array(flat[:, j], pa.float64(), from_pandas=True)
           for j, p in enumerate(QUANTILES)},
    })
    write_bytes(out / SERIES_QUANTILES, _parquet_bytes(table))


def _columns(path: Path, wanted: list[slice]) -> list[np.ndarray]:
    """Copies of some column ranges of a scratch matrix, read through a memory map that is
    closed again (its pages do not stay in the process's memory)."""
    mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    try:
        return [np.array(mapped[:, cols]) for cols in wanted]
    finally:
        del mapped


def finish(out: Path, manifest: dict[str, Any], times: np.ndarray) -> None:
    """The end of a sweep whose chunks are all written: the quantiles (unless already there),
    the scratch removed, the manifest marked complete."""
    if not (out / SERIES_QUANTILES).is_file():
        write_series_quantiles(out, manifest, times)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(out / MONTHLY)
    if not manifest.get("complete"):
        manifest["complete"] = True
        write_manifest(out, manifest)


def count_status(out: Path, n_chunks: int) -> dict[str, int]:
    """Runs by status over the whole store (one column read per chunk)."""
    counts: dict[str, int] = {}
    for c in range(n_chunks):
        path = chunk_path(out, RUNS, c)
        if not path.is_file():
            continue
        status = pq.read_table(path, columns=["status"])["status"]
        for entry in pc.value_counts(status).to_pylist():
            counts[entry["values"]] = counts.get(entry["values"], 0) + entry["counts"]
    return counts
