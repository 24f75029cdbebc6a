"""``ixsim backtest``: a calibration from its start to the present against the dated observations
(data/observations.csv) and the published rates (docs/calibration.md). Prints tables (or
``--json``), writes backtest.json atomically and exits 0 when the backtest passes, 1 when it
fails (the failing rows named), 2 for bad input (one ``error: ...`` line).

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
from ixsim.cli.options import CalibrationOption, SetOption, load, resolve, write_document

if TYPE_CHECKING:
    from ixsim.analysis.backtest import Backtest, Check
    from ixsim.analysis.observations import Profile, Row, Score


def _num(value: float | None, digits: bool = False) -> str:
    """Three significant figures; ``digits`` keeps trailing zeros (4.70, not 4.7)."""
    if value is None:
        return "n/a"
    return f"{value:#.3g}" if digits else f"{value:.3g}"


def _range(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{_num(low)}..{_num(high)}"


def _published(check: Check) -> str:
    """The published value over its range (two lines; either may be ``-``)."""
    value = _num(check.published) if check.published is not None else "-"
    return f"{value}\n{_range(check.low, check.high)}"


def _table(title: str) -> Table:
    """Legible at 80 columns: numbers never wrap or get cut (``no_wrap``; a column too narrow
    folds onto the next line instead of ending in an ellipsis); the text columns wrap."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                 pad_edge=False, collapse_padding=True)


def _text_column(table: Table, header: str) -> None:
    table.add_column(header, overflow="fold")


def _number_column(table: Table, header: str, justify: str = "right") -> None:
    table.add_column(header, justify=justify, no_wrap=True, overflow="fold")


def backtest_table(checks: list[Check], title: str) -> Table:
    """The rate checks: modelled value against the published value and range."""
    table = _table(title)
    _text_column(table, "check")
    _text_column(table, "CAL row\n(range)")
    for header in ("modelled", "published\nrange"):
        _number_column(table, header)
    _number_column(table, "units", "left")
    _number_column(table, "result", "left")
    for c in checks:
        cal = f"{c.cal}\n({c.range_kind})" if c.low is not None else c.cal
        table.add_row(c.name, cal,
                      _num(c.modelled, digits=True), _published(c), c.units, c.result)
    return table


def _subject(row: Row) -> str:
    text = row.subject
    if row.compared_with != row.subject:
        text += f" (best by then: {row.compared_with})"
    if row.status == "start input":
        text += " (start input: not counted)"
    return text


def _inside(row: Row) -> str:
    if row.inside is None:
        return "-"
    return "yes" if row.inside else "NO"


def rows_table(rows: list[Row], title: str) -> Table:
    """Observation rows: observed value over the band it is compared with, the model's value,
    inside the band, z and the row's log-likelihood."""
    table = _table(title)
    _number_column(table, "date\nquantity", "left")
    table.add_column("subject", overflow="fold", ratio=1)
    _number_column(table, "observed\nband")
    _number_column(table, "model")
    _number_column(table, "in", "left")
    _number_column(table, "z")
    _number_column(table, "log-lik")
    for r in rows:
        table.add_row(f"{r.date}\n{r.label}", _subject(r),
                      f"{_num(r.observed)}\n{_range(r.low, r.high)}",
                      _num(r.model), _inside(r), "-" if r.z is None else f"{r.z:+.2f}",
                      "-" if r.loglik is None else f"{r.loglik:.2f}")
    return table


def _score_line(name: str, s: Score) -> str:
    if s.n == 0:
        return f"{name}: no counted row"
    loglik = "n/a" if s.loglik is None else f"{s.loglik:.2f}"
    worst = "n/a" if s.max_abs_z is None else f"{s.max_abs_z:.2f}"
    return (f"{name}: {s.inside} of {s.n} counted rows inside their 95% interval "
            f"({s.coverage:.0%}), log-likelihood {loglik}, max |z| {worst}")


def _drop(value: float | None, moved: bool | None) -> str:
    """Two decimals with a sign (a drop that rounds to zero shows as +0.00, not -0.00); ``*``
    when the frontier's deployment dates moved at that end."""
    if value is None:
        return "n/a"
    return f"{round(value, 2) + 0.0:+.2f}" + ("*" if moved else "")


