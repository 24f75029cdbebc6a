"""``ixsim query DIR "SQL" [--csv]``: read-only SQL (DuckDB) over a sweep store's views
``runs``, ``series`` and ``series_quantiles``; a table for people or CSV for programs. A refused
or failing statement, or a folder that is not a store: one ``error: ...`` line, exit 2.

Registered in cli/app.py as ``app.command("query")(query_command)``; DuckDB loads inside the
command.
"""

from __future__ import annotations

import csv
import math
import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ixsim.cli.errors import fail

MAX_TABLE_ROWS = 1000  # the table shows this many rows; --csv prints every row


def _cell(value: Any) -> str:
    """A value as the table shows it: floats to six significant figures, NULL for missing."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "NULL" if math.isnan(value) else f"{value:.6g}"
    return str(value)


NUMERIC_TYPES = ("INTEGER", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL", "HUGEINT", "SMALLINT",
                 "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT")
GAP = 2  # the space between two columns of the table


def _caption(shown: int, total: int) -> str:
    return (f"first {shown} of {total} rows; --csv prints them all" if total > shown
            else f"{total} row{'s' * (total != 1)}")


def _compact(table: Table) -> Table:
    table.box = box.SIMPLE_HEAD
    table.show_edge = table.pad_edge = False
    table.collapse_padding = True
    table.caption_justify = "left"
    return table


def result_table(columns: list[str], types: list[str], rows: list[tuple[Any, ...]],
                 width: int) -> Table:
    """The rows as a table ``width`` columns wide or less: one line a row when every column
    fits at its full width (numbers right-aligned), otherwise one block a row, a line per
    column ("column  value"), so no value is ever cut. At most MAX_TABLE_ROWS rows (the
    caption says how many more)."""
    shown = [[_cell(v) for v in row] for row in rows[:MAX_TABLE_ROWS]]
    caption = _caption(len(shown), len(rows))
    widths = [max([len(name)] + [len(row[i]) for row in shown]) for i, name in enumerate(columns)]
    if sum(widths) + GAP * (len(widths) - 1) <= width:
        table = _compact(Table(caption=caption))
        for name, kind in zip(columns, types):
            numeric = kind.startswith(NUMERIC_TYPES)
            table.add_column(Text(name), justify="right" if numeric else "left", no_wrap=True)
        for row in shown:
            table.add_row(*(Text(v) for v in row))  # Text: never read as markup
        return table
    table = _compact(Table(caption=caption, show_header=False))
    table.add_column("column", overflow="fold", max_width=max(12, width // 3))
    table.add_column("value", overflow="fold")
    for number, row in enumerate(shown):
        table.add_row(Text(f"row {number + 1}", style="bold"), "", end_section=False)
        for i, (name, value) in enumerate(zip(columns, row)):
            table.add_row(Text(name), Text(value), end_section=i == len(columns) - 1)
    return table


def write_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """CSV on stdout: a header, then every row (floats at full precision, NULL as empty)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v)) else
                         repr(v) if isinstance(v, float) else v for v in row])


def query_command(
    directory: Annotated[str, typer.Argument(metavar="DIR", help="a sweep store (ixsim sweep)")],
    sql: Annotated[str, typer.Argument(
        metavar="SQL", help="one read-only statement (SELECT, WITH, DESCRIBE, SUMMARIZE) over "
                            "the views runs, series and series_quantiles")],
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
) -> None:
    """Query a sweep store with SQL (DuckDB, read only)."""
    from ixsim.analysis.query import QueryError, StoreError, run_query

    try:
        result = run_query(directory, sql)
    except StoreError as exc:
        fail(str(exc))
    except QueryError as exc:
        fail(f"query: {exc}")
    if as_csv:
        write_csv(result.columns, result.rows)
        return
    console = Console()
    console.print(result_table(result.columns, result.types, result.rows, console.width),
                  highlight=False)
