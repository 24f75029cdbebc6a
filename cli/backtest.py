"""``ixsim backtest``: the default calibration from its start to the present against the published
rates of CALIBRATION.md. Prints a table (or ``--json``), writes backtest.json atomically and exits
0 only when every counted check passes (1 otherwise; bad input: one ``error: ...`` line, 2).

Registered in sim/cli.py as ``app.command("backtest")(backtest_command)``; this module does not
import ixsim.cli.app.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ixsim.analysis.backtest import (DEFAULT_SCENARIO, ROOT, Check, all_passed, checks_from_result,
                               counted, today_decimal_year, to_json, with_end_year)


def _fail(lines: list[str]) -> NoReturn:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for line in lines:
        err.print(line, markup=False)
    raise typer.Exit(2)


def _num(value: float | None, digits: bool = False) -> str:
    """Three significant figures; ``digits`` keeps trailing zeros (4.70, not 4.7)."""
    if value is None:
        return "n/a"
    return f"{value:#.3g}" if digits else f"{value:.3g}"


def _range(check: Check) -> str:
    if check.low is None or check.high is None:
        return "-"
    return f"{_num(check.low)}..{_num(check.high)}\n{check.range_kind}"


def backtest_table(checks: list[Check], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("check")
    table.add_column("CAL row")
    table.add_column("modelled", justify="right")
    table.add_column("published", justify="right")
    table.add_column("range")
    table.add_column("units")
    table.add_column("result")
    for c in checks:
        published = _num(c.published) if c.published is not None else "-"
        table.add_row(c.name, c.cal, _num(c.modelled, digits=True), published, _range(c),
                      c.units, c.result)
    return table


def _scenario_label(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def backtest_command(
    json_: Annotated[bool, typer.Option("--json", help="print the JSON document")] = False,
    until: Annotated[float | None, typer.Option(
        "--until", help="end of the backtest, decimal year (default: today)")] = None,
    out: Annotated[Path, typer.Option("--out", help="where to write the JSON document")] = Path(
        "backtest.json"),
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="PATH=VALUE",
        help="override a field of the default calibration, e.g. software.rate_per_year=0.5",
    )] = None,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="measured calibration file (ixsim calibrate) to use instead of "
                              "the published r and scaling exponents")] = None,
) -> None:
    """Backtest the default calibration against the published rates (CALIBRATION.md)."""
    from ixsim.analysis.files import write_text
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import ScenarioError, load_scenario

    scenario = DEFAULT_SCENARIO
    overrides = list(set_ or [])
    today = until is None
    end = today_decimal_year() if today else float(until)
    try:
        spec = load_scenario(scenario, overrides, calibration)
    except ScenarioError as exc:
        _fail(exc.lines())
    try:
        spec = with_end_year(spec, end)
    except ValueError as exc:
        _fail([f"error: --until: {exc}"])
    if out.is_dir():
        _fail([f"error: --out: {out}: is a folder"])

    checks = checks_from_result(spec, simulate(spec, seed=0), end)
    extra = {
        "start": spec.meta.start_year,
        "until_source": "today" if today else "--until",
        "scenario_file": _scenario_label(scenario),
        "overrides": overrides,
        "calibration_source": spec.calibration_source,
        "seed": 0,
    }
    text = to_json(checks, end, spec.meta.name, extra)
    try:
        write_text(out, text)
    except OSError as exc:
        _fail([f"error: --out: {out}: cannot write ({exc.strerror or exc})"])

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
    raise typer.Exit(0 if passed else 1)

