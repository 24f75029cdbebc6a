"""``ixsim report (SCENARIO | SWEEP_DIR) --out report.html [--png-dir DIR] [--draws N]
[--seed S] [--set k=v ...] [--date YYYY-MM-DD]``: one self-contained HTML report (opens offline,
no external URL) and, with ``--png-dir``, its figures as PNG files for slides.

A folder argument with a manifest.json is a sweep store; anything else is a scenario (a name in
scenarios/ or a TOML file), run as an ensemble of ``--draws`` prior draws in this process. Bad
input is one ``error:`` line, exit 2, and nothing written; the HTML and the PNG folder are each
published whole (``ixsim.analysis.files``). Registered in cli/app.py; the model, pandas and
matplotlib load inside the command.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ixsim.cli.errors import fail
from ixsim.cli.options import SetOption

DEFAULT_DRAWS = 100
PNG_NAMES = ("fans.png", "successor.png", "lead-time.png", "backtest.png", "tornado.png")


def _check_outputs(out: str, png_dir: str | None) -> None:
    from ixsim.analysis.files import OutputError, check_file, check_folder

    if not out.endswith(".html"):
        fail(f"--out: {out}: must end in .html")
    try:
        check_file(out)
    except OutputError as exc:
        fail(f"--out: {exc}")
    if png_dir is not None:
        try:
            check_folder(png_dir, PNG_NAMES)
        except OutputError as exc:
            fail(f"--png-dir: {exc}")
        if Path(png_dir).resolve() == Path(out).resolve():
            fail("--png-dir: must differ from --out")


def _is_store(source: str) -> bool:
    from ixsim.analysis.query import MANIFEST

    path = Path(source)
    return path.is_dir() and (path / MANIFEST).exists()


def report_command(
    source: Annotated[str, typer.Argument(
        metavar="SCENARIO|SWEEP_DIR",
        help="a scenario (name in scenarios/ or a TOML file) or a sweep store (ixsim sweep)")],
    out: Annotated[str, typer.Option("--out", metavar="FILE.html",
                                     help="the HTML report to write")] = "report.html",
    png_dir: Annotated[str | None, typer.Option(
        "--png-dir", metavar="DIR", help="also write each figure as a PNG into this folder")
    ] = None,
    draws: Annotated[int | None, typer.Option(
        min=2, max=100_000, help=f"prior draws of a scenario (default {DEFAULT_DRAWS})")] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1,
                                      help="seed of the draws (as ixsim forecast)")] = 0,
    set_: SetOption = None,
    date: Annotated[str | None, typer.Option(
        "--date", metavar="YYYY-MM-DD",
        help="date shown in the report (none by default: same inputs, same bytes)")] = None,
) -> None:
    """A self-contained HTML report: headline numbers, figures, method and sources."""
    if date is not None:
        try:
            date = datetime.date.fromisoformat(date).isoformat()
        except ValueError:
            fail(f"--date: expected YYYY-MM-DD (got {date!r})")
    _check_outputs(out, png_dir)
    from ixsim import __version__
    from ixsim.analysis import report as rp

    if _is_store(source):
        if draws is not None or set_:
            fail(f"{'--draws' if draws is not None else '--set'}: applies to a SCENARIO, not "
                 f"to the sweep store {source}")
        from ixsim.analysis.query import StoreError, load_runs
        from ixsim.analysis.sensitivity import AnalysisError

        try:
            manifest, runs = load_runs(source)
        except StoreError as exc:
            fail(str(exc))
        try:
            report = rp.sweep_report(source, manifest, runs, date=date, version=__version__)
        except AnalysisError as exc:
            fail(f"{source}: {exc}")
    else:
        if Path(source).is_dir():
            fail(f"{source}: not a sweep store (no manifest.json) and not a scenario file")
        from ixsim.analysis.ensemble import run_ensemble
        from ixsim.cli.options import load

        spec = load(source, set_)
        n = draws if draws is not None else DEFAULT_DRAWS
        report = _with_progress(lambda progress: rp.scenario_report(
            run_ensemble(spec, n, seed, progress=progress), draws=n, seed=seed,
            overrides=list(set_ or []), date=date, version=__version__), n)
    _write(report, out, png_dir)
    console = Console()
    say = lambda text: console.print(text, highlight=False, markup=False,  # noqa: E731
                                     soft_wrap=True)
    say(report.summary)
    say(f"wrote {out}" + (f" and {len(report.figures)} PNG figures in {png_dir}"
                          if png_dir is not None else ""))


def _with_progress(work, total: int):
    """Run ``work(progress)`` with a progress bar on stderr when it is a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    err = Console(stderr=True)
    with Progress(TextColumn("report: draws"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("draws", total=total)
        return work(lambda done, _total: bar.update(task, completed=done))


def _write(report, out: str, png_dir: str | None) -> None:
    """The PNG folder (published whole), then the HTML (atomically); a Ctrl-C leaves neither
    half-written."""
    from ixsim.analysis.files import OutputError, publish_folder, write_text
    from ixsim.analysis.report import render_html
    from ixsim.cli.launch import cleanup_on_interrupt

    text = render_html(report)
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with cleanup_on_interrupt():
            if png_dir is not None:
                try:
                    with publish_folder(png_dir, PNG_NAMES) as staging:
                        for fig in report.figures:
                            (staging / f"{fig.name}.png").write_bytes(fig.png)
                except OutputError as exc:
                    fail(f"--png-dir: {exc}")
            write_text(out, text)
    except OutputError as exc:
        fail(f"--out: {exc}")
    except OSError as exc:
        fail(f"--out: {out}: cannot write ({exc.strerror or exc})")
