"""``ixsim forecast [SCENARIO...] [--draws N]``: Monte Carlo over the uncertainty catalogue, on
Dask, weighted by each draw's fit to the 2023-25 observations; prints P(successor training by
each year) with Monte Carlo intervals, the 10/50/90% of each headline and others' published
estimates beside them (``--json``: the same as JSON), and writes the document atomically.

Registered in cli/app.py; the analysis, Dask and the model are imported inside the command.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ixsim.cli.errors import fail

YEARS = range(2026, 2041)  # P(successor training by the end of each of these years)
SHOWN_YEARS = (2027, 2028, 2030, 2035)  # in the printed table


def _pct(p: dict[str, float]) -> str:
    if p["p"] != p["p"]:  # NaN: no draw survived
        return "n/a"
    return f"{p['p']:.0%} ({p['low']:.0%}-{p['high']:.0%})"


def _year(value: Any) -> str:
    return value if isinstance(value, str) else "n/a" if value != value else f"{value:.1f}"


def _print(console: Console, doc: dict[str, Any]) -> None:
    say = lambda text: console.print(text, highlight=False, markup=False)  # noqa: E731
    say(f"ixsim forecast: {doc['draws']} draws of the uncertainty catalogue (docs/priors.md), "
        "weighted by each draw's fit to the 2023-25 observations")
    for name, s in doc["scenarios"].items():
        q = s["quantiles"]["successor_training_year"]
        table = Table(title=f"{name}: AI trains its successor autonomously, median "
                            f"{_year(q['q50'])} (10-90%: {_year(q['q10'])} to {_year(q['q90'])})",
                      title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                      pad_edge=False)
        table.add_column("by end of", no_wrap=True)
        table.add_column("probability (95% MC)", justify="right", no_wrap=True)
        table.add_column("priors alone", justify="right", no_wrap=True)
        for year in SHOWN_YEARS:
            table.add_row(str(year), _pct(s["p_successor_by_year"][str(year)]),
                          _pct(s["p_successor_by_year_prior"][str(year)]))
        console.print(table)
        say(f"  effective sample size {s['effective_sample_size']:.0f} of {s['draws']} draws "
            f"({s['ruled_out']} ruled out by the observations, {s['failed']} failed); "
            f"P(major incident before successor training) "
            f"{_pct(s['p_major_incident_before_successor'])}")
    say("A draw without successor training by the run's end counts as later. 'priors alone': "
        "every draw weighted equally.")
    refs = Table(title="Others' published estimates (not ixsim's)", title_justify="left",
                 box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    refs.add_column("row", no_wrap=True)
    refs.add_column("who", overflow="fold")
    refs.add_column("estimate", overflow="fold")
    for row in doc["reference_points"]:
        refs.add_row(row["row"], row["who"], row["estimate"])
    console.print(refs)


def _clean(value: Any) -> Any:
    """JSON without NaN: NaN and inf become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def forecast_command(
    scenarios: Annotated[list[str] | None, typer.Argument(
        metavar="[SCENARIO]...", help="scenario names or files (default: baseline)")] = None,
    draws: Annotated[int, typer.Option(min=2, max=1_000_000,
                                       help="prior draws per scenario")] = 200,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1,
                                      help="seed of the draws (shared by every scenario)")] = 0,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Dask workers (local)")] = 2,
    scheduler: Annotated[str, typer.Option(
        metavar="local|ADDRESS", help="'local' starts a LocalCluster; tcp://HOST:PORT uses a "
                                      "running scheduler")] = "local",
    json_: Annotated[bool, typer.Option("--json", help="print the document as JSON")] = False,
    out: Annotated[str, typer.Option("--out", metavar="FILE",
                                     help="where to write the JSON document")] =
    "out/forecast.json",
) -> None:
    """Forecast successor training with uncertainty: Monte Carlo over the priors, weighted by the
    fit to the 2023-25 observations, common random numbers across scenarios."""
    from pathlib import Path

    from ixsim.analysis import forecast as fc
    from ixsim.analysis import forecast_run as fr
    from ixsim.analysis.files import OutputError, check_file
    from ixsim.cli.options import resolve, write_document

    names = scenarios or ["baseline"]
    paths = [str(resolve(name)) for name in names]  # one line, exit 2, for an unknown name
    if len(set(paths)) != len(paths):
        fail("SCENARIO: each scenario once")
    if scheduler != "local" and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        fail(f"--scheduler: 'local' or a scheduler address such as tcp://HOST:PORT "
             f"(got {scheduler!r})")
    try:
        check_file(out)
    except OutputError as exc:
        fail(f"--out: {exc}")

    shared = fr.draw(draws, seed)
    total = draws * len(paths)
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    err = Console(stderr=True)
    with Progress(TextColumn("forecast"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} runs/s"), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("runs", total=total, rate="-")

        def advance(n: int) -> None:
            bar.advance(task, n)
            done = bar.tasks[0]
            if done.elapsed:
                bar.update(task, rate=f"{done.completed / done.elapsed:.0f}")

        try:
            results = fr.run_draws(paths, shared, scheduler=scheduler, workers=workers,
                                   progress=advance)
        except OSError as exc:
            fail(f"--scheduler: cannot reach {scheduler} ({exc})")
    doc = {
        "draws": draws, "seed": seed, "parameters": shared.names,
        "weighting": f"likelihood of the counted 2023-25 observation rows (backtest rows), "
                     f"draws with a row beyond {fc.IMPLAUSIBLE_Z:g} sigma ruled out",
        "scenarios": {Path(p).stem: fr.summarise(results[p], YEARS) for p in paths},
        "reference_points": [{"row": r, "who": w, "estimate": e}
                             for r, w, e in fc.REFERENCE_POINTS],
    }
    text = json.dumps(_clean(doc), indent=2, sort_keys=True) + "\n"
    write_document(out, text)
    if json_:
        sys.stdout.write(text)
        return
    _print(Console(), _clean(doc))
    Console().print(f"wrote {out}", highlight=False, markup=False)
