"""Read a sweep store with DuckDB: read-only SQL over its runs, and conditions on its runs.

A sweep store (written by ``ixsim.analysis.sweep``) is a folder holding ``manifest.json``,
``runs/chunk-NNNNN.parquet`` (one row per run) and, optionally, ``series/chunk-NNNNN.parquet``
and ``series_quantiles.parquet``. ``connect`` opens an in-process DuckDB database with one view
per table (``runs``, ``series``, ``series_quantiles``) and then locks it down: files outside the
store cannot be read, nothing can be written, extensions are not installed, and the settings
cannot be changed back. ``run_query`` accepts one statement of DuckDB's SELECT kind (SELECT,
WITH ..., FROM-first, VALUES, DESCRIBE, SUMMARIZE, SHOW), checked with DuckDB's own parser.

Censored and undefined values: the views turn floating-point NaN into SQL NULL, so a censored
date (no successor training by the run's end) is NULL whether the engine wrote NaN or null, and
any comparison with it is NULL (false in a WHERE clause or a ``--condition``).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

MANIFEST = "manifest.json"
RUNS_GLOB = "runs/chunk-*.parquet"
SERIES_GLOB = "series/chunk-*.parquet"
SERIES_QUANTILES = "series_quantiles.parquet"
ALLOWED = "SELECT, WITH, DESCRIBE or SUMMARIZE"


class StoreError(Exception):
    """A folder that is not a readable sweep store (no manifest, unreadable manifest, no runs)."""


class QueryError(Exception):
    """SQL that is refused (not one read-only statement) or that DuckDB cannot run."""


@dataclass(frozen=True)
class QueryResult:
    """A query's answer: column names, DuckDB type names and the rows (tuples)."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The store's manifest.json; StoreError if it is missing or not a JSON object."""
    path = Path(directory) / MANIFEST
    if not Path(directory).is_dir():
        raise StoreError(f"{directory}: no such folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{directory}: no {MANIFEST} (not a sweep store)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: cannot read ({exc})") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"{path}: not a JSON object")
    return manifest


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_name(name: str) -> str:
    """A column name as a DuckDB identifier (dotted names such as "software.returns_r")."""
    return '"' + name.replace('"', '""') + '"'


def _nan_as_null(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A SELECT over ``source`` in which every floating-point NaN reads as NULL."""
    described = con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    floats = [name for name, kind, *_ in described if kind in ("DOUBLE", "FLOAT")]
    if not floats:
        return f"SELECT * FROM {source}"
    replaced = ", ".join(f"CASE WHEN isnan({quote_name(n)}) THEN NULL ELSE {quote_name(n)} END "
                         f"AS {quote_name(n)}" for n in floats)
    return f"SELECT * REPLACE ({replaced}) FROM {source}"


def _lock_down(con: duckdb.DuckDBPyConnection, directory: Path) -> None:
    """Only the store's own files may be read from now on, and no setting may change."""
    folder = str(directory.resolve()) + os.sep
    con.execute(f"SET allowed_directories = [{_quote_literal(folder)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


def connect(directory: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the store's views (``runs``, and ``series`` and
    ``series_quantiles`` where the store has them), locked to reading the store's files.
    StoreError if the folder is not a store or holds no run chunk yet."""
    directory = Path(directory)
    read_manifest(directory)
    if not any((directory / "runs").glob("chunk-*.parquet")):
        raise StoreError(f"{directory}: no runs yet ({RUNS_GLOB} matches nothing)")
    views = {"runs": RUNS_GLOB}
    if any((directory / "series").glob("chunk-*.parquet")):
        views["series"] = SERIES_GLOB
    if (directory / SERIES_QUANTILES).is_file():
        views["series_quantiles"] = SERIES_QUANTILES
    con = duckdb.connect(":memory:")
    try:
        for name, pattern in views.items():
            source = (f"read_parquet({_quote_literal(str(directory.resolve() / pattern))}, "
                      "union_by_name = true)")
            con.execute(f"CREATE VIEW {name} AS {_nan_as_null(con, source)}")
        _lock_down(con, directory)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"{directory}: cannot read the store ({_message(exc)})") from None
    return con


def _message(exc: Exception) -> str:
    """DuckDB's message without the caret lines that point into the query text."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line for line in lines if line and not line.startswith("LINE ")
            and set(line) != {"^"}]
    return " ".join(kept)


