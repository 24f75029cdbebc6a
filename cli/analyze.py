"""``ixsim analyze DIR [--condition SQL] [--metric NAME ...] [--out FILE]``: what a sweep store
says. Writes analysis.json atomically (``ixsim.analysis.files``) and prints the outcome
quantiles and P(successor training by each year) per lever set, the Sobol or Morris indices
(stores sampled for them) and, with ``--condition``, the PRIM boxes. Bad input (not a store, a
condition DuckDB cannot evaluate, an unknown metric, an unwritable --out): one ``error: ...``
line, exit 2.

Registered in cli/app.py as ``app.command("analyze")(analyze_command)``; pandas, DuckDB, SALib
and EMA Workbench load inside the command.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ixsim.cli.errors import fail
from ixsim.cli.options import write_document


def _table() -> Table:
    """Legible at 80 columns: numbers never wrap (a column too narrow folds), text wraps. The
    title is printed above it as its own line (a table's title wraps to the table's width)."""
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)


Section = tuple[str, Table]  # a title line and its table


def _number(value: Any, metric: str = "") -> str:
    """A statistic: dates to two decimals, others to three significant figures; a censored
    statistic as given ("> 2045"); missing as "-"."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if metric.endswith("_year") and not metric.endswith("_per_year"):
        return f"{value:.2f}"
    return f"{value:.3g}"


def _levers(entry: dict[str, Any]) -> str:
    levers = entry.get("levers") or {}
    text = ", ".join(f"{k}={v}" for k, v in levers.items()) or "no levers"
    return f"lever set {entry['lever_set']} ({text})"


def distribution_tables(document: dict[str, Any]) -> list[Section]:
    tables = []
    for entry in document["distributions"]["by_lever_set"]:
        title = (f"outcomes, {_levers(entry)}: {entry['n_ok']} runs"
                 + (f", {entry['n_failed']} failed" if entry["n_failed"] else ""))
        table = _table()
        table.add_column("metric", overflow="fold")
        for header in ("n", "q10", "q50", "q90", "mean"):
            table.add_column(header, justify="right", no_wrap=True, overflow="fold")
        for metric, s in entry["metrics"].items():
            n = str(s["n"]) + (f" ({s['censored']} cens.)" if s.get("censored") else "")
            table.add_row(Text(metric), n, *(_number(s[k], metric)
                                             for k in ("q10", "q50", "q90", "mean")))
        tables.append((title, table))
    return tables


def by_year_tables(document: dict[str, Any]) -> list[Section]:
    block = document.get("successor_by_year")
    if not block:
        return []
    tables = []
    for entry in block["by_lever_set"]:
        title = (f"P(successor training by the end of the year), {_levers(entry)}; "
                 f"{block['interval']} interval")
        table = _table()
        for header in ("year", "P", "95% interval", "runs"):
            table.add_column(header, justify="right", no_wrap=True, overflow="fold")
        for row in entry["years"]:
            table.add_row(str(row["year"]), f"{row['p']:.3f}",
                          f"{row['low']:.3f}..{row['high']:.3f}", f"{row['hits']}/{row['n']}")
        tables.append((title, table))
    return tables


SENSITIVITY_COLUMNS = {
    "sobol": (("S1", "S1_conf"), ("ST", "ST_conf")),
    "morris": (("mu_star", "mu_star_conf"), ("sigma", "sigma_conf")),
}


def sensitivity_tables(document: dict[str, Any]) -> list[Section]:
    block = document.get("sensitivity")
    if not block:
        return []
    method = block["method"]
    pairs = SENSITIVITY_COLUMNS[method]
    averaged = (f"; each sample's {block['seeds_per_sample']} seeds averaged"
                if (block.get("seeds_per_sample") or 1) > 1 else "")
    tables = []
    for entry in block["by_lever_set"]:
        label = "Sobol indices (95% bootstrap)" if method == "sobol" else (
            "Morris screening, unit-cube effects (95% bootstrap)")
        title = f"{label}, {_levers(entry)}{averaged}"
        table = _table()
        table.add_column("output", overflow="fold")
        table.add_column("parameter", overflow="fold")
        for value, _ in pairs:
            table.add_column(value.replace("_star", "*"), justify="right", no_wrap=True)
            table.add_column("+-", justify="right", no_wrap=True)
        for metric, result in entry["outputs"].items():
            if "error" in result:
                table.add_row(Text(metric), Text(f"not analysed: {result['error']}"),
                              *[""] * (2 * len(pairs)), end_section=True)
                continue
            rows = result["parameters"]
            for i, p in enumerate(rows):
                cells = []
                for value, conf in pairs:
                    cells += [_number(p[value]), _number(p[conf])]
                table.add_row(Text(metric if i == 0 else ""), Text(p["name"]), *cells,
                              end_section=i == len(rows) - 1)
        tables.append((title, table))
    return tables