def parameters_table(profiles: list[Profile], title: str) -> Table:
    """Constrained or prior: the log-likelihood drop at each end of the parameter's range."""
    table = _table(title)
    longest = max((len(p.path.partition(".")[2]) for p in profiles), default=0)
    table.add_column("parameter\n(range from)", overflow="fold", min_width=longest)
    _number_column(table, "range\n(value)")
    _number_column(table, "drop\nlow")
    _number_column(table, "drop\nhigh")
    _number_column(table, "status", "left")
    for p in profiles:
        section, _, name = p.path.partition(".")
        table.add_row(f"{section}.\n{name}\n({p.source})",
                      f"{_range(p.low, p.high)}\n({_num(p.value)})",
                      _drop(p.drop_low, p.moved_low), _drop(p.drop_high, p.moved_high),
                      p.status)
    return table


def fit_table(values: dict[str, float], scenario: dict[str, float], title: str) -> Table:
    table = _table(title)
    _text_column(table, "free parameter")
    _number_column(table, "scenario")
    _number_column(table, "fitted")
    for path, value in values.items():
        table.add_row(path, _num(scenario[path]), _num(value))
    return table


def predictions_table(predictions, title: str) -> Table:
    """The model's frontier horizon and training FLOP after the METR cutoff, a row a quarter."""
    table = _table(title)
    _text_column(table, "date")
    _number_column(table, "50% horizon (min)")
    _number_column(table, "(hours)")
    _number_column(table, "largest run (FLOP)")
    for p in predictions:
        table.add_row(p.date, _num(p.horizon_minutes), _num(p.horizon_minutes / 60.0),
                      _num(p.training_flop))
    return table


def _not_scored(rows: list[Row]) -> str | None:
    groups: dict[str, list[Row]] = {}
    for r in rows:
        if r.status not in ("scored", "loose", "start input"):
            groups.setdefault(r.status, []).append(r)
    if not groups:
        return None
    parts = [f"{len(g)} {status} ({', '.join(f'{r.date} {r.label}' for r in g)})"
             for status, g in groups.items()]
    return "not scored: " + "; ".join(parts)


def print_report(console: Console, bt: Backtest, title: str, fit_until_text: str | None) -> None:
    """The text form of the document: the same content as ``--json``."""
    from ixsim.analysis import backtest as B
    from ixsim.analysis import observations as obs

    def say(text: str = "") -> None:
        console.print(text, highlight=False, markup=False)

    say(title)
    model = "the scenario as given" if bt.fit is None else "the fitted model"
    shown = [r for r in bt.rows if r.status in ("scored", "start input")]
    if bt.fit is None:
        console.print(rows_table(shown, f"Observation rows against {model}"))
    else:
        for part, name in (("fit", f"fitted on (before {fit_until_text})"),
                           ("predict", f"predicted (from {fit_until_text})")):
            part_rows = [r for r in shown if r.part == part]
            if part_rows:
                console.print(rows_table(part_rows, f"Observation rows {name}"))
    loose = [r for r in bt.rows if r.status == "loose"]
    if loose:
        console.print(rows_table(loose, "Loose comparisons (never counted)"))
    line = _not_scored(bt.rows)
    if line:
        say(line)
    say()
    if bt.fit is not None:
        say(_score_line(f"fitted rows (before {fit_until_text})", bt.score("fit")))
        say(_score_line(f"predicted rows (from {fit_until_text})", bt.score("predict")))
    say(_score_line(f"all rows, {model}", bt.score()))
    if bt.fit is not None:
        say(_score_line("all rows, the scenario as given", obs.score(bt.scenario_rows)))
    say(f"rule: {obs.RULE}")
    say(f"observations: {'pass' if bt.observations_passed else 'FAIL'}")
    say()

    scenario = {p: B.scenario_value(bt.spec, p) for p in B.FREE_PARAMETERS}
    if bt.fit is not None:
        console.print(fit_table(bt.fit.values, scenario,
                                f"Fit on the {bt.fit.n} counted rows before {fit_until_text}"))
        say(f"fit log-likelihood {bt.fit.loglik:.2f} ({bt.fit.evaluations} evaluations)")
    if bt.reference is not None:
        console.print(fit_table(bt.reference.values, scenario,
                                f"Best fit on all {bt.reference.n} counted rows"))
        say(f"best-fit log-likelihood {bt.reference.loglik:.2f} "
            f"({bt.reference.evaluations} evaluations)")
    say(f"free parameters: {', '.join(B.FREE_PARAMETERS)}: {B.FREE_WHY}")
    say()
    if bt.profiles:
        console.print(parameters_table(bt.profiles, "Constrained by the rows, or prior"))
        say(f"method: {B.PROFILE_METHOD}. A negative drop: that end fits better than the "
            "scenario's value. *: the frontier's deployment dates at that end differ from the "
            "best fit's (monthly steps), so part of the drop is a deployment moved across an "
            "observation date rather than a trend.")
        say("constrained: " + (", ".join(p.path for p in bt.profiles
                                        if p.status == "constrained") or "none"))
        say("prior: " + (", ".join(p.path for p in bt.profiles if p.status == "prior")
                         or "none"))
        say()

    if bt.predictions:
        console.print(predictions_table(bt.predictions, f"Predictions of the withheld rows "
                                                        f"({model})"))
        say(B.PREDICTIONS_WHAT)
        say()
    console.print(backtest_table(bt.checks, f"Rate checks ({model})"))
    rates = B.counted(bt.checks)
    say(f"{sum(1 for c in rates if c.passed)} of {len(rates)} checks pass")
    say()
    say("comparisons:")
    for c in obs.COMPARISONS.values():
        band = (f"; tolerance x{c.tolerance:g}: {c.tolerance_reason}" if c.tolerance else "")
        say(f"- {c.quantity} ({'counted' if c.counted else 'loose'}): {c.how}{band}")
    say()
    failures = bt.failures()
    if failures:
        say(f"backtest: FAIL ({len(failures)})")
        for f in failures:
            say(f"- {f}")
    else:
        say("backtest: pass")


