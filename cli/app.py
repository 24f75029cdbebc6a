"""The ``ixsim`` command line: run, validate and params (Typer + Rich); backtest and calibrate
live in their own modules.

Thin adapters over the public functions of the model and analysis. At module level only typer
and rich are imported: the schema (pydantic), the model (Mesa), analysis and matplotlib load
inside the command that needs them, so ``--help``, ``--version`` and ``params`` start fast.
Bad input never shows a traceback: the one contract is in ``ixsim.cli.errors``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ixsim.cli.errors import (EXIT_INTERRUPTED, EXIT_USAGE, fail, report, reported,
                              scenario_messages)
from ixsim.cli.options import SCENARIO_HELP, CalibrationOption, SetOption, load, read, resolve

if TYPE_CHECKING:
    from ixsim.sim.scenario import Scenario

# every file a run folder may hold (ixsim.analysis.store.RUN_FILES, without importing pyarrow)
RUN_FILES = ("summary.json", "world.parquet", "labs.parquet", "events.parquet", "network.json",
             "trajectory.png")

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Simulate intelligence-explosion dynamics.")
out_console = Console()


def _print_version(value: bool) -> None:
    if value:
        from ixsim import __version__

        typer.echo(f"ixsim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Simulate intelligence-explosion dynamics."""


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
    ("max_leader_lead_oom", "largest lead over the runner-up, in compute", "OOM"),
    ("max_leader_lead_months", "largest lead over the runner-up, in time", "months"),
    ("lead_at_successor_months", "lead over the runner-up at successor training", "months"),
    ("final_compute_hhi", "concentration of effective compute (HHI)", "0..1"),
    ("unreviewed_share_at_successor", "R&D decisions unreviewed at successor training",
     "share"),
    ("major_incidents_before_successor", "major incidents before successor training", "count"),
    ("incidents_major", "major incidents, whole run", "count"),
    ("incidents_minor", "minor incidents, whole run", "count"),
    ("incidents_per_year", "incidents per year (minor and major)", "per year"),
    ("policy_changes", "policy changes (enacted or repealed)", "count"),
    ("first_pause_year", "first pause in force", "year"),
    ("treaty_year", "treaty formed", "year"),
    ("reported_training_runs", "training runs reported to regulators", "runs"),
)


def _summary_table(summary: dict[str, Any], title: str) -> Table:
    """The run's headline outcomes, one labelled row each. A date not reached reads "not by
    END" (the run's end year), never "never": the run says nothing about later years; counts
    "before successor training" run to the end when there is none."""
    table = Table(title=title, title_justify="left")
    table.add_column("outcome")
    table.add_column("value", justify="right", no_wrap=True, overflow="fold")
    table.add_column("units")
    end_year = summary.get("end_year")
    for key, label, units in SUMMARY_ROWS:
        value = summary.get(key)
        if value is None and units == "year" and end_year is not None:
            shown = f"not by {end_year:.2f}"
        elif value is None:
            shown = "not reached"
        else:
            shown = _fmt(value)
        table.add_row(label, shown, units)
    return table