def check_read_only(sql: str) -> str:
    """``sql`` if it is exactly one statement of DuckDB's SELECT kind (parsed by DuckDB);
    QueryError otherwise."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(_message(exc)) from None
    if not statements:
        raise QueryError("empty query")
    if len(statements) > 1:
        raise QueryError(f"one statement at a time (got {len(statements)})")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryError(f"read-only: only {ALLOWED} statements are run "
                         f"(got {kind.name.lower().replace('_', ' ')})")
    return sql


def run_query(directory: str | os.PathLike, sql: str) -> QueryResult:
    """Run one read-only statement against the store's views. StoreError for a folder that is
    not a store; QueryError for a refused or failing statement."""
    check_read_only(sql)
    con = connect(directory)
    try:
        relation = con.sql(sql)
        if relation is None:  # not a query after all
            raise QueryError(f"read-only: only {ALLOWED} statements are run")
        return QueryResult(list(relation.columns), [str(t) for t in relation.types],
                           relation.fetchall())
    except duckdb.Error as exc:
        raise QueryError(_message(exc)) from None
    finally:
        con.close()


def load_runs(directory: str | os.PathLike) -> tuple[dict[str, Any], pd.DataFrame]:
    """(manifest, runs) of a store: every row of ``runs`` ordered by run_id, NaN and NULL both
    as NaN (pandas) in float columns."""
    manifest = read_manifest(directory)
    con = connect(directory)
    try:
        runs = con.sql("SELECT * FROM runs ORDER BY run_id").df()
    except duckdb.Error as exc:
        raise StoreError(f"{directory}: cannot read the runs ({_message(exc)})") from None
    finally:
        con.close()
    return manifest, runs


CONDITION_SECONDS = 10.0  # a condition that takes longer is interrupted (the dashboards share a server)
CONDITION_MEMORY = "512MB"


def condition_mask(runs: pd.DataFrame, condition: str) -> np.ndarray:
    """Evaluate a SQL boolean expression (e.g. ``successor_training_year < 2029``) on each row
    of ``runs`` with DuckDB: a boolean array in row order. NULL (a censored or undefined value
    in the comparison) counts as false. The text is parsed as one expression by DuckDB's own
    parser (never pasted into a statement), run with no file access, one thread, a memory cap
    and a time limit. QueryError for an expression that does not parse, names a missing
    column, is not true/false, or runs too long."""
    try:
        expression = duckdb.SQLExpression(condition)
    except duckdb.Error as exc:
        raise QueryError(_message(exc)) from None
    con = duckdb.connect(":memory:")
    timer = threading.Timer(CONDITION_SECONDS, con.interrupt)
    try:
        con.execute("SET enable_external_access = false")
        con.execute("SET threads = 1")
        con.execute(f"SET memory_limit = '{CONDITION_MEMORY}'")
        con.execute("SET lock_configuration = true")
        con.register("runs_frame", runs)
        con.execute(f"CREATE VIEW runs AS {_nan_as_null(con, 'runs_frame')}")
        relation = con.table("runs").select(expression.alias("hit"))
        kind = str(relation.types[0])
        if kind != "BOOLEAN":
            raise QueryError(f"must be true or false for each run (got {kind})")
        timer.start()
        hit = [value is True for (value,) in relation.fetchall()]  # insertion order kept
    except duckdb.InterruptException:
        raise QueryError(f"took longer than {CONDITION_SECONDS:g} s; simplify it") from None
    except duckdb.Error as exc:
        raise QueryError(_message(exc)) from None
    finally:
        timer.cancel()
        con.close()
    if len(hit) != len(runs):
        raise QueryError("not one answer per run")
    return np.asarray(hit, dtype=bool)
