"""The ``ixsim`` command line: run, validate and params (Typer + Rich).

Bad input never shows a traceback: every problem is one ``error: ...`` line and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ixsim.sim.scenario import Scenario, ScenarioError, field_table, load_scenario

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Simulate intelligence-explosion dynamics.")
out_console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE", help="override a scenario field, e.g. software.returns_r=1.5")]


class UserError(Exception):
    """A one-line problem with the user's input (exit status 2)."""


def _fail(lines: list[str]) -> None:
    for line in lines:
        err_console.print(line, markup=False)
    raise typer.Exit(2)


CalibrationOption = Annotated[Path | None, typer.Option(
    "--calibration", metavar="FILE",
    help="measured calibration (ixsim calibrate) in place of the published r and exponents")]


def _load(path: Path, overrides: list[str] | None, until: float | None = None,
          calibration: Path | None = None) -> Scenario:
    sets = list(overrides or [])
    if until is not None:
        sets.append(f"meta.end_year={until!r}")
    try:
        return load_scenario(path, sets, calibration)
    except ScenarioError as exc:
        _fail(exc.lines())
        raise  # unreachable: _fail raises


def _fmt(value: Any) -> str:
    if value is None:
        return "never"
    if isinstance(value, float):
        return f"{value:.2f}" if 1900 <= value <= 2300 else f"{value:.3g}"  # years vs magnitudes
    return str(value)


SUMMARY_ROWS = (
    ("scenario", "scenario", ""),
    ("successor_training_year", "AI trains its successor autonomously", "year"),
    ("rnd_automation_20_year", "20% of AI R&D automated", "year"),
    ("rnd_automation_50_year", "50% of AI R&D automated", "year"),
    ("rnd_automation_100_year", "100% of AI R&D automated", "year"),
    ("takeoff_years", "takeoff (20% to 100%)", "years"),
    ("peak_effective_compute_growth_oom_per_year", "peak effective-compute growth", "OOM/year"),
    ("final_frontier_effective_flop", "frontier effective compute at end", "FLOP"),
    ("final_horizon_minutes", "frontier 50% time horizon at end", "minutes"),
    ("max_leader_lead_months", "largest lead of the leader", "months"),
    ("final_compute_hhi", "concentration of effective compute (HHI)", "0..1"),
    ("final_unreviewed_share", "R&D decisions without human review", "share"),
    ("incidents_minor", "minor incidents", "count"),
    ("incidents_major", "major incidents", "count"),
    ("policy_changes", "policy changes (enacted or repealed)", "count"),
    ("first_pause_year", "first pause in force", "year"),
    ("treaty_year", "treaty formed", "year"),
    ("reported_training_runs", "training runs reported to regulators", "runs"),
)


def _summary_table(summary: dict[str, Any], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    table.add_column("units")
    for key, label, units in SUMMARY_ROWS:
        table.add_row(label, _fmt(summary.get(key)), units)
    return table


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="random seed")] = 0,
    set_: SetOption = None,
    until: Annotated[float | None, typer.Option(help="stop at this decimal year")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default out/<scenario>)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    calibration: CalibrationOption = None,
) -> None:
    """Run one scenario; write summary.json, Parquet tables and trajectory.png."""
    from ixsim.analysis.figures import trajectory_figure
    from ixsim.analysis.store import write_run
    from ixsim.sim.model import simulate

    spec = _load(scenario, set_, until, calibration)
    result = simulate(spec, seed=seed)
    folder = out if out is not None else Path("out") / scenario.stem
    extra = {"scenario_file": str(scenario), "overrides": list(set_ or [])}
    try:
        if folder.exists() and not folder.is_dir():
            raise UserError(f"error: --out: {folder}: exists and is not a folder")
        write_run(result, folder, extra)
        trajectory_figure(result, folder / "trajectory.png")
    except OSError as exc:
        _fail([f"error: --out: {folder}: cannot write ({exc.strerror or exc})"])
    except UserError as exc:
        _fail([str(exc)])
    summary = dict(result.summary, **extra)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return
    out_console.print(_summary_table(summary, f"ixsim run: {spec.meta.name} (seed {seed})"))
    sources = "; ".join(f"{field} {source}" for field, source in spec.calibration_source.items())
    out_console.print(f"calibration: {spec.calibration} ({sources})", highlight=False, markup=False)
    out_console.print(f"wrote {folder}/summary.json, world.parquet, labs.parquet, events.parquet, "
                      "network.json, trajectory.png", highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario TOML files")],
    set_: SetOption = None,
    calibration: CalibrationOption = None,
) -> None:
    """Check scenario files: ``ok FILE`` or one error line per problem (exit 2)."""
    bad = False
    for path in files:
        try:
            load_scenario(path, set_, calibration)
        except ScenarioError as exc:
            bad = True
            for line in exc.lines():
                err_console.print(line, markup=False)
            continue
        out_console.print(f"ok {path}", highlight=False, markup=False)
    if bad:
        raise typer.Exit(2)