def _shown(path: Path) -> str:
    """A scenario file as summary.json records it: a named scenario's file relative to the
    working folder when it lies inside it (``run baseline`` and ``run scenarios/baseline.toml``
    write the same bytes), any other path as given."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help=SCENARIO_HELP)],
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="random seed")] = 0,
    set_: SetOption = None,
    until: Annotated[float | None, typer.Option(help="stop at this decimal year")] = None,
    out: Annotated[str | None, typer.Option(
        metavar="FOLDER", help="output folder (default out/<scenario>); replaced whole by this "
                               "run's files, refused if it holds other files")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    plot: Annotated[bool, typer.Option("--plot/--no-plot",
                                       help="draw trajectory.png (matplotlib)")] = True,
    calibration: CalibrationOption = None,
) -> None:
    """Run one scenario; write summary.json, Parquet tables and trajectory.png."""
    path = resolve(scenario)
    spec = load(path, set_, calibration=calibration, until=until)
    folder = out if out is not None else str(Path("out") / path.stem)

    from ixsim.analysis.files import OutputError, check_folder, publish_folder
    from ixsim.cli.launch import cleanup_on_interrupt, raise_if_interrupted

    try:
        check_folder(folder, RUN_FILES)  # at once; again, holding the lock, when writing
    except OutputError as exc:
        fail(f"--out: {exc}")

    from ixsim.analysis.store import run_writers
    from ixsim.sim.model import simulate

    if plot:
        from ixsim.analysis.figures import trajectory_figure
    extra = {"scenario_file": _shown(path), "overrides": list(set_ or [])}
    try:
        # locked for the run; data and figure published together at the end, or nothing
        with cleanup_on_interrupt(), publish_folder(folder, RUN_FILES) as staging:
            result = simulate(spec, seed=seed)
            writers = run_writers(result, extra)
            for name, write in writers.items():
                write(staging / name)
            if plot:
                try:  # the figure never fails a run: the data are published without it
                    shown = list(set_ or []) + ([f"--until {until:g}"] if until else [])
                    trajectory_figure(result, staging / "trajectory.png", subtitle=(
                        "overrides: " + ", ".join(shown)) if shown else None)
                    writers["trajectory.png"] = trajectory_figure
                except (ValueError, OverflowError, ArithmeticError, RuntimeError) as exc:
                    (staging / "trajectory.png").unlink(missing_ok=True)
                    sys.stderr.write(f"warning: trajectory.png not drawn ({exc})\n")
            raise_if_interrupted()
    except OutputError as exc:
        fail(f"--out: {exc}")
    except OSError as exc:
        fail(f"--out: {folder}: cannot write ({exc.strerror or exc})")
    written = list(writers)
    summary = {**result.summary(), **extra}  # the one place that reads the run's summary
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return
    out_console.print(_summary_table(summary, f"ixsim run: {spec.meta.name} (seed {seed})"))
    sources = "; ".join(f"{field} {source}" for field, source in spec.calibration_source.items())
    out_console.print(f"calibration: {spec.calibration} ({sources})", highlight=False, markup=False)
    written.sort(key=lambda name: name != "summary.json")  # summary first, then as written
    out_console.print(f"wrote {Path(folder)}/{', '.join(written)}", highlight=False, markup=False)


@app.command()
def validate(
    scenarios: Annotated[list[str], typer.Argument(metavar="SCENARIO...", help=SCENARIO_HELP)],
    set_: SetOption = None,
    calibration: CalibrationOption = None,
) -> None:
    """Check scenarios: "ok SCENARIO" for each good one, one error line per problem (exit 2)."""
    from ixsim.sim.scenario import ScenarioError

    bad = False
    for scenario in scenarios:
        try:
            read(scenario, set_, calibration=calibration)
        except ScenarioError as exc:  # report it and check the others too
            report(*scenario_messages(exc))
            bad = True
            continue
        out_console.print(f"ok {scenario}", highlight=False, markup=False)
    if bad:
        raise typer.Exit(EXIT_USAGE)


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


def _bound(value: Any) -> str:
    """A range bound, short: 2000.5, 1e-05, 2147483647 (the terminal table's range column)."""
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:g}"


# The terminal table's columns in display order: (header, numeric, narrowest legible width or 0
# for its longest cell, priority: 0 is kept first). Numeric columns never wrap, and a column too
# narrow folds onto the next line rather than ending in an ellipsis; text columns wrap.
_PARAM_COLUMNS = (("name", True, 0, 0), ("units", False, 8, 3), ("range", True, 0, 4),
                  ("default", True, 0, 1), ("scenario", False, 10, 2), ("source", False, 24, 5))
_GAP = 2  # one space of padding and one for the column rule between columns


def params_table(rows: list[dict[str, Any]], values: dict[str, Any] | None, width: int) -> Table:
    """The parameter table for a terminal ``width`` columns wide: full dotted names always;
    columns that do not fit are left out, least useful first, and named under the table."""
    cells = {
        "name": [r["name"] for r in rows],
        "units": [r["units"] for r in rows],
        "range": [f"{_bound(r['low'])}..{_bound(r['high'])}" for r in rows],
        "default": [_fmt(r["default"]) for r in rows],
        "scenario": [_fmt(values.get(r["name"], "")) for r in rows] if values is not None else None,
        "source": [r["source"] or f"assumption: {r['assumption']}" for r in rows],
    }
    columns = [c for c in _PARAM_COLUMNS if cells[c[0]] is not None]
    kept: set[str] = set()
    used = -_GAP
    for header, _, narrowest, _ in sorted(columns, key=lambda c: c[3]):
        need = max(len(header), narrowest or max(len(v) for v in cells[header])) + _GAP
        if not kept or used + need <= width:
            kept.add(header)
            used += need
    left_out = [c[0] for c in columns if c[0] not in kept]
    caption = (f"{', '.join(left_out)} left out at {width} columns: widen the terminal or use "
               "--markdown" if left_out else None)
    table = Table(title="ixsim parameters", title_justify="left", caption=caption,
                  caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  collapse_padding=True)
    shown = [c for c in columns if c[0] in kept]
    for header, numeric, _, _ in shown:
        table.add_column(header, no_wrap=numeric, overflow="fold")
    for i in range(len(rows)):
        table.add_row(*(cells[h][i] for h, _, _, _ in shown))
    return table


