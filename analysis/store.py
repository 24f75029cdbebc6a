"""Run outputs on disk: summary.json and Parquet tables (world, labs, events), published as one
folder (``ixsim.analysis.files.write_all``: all of a run's files or none, never a mix of runs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ixsim.analysis.files import write_all
from ixsim.sim.events import EVENT_COLUMNS
from ixsim.sim.results import RunResult


def summary_json(summary: dict[str, Any]) -> str:
    """Stable JSON text of a summary (sorted keys, full float precision)."""
    return json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _table(columns: dict[str, Any]) -> pa.Table:
    return pa.table({name: pa.array(list(v) if not hasattr(v, "dtype") or v.dtype == object else v)
                     for name, v in columns.items()})


def _events_table(events: dict[str, list[Any]]) -> pa.Table:
    schema = pa.schema([("time", pa.float64()), ("kind", pa.string()), ("lab", pa.string()),
                        ("value", pa.float64()), ("jurisdiction", pa.string()),
                        ("level", pa.int64()), ("detail", pa.string())])
    return pa.table({name: events[name] for name in EVENT_COLUMNS}, schema=schema)


def _parquet_writer(table: pa.Table):
    def write(path: Path) -> None:
        # no statistics timestamps or pandas metadata: bytes depend only on the data
        pq.write_table(table, path, compression="zstd")
    return write


RUN_FILES = ("summary.json", "world.parquet", "labs.parquet", "events.parquet", "network.json",
             "trajectory.png")  # every file a run folder may hold (the figure is optional)


def run_writers(result: RunResult, extra: dict[str, Any] | None = None
                ) -> dict[str, Callable[[Path], None]]:
    """File name -> writer of that file, for the data files of one run (``write_all``'s form)."""
    summary = result.summary()
    if extra:
        summary.update(extra)
    text = summary_json(summary)
    return {
        "world.parquet": _parquet_writer(_table(result.world)),
        "labs.parquet": _parquet_writer(_table(result.labs)),
        "events.parquet": _parquet_writer(_events_table(result.events)),
        "network.json": lambda p: p.write_text(
            json.dumps(result.network, indent=1, sort_keys=True) + "\n", encoding="utf-8"),
        "summary.json": lambda p: p.write_text(text, encoding="utf-8"),
    }


def write_run(result: RunResult, directory: str | Path,
              extra: dict[str, Any] | None = None,
              also: dict[str, Callable[[Path], None]] | None = None) -> list[Path]:
    """Write summary.json, world/labs/events Parquet tables and network.json for one run (and
    the files ``also`` names, e.g. the figure) as one folder, published whole: ``directory``
    then holds this run's files and nothing else (``ixsim.analysis.files.write_all``)."""
    return write_all({**run_writers(result, extra), **(also or {})}, directory, owned=RUN_FILES)


META_KEYS = ("scenario", "seed", "start_year", "calibration", "calibration_source",
             "ixsim_version")


def read_run(directory: str | Path) -> RunResult:
    """The RunResult a run folder holds (``write_run``'s inverse): its metrics recompute the same."""
    directory = Path(directory)
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    world = {name: column.to_numpy() for name, column in
             zip(*_columns(pq.read_table(directory / "world.parquet")))}
    labs = {name: column.to_numpy(zero_copy_only=False) for name, column in
            zip(*_columns(pq.read_table(directory / "labs.parquet")))}
    labs["lab"] = labs["lab"].astype(object)
    labs["jurisdiction"] = labs["jurisdiction"].astype(object)
    events = pq.read_table(directory / "events.parquet").to_pydict()
    network = json.loads((directory / "network.json").read_text(encoding="utf-8"))
    n_labs = len(labs["time"]) // max(len(world["time"]), 1)
    return RunResult({key: summary[key] for key in META_KEYS}, list(labs["lab"][:n_labs]), world,
                     labs, events, network)


def _columns(table: pa.Table) -> tuple[list[str], list[pa.ChunkedArray]]:
    return table.column_names, table.columns