def _scenario_label(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def backtest_command(
    json_: Annotated[bool, typer.Option("--json", help="print the JSON document")] = False,
    until: Annotated[float | None, typer.Option(
        "--until", help="end of the backtest, decimal year (default: the latest dated "
                   "observation; rate checks stop at the METR data cutoff)")] = None,
    fit_until: Annotated[str | None, typer.Option(
        "--fit-until", metavar="DATE",
        help="fit the horizon mapping on the rows dated before DATE (ISO date or decimal "
             "year) and predict the later rows")] = None,
    out: Annotated[str, typer.Option("--out", metavar="FILE",
                                     help="where to write the JSON document")] = "backtest.json",
    scenario: Annotated[str | None, typer.Option(
        "--scenario", metavar="SCENARIO",
        help="scenario name or TOML file to backtest (default: baseline)")] = None,
    set_: SetOption = None,
    calibration: CalibrationOption = None,
) -> None:
    """Backtest a calibration (default: the baseline) against the dated observations and the
    published rates."""
    from ixsim.analysis.backtest import (DEFAULT_SCENARIO, ROOT, FitWindowError, parse_fit_until,
                                         run_backtest, last_observation_year, with_end_year)
    from ixsim.analysis.files import OutputError, check_file

    path = DEFAULT_SCENARIO if scenario is None else resolve(scenario)
    overrides = list(set_ or [])
    default_end = until is None
    end = last_observation_year() if default_end else float(until)
    spec = load(path, overrides, calibration=calibration)
    try:
        with_end_year(spec, end)
    except ValueError as exc:
        fail(f"--until: {exc}")
    fit_year = None
    if fit_until is not None:
        try:
            fit_year = parse_fit_until(fit_until)
        except ValueError as exc:
            fail(f"--fit-until: {exc}")
    try:
        check_file(out)  # before the run; the writer checks again
    except OutputError as exc:
        fail(f"--out: {exc}")

    try:
        bt = run_backtest(spec, end, fit_until=fit_year,
                          fit_until_label=f"--fit-until {fit_until}")
    except FitWindowError as exc:
        fail(str(exc))
    extra = {
        "start": spec.meta.start_year,
        "until_source": "last observation" if default_end else "--until",
        "fit_until_text": fit_until,
        "scenario_file": _scenario_label(path, ROOT),
        "overrides": overrides,
        "calibration_source": spec.calibration_source,
        "seed": 0,
    }
    text = bt.to_json(extra)
    write_document(out, text)

    if json_:
        sys.stdout.write(text)
    else:
        console = Console()
        title = (f"ixsim backtest: {spec.meta.name}, {spec.meta.start_year:.2f} to {end:.2f}"
                 + (" (last observation)" if default_end else ""))
        print_report(console, bt, title, fit_until)
        console.print(f"wrote {out}", highlight=False, markup=False)
    raise typer.Exit(0 if bt.passed else EXIT_FAILED)