@app.command()
def params(
    scenario: Annotated[str | None, typer.Argument(
        metavar="[SCENARIO]", help="also show this scenario's values (a name or a TOML file)",
    )] = None,
    set_: SetOption = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="print Markdown")] = False,
    calibration: CalibrationOption = None,
) -> None:
    """The parameter table: dotted name, units, range, default, source row or assumption."""
    from ixsim.sim.scenario import field_table

    rows = field_table()
    values = (_scenario_values(load(scenario, set_, calibration=calibration))
              if scenario is not None else None)
    if markdown:
        sys.stdout.write(params_markdown(rows, values))
        return
    out_console.print(params_table(rows, values, out_console.width))


def _register_extra_commands() -> None:
    """Commands that live with their own code; their modules import the heavy parts lazily."""
    from ixsim.cli.analyze import analyze_command
    from ixsim.cli.backtest import backtest_command
    from ixsim.cli.calibrate import calibrate_command
    from ixsim.cli.forecast import forecast_command
    from ixsim.cli.query import query_command
    from ixsim.cli.report import report_command
    from ixsim.cli.serve import serve_command
    from ixsim.cli.sweep import sweep_command

    app.command("backtest", help="Score a scenario (default: the baseline) against the dated "
                                 "observations and published rates; --fit-until fits the "
                                 "horizon mapping and predicts later rows (exit 0 pass, 1 "
                                 "fail).")(backtest_command)
    app.command("calibrate", help="Train small transformers (JAX) to measure scaling, recipe "
                                  "gains and returns to automated R&D.")(calibrate_command)
    app.command("forecast", help="Forecast successor training with uncertainty: Monte Carlo "
                                 "over the priors on Dask, weighted by the fit to 2023-25 "
                                 "observations; P(by year), quantiles, others' estimates."
                )(forecast_command)
    app.command("query", help="Query a sweep store with read-only SQL (DuckDB): views runs, "
                              "series, series_quantiles; a table or --csv.")(query_command)
    app.command("analyze", help="Analyse a sweep store: outcome quantiles, P(successor "
                                "training by year), Sobol/Morris indices, PRIM boxes for "
                                "--condition; writes analysis.json.")(analyze_command)
    app.command("report", help="A self-contained HTML report (offline, no external URL) of a "
                               "scenario's ensemble or a sweep store: headline numbers, "
                               "figures, method, sources; --png-dir writes the figures as "
                               "PNG.")(report_command)
    app.command("sweep", help="Run a sweep spec (uncertainties x levers x seeds of a base "
                              "scenario) on Dask into a Parquet store; --resume continues "
                              "one.")(sweep_command)
    app.command("serve", help="Serve the dashboards (Panel): explorer, timelines, early "
                              "warning, sensitivity, compare, calibration, sweeps; binds to "
                              "127.0.0.1 unless --address says otherwise.")(serve_command)


_register_extra_commands()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the Typer app; usage errors become one ``error:`` line, exit 2."""
    already = reported()
    try:
        status = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:  # Ctrl-C or end of input, as older Typer versions report them
        report("interrupted")
        return EXIT_INTERRUPTED
    except typer.TyperException as exc:  # usage errors: bad option, missing argument, ...
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            out_console.print(ctx.get_help(), markup=False, highlight=False)
            return 0
        where = f"{ctx.command_path}: " if ctx is not None else ""
        report(f"{where}{exc.format_message()}")
        return exc.exit_code or EXIT_USAGE
    if status == EXIT_INTERRUPTED and reported() == already:  # Typer's silent 130 on Ctrl-C
        report("interrupted")
    return status if isinstance(status, int) else 0


def entry() -> None:
    """The console entry point (``ixsim.cli.launch.entry``: Ctrl-C handled from the start)."""
    from ixsim.cli.launch import entry as launch

    launch()


if __name__ == "__main__":
    entry()
