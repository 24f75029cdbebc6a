"""``ixsim backtest``: a calibration from its start to the present against the published rates
(docs/calibration.md). Prints a table (or ``--json``), writes backtest.json atomically and exits
0 only when every counted check passes (1 otherwise; bad input: one ``error: ...`` line, 2).

Registered in cli/app.py as ``app.command("backtest")(backtest_command)``; this module does not
import ixsim.cli.app, and imports the analysis (numpy, the model) only inside the command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ixsim.cli.errors import EXIT_FAILED, fail
from ixsim.cli.options import CalibrationOption, SetOption, load, resolve

if TYPE_CHECKING:
    from ixsim.analysis.backtest import Check


def _num(value: float | None, digits: bool = False) -> str:
    """Three significant figures; ``digits`` keeps trailing zeros (4.70, not 4.7)."""
    if value is None:
        return "n/a"
    return f"{value:#.3g}" if digits else f"{value:.3g}"


def _published(check: Check) -> str:
    """The published value over its range (two lines; either may be ``-``)."""
    value = _num(check.published) if check.published is not None else "-"
    if check.low is None or check.high is None:
        return f"{value}\n-"
    return f"{value}\n{_num(check.low)}..{_num(check.high)}"


def backtest_table(checks: list[Check], title: str) -> Table:
    """Legible at 80 columns: numbers never wrap or get cut (``no_wrap``; a column too narrow
    folds onto the next line instead of ending in an ellipsis); the text columns wrap."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, collapse_padding=True)
    table.add_column("check", overflow="fold")
    table.add_column("CAL row\n(range)", overflow="fold")
    for header in ("modelled", "published\nrange"):
        table.add_column(header, justify="right", no_wrap=True, overflow="fold")
    table.add_column("units", no_wrap=True, overflow="fold")
    table.add_column("result", no_wrap=True, overflow="fold")
    for c in checks:
        cal = f"{c.cal}\n({c.range_kind})" if c.low is not None else c.cal
        table.add_row(c.name, cal,
                      _num(c.modelled, digits=True), _published(c), c.units, c.result)
    return table


def _scenario_label(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def backtest_command(
    json_: Annotated[bool, typer.Option("--json", help="print the JSON document")] = False,
    until: Annotated[float | None, typer.Option(
        "--until", help="end of the backtest, decimal year (default: today)")] = None,
    out: Annotated[str, typer.Option("--out", metavar="FILE",
                                     help="where to write the JSON document")] = "backtest.json",
    scenario: Annotated[str | None, typer.Option(
        "--scenario", metavar="SCENARIO",
        help="scenario name or TOML file to backtest (default: baseline)")] = None,
    set_: SetOption = None,
    calibration: CalibrationOption = None,
) -> None:
    """Backtest a calibration (default: the baseline) against the published rates."""
    from ixsim.analysis.backtest import (DEFAULT_SCENARIO, ROOT, all_passed, checks_from_result,
                                         counted, to_json, today_decimal_year, with_end_year)
    from ixsim.analysis.files import OutputError, check_file, write_text
    from ixsim.cli.launch import cleanup_on_interrupt
    from ixsim.sim.model import simulate

    path = DEFAULT_SCENARIO if scenario is None else resolve(scenario)
    overrides = list(set_ or [])
    today = until is None
    end = today_decimal_year() if today else float(until)
    spec = load(path, overrides, calibration=calibration)
    try:
        spec = with_end_year(spec, end)
    except ValueError as exc:
        fail(f"--until: {exc}")
    try:
        check_file(out)  # before the run; the writer checks again
    except OutputError as exc:
        fail(f"--out: {exc}")

    checks = checks_from_result(spec, simulate(spec, seed=0), end)
    extra = {
        "start": spec.meta.start_year,
        "until_source": "today" if today else "--until",
        "scenario_file": _scenario_label(path, ROOT),
        "overrides": overrides,
        "calibration_source": spec.calibration_source,
        "seed": 0,
    }
    text = to_json(checks, end, spec.meta.name, extra)
    try:
        with cleanup_on_interrupt():  # a Ctrl-C while writing removes the temporary file
            write_text(out, text)
    except OutputError as exc:
        fail(f"--out: {exc}")
    except OSError as exc:
        fail(f"--out: {out}: cannot write ({exc.strerror or exc})")

    passed = all_passed(checks)
    if json_:
        sys.stdout.write(text)
    else:
        console = Console()
        title = (f"ixsim backtest: {spec.meta.name}, {spec.meta.start_year:.2f} to {end:.2f}"
                 + (" (today)" if today else ""))
        console.print(backtest_table(checks, title))
        rows = counted(checks)
        console.print(f"{sum(1 for c in rows if c.passed)} of {len(rows)} checks pass",
                      highlight=False, markup=False)
        console.print(f"wrote {out}", highlight=False, markup=False)
    raise typer.Exit(0 if passed else EXIT_FAILED)