def params_markdown(rows: list[dict[str, Any]], values: dict[str, Any] | None = None) -> str:
    """The parameter table as Markdown (docs/parameters.md is this output)."""
    head = ["name", "units", "range", "default", "source or assumption", "meaning"]
    if values is not None:
        head.insert(4, "scenario")
    lines = ["# ixsim parameters", "",
             "Generated by `ixsim params --markdown` from the scenario schema (sim/scenario.py); "
             "CAL-n rows are in CALIBRATION.md.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        src = r["source"] or f"assumption: {r['assumption']}"
        cells = [f"`{r['name']}`", r["units"], f"{_fmt(r['low'])} .. {_fmt(r['high'])}",
                 _fmt(r["default"]), src, r["description"]]
        if values is not None:
            cells.insert(4, _fmt(values.get(r["name"], "")))
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _scenario_values(spec: Scenario) -> dict[str, Any]:
    """Dotted name -> value for the scalar fields; list items show all values joined."""
    flat: dict[str, list[Any]] = {}

    def walk(data: Any, prefix: str) -> None:
        if isinstance(data, dict):
            for k, v in data.items():
                walk(v, f"{prefix}.{k}" if prefix else k)
        elif isinstance(data, list) and data and isinstance(data[0], dict):
            for item in data:
                walk(item, prefix + "[]")
        else:
            flat.setdefault(prefix, []).append(data)

    walk(spec.model_dump(), "")
    return {k: (v[0] if len(v) == 1 else ", ".join(_fmt(x) for x in v)) for k, v in flat.items()}


@app.command()
def params(
    scenario: Annotated[Path | None, typer.Argument(help="show this scenario's values too")] = None,
    set_: SetOption = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="print Markdown")] = False,
    calibration: CalibrationOption = None,
) -> None:
    """The parameter table: dotted name, units, range, default, source row or assumption."""
    rows = field_table()
    values = (_scenario_values(_load(scenario, set_, calibration=calibration))
              if scenario is not None else None)
    if markdown:
        sys.stdout.write(params_markdown(rows, values))
        return
    table = Table(title="ixsim parameters", title_justify="left")
    for col in ("name", "units", "range", "default"):
        table.add_column(col)
    if values is not None:
        table.add_column("scenario")
    table.add_column("source")
    for r in rows:
        cells = [r["name"], r["units"], f"{_fmt(r['low'])}..{_fmt(r['high'])}", _fmt(r["default"])]
        if values is not None:
            cells.append(_fmt(values.get(r["name"], "")))
        cells.append(r["source"] or f"assumption: {r['assumption']}")
        table.add_row(*cells)
    out_console.print(table)


def _register_extra_commands() -> None:
    """Commands that live with their own code (analysis, training)."""
    from ixsim.cli.backtest import backtest_command
    from ixsim.cli.calibrate import calibrate_command

    app.command("backtest", help="Compare the default calibration from 2023 to today with the "
                                 "published rates (exit 0 only if every check passes).")(
        backtest_command)
    app.command("calibrate", help="Train small transformers (JAX) to measure scaling, recipe "
                                  "gains and returns to automated R&D.")(calibrate_command)


_register_extra_commands()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the Typer app, turning usage errors into one line, exit 2."""
    try:
        status = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("error: interrupted", markup=False)
        return 130
    except typer.TyperException as exc:  # usage errors: bad option, missing argument, ...
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            out_console.print(ctx.get_help(), markup=False, highlight=False)
            return 0
        where = f"{ctx.command_path}: " if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        err_console.print(f"error: {where}{message}", markup=False)
        return exc.exit_code if exc.exit_code else 2
    return status if isinstance(status, int) else 0


def entry() -> None:
    sys.exit(main())