def prim_tables(document: dict[str, Any]) -> tuple[list[str], list[Section]]:
    block = document.get("prim")
    if not block:
        return [], []
    lines = [f"PRIM on {block['condition']!r}: {block['cases_of_interest']} of {block['n']} runs "
             f"meet it; threshold: density >= {block['threshold']:g} (each box: the largest "
             "coverage x density on its peeling trajectory)"]
    if block.get("note"):
        lines.append(f"no box: {block['note']}")
    tables = []
    for number, found in enumerate(block["boxes"], start=1):
        title = (f"box {number}: coverage {found['coverage']:.2f}, density "
                 f"{found['density']:.2f}, mass {found['mass']:.2f} "
                 f"({found['cases_of_interest']} of {found['n']} runs)")
        table = _table()
        table.add_column("input", overflow="fold")
        for header in ("min", "max", "quasi-p"):
            table.add_column(header, justify="right", no_wrap=True, overflow="fold")
        for limit in found["limits"]:
            if "values" in limit:
                table.add_row(Text(limit["name"]), Text(", ".join(map(str, limit["values"]))),
                              "", "")
                continue
            qps = [q for q in (limit["qp_min"], limit["qp_max"]) if q is not None]
            table.add_row(Text(limit["name"]), _number(limit["min"]), _number(limit["max"]),
                          f"{max(qps):.2g}" if qps else "-")
        tables.append((title, table))
    return lines, tables


def analyze_command(
    directory: Annotated[str, typer.Argument(metavar="DIR", help="a sweep store (ixsim sweep)")],
    condition: Annotated[str | None, typer.Option(
        "--condition", metavar="SQL",
        help='a condition on each run for PRIM, e.g. "successor_training_year < 2029" (DuckDB '
             "SQL; a missing, censored value makes it false)")] = None,
    metric: Annotated[list[str] | None, typer.Option(
        "--metric", metavar="NAME",
        help="analyse this outcome column (repeatable; default: the headline metrics)")] = None,
    out: Annotated[str, typer.Option("--out", metavar="FILE",
                                     help="where to write the JSON document")] = "analysis.json",
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON document")] = False,
) -> None:
    """Analyse a sweep store: quantiles, P(successor by year), Sobol/Morris indices, PRIM."""
    from ixsim.analysis.files import OutputError, check_file
    from ixsim.analysis.query import QueryError, StoreError, condition_mask, load_runs
    from ixsim.analysis.sensitivity import AnalysisError, analyze, check_metrics

    try:
        check_file(out)  # before the work; the writer checks again
    except OutputError as exc:
        fail(f"--out: {exc}")
    try:
        manifest, runs = load_runs(directory)
    except StoreError as exc:
        fail(str(exc))
    if metric:
        try:
            check_metrics(runs, manifest, metric)
        except AnalysisError as exc:
            fail(f"--metric: {exc}")
    hit = None
    if condition is not None:
        try:
            hit = condition_mask(runs, condition)
        except QueryError as exc:
            fail(f"--condition: {exc}")
    try:
        document = analyze(runs, manifest, metrics=metric, condition=condition, hit=hit)
    except AnalysisError as exc:
        fail(f"{directory}: {exc}")
    document["store"]["path"] = directory
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_document(out, text)

    if as_json:
        sys.stdout.write(text)
        return
    console = Console()
    runs_line = document["runs"]
    console.print(f"ixsim analyze: {directory} ({document['store']['sampler']}, "
                  f"{runs_line['ok']} runs ok, {runs_line['failed']} failed)",
                  highlight=False, markup=False, soft_wrap=True)
    lines, boxes = prim_tables(document)
    for title, table in (distribution_tables(document) + by_year_tables(document)
                         + sensitivity_tables(document)):
        console.print(title, highlight=False, markup=False)
        console.print(table)
    for line in lines:
        console.print(line, highlight=False, markup=False)
    for title, table in boxes:
        console.print(title, highlight=False, markup=False)
        console.print(table)
    console.print(f"wrote {out}", highlight=False, markup=False, soft_wrap=True)
