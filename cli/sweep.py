"""``ixsim sweep SPEC --out DIR``: run a sweep spec on Dask into a Parquet store (the layout of
``ixsim.analysis.sweep.dataset``), with a progress bar on stderr and a one-line summary.

Bad input (the spec, the options, the folder): one ``error: ...`` line each, exit 2. A task
that fails as a whole: exit 1 (the chunks written stay; ``--resume`` continues). Every run
failing: exit 1. Ctrl-C: ``error: interrupted``, exit 130, chunks already written stay.

Registered in cli/app.py as ``app.command("sweep")(sweep_command)``; the sweep package (Dask,
pyarrow, the model) is imported inside the command.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Annotated

import typer

from ixsim.cli.errors import EXIT_FAILED, fail, scenario_messages

SPEC_HELP = "a sweep spec (TOML), or the name of one in scenarios/sweeps/ (forecast, ...)"
_ADDRESS = re.compile(r"(tcp|tls|ucx|inproc)://\S+")


def sweep_command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    out: Annotated[str, typer.Option("--out", metavar="DIR",
                                     help="the store: a new or empty folder (or, with "
                                          "--resume, the sweep to continue)")],
    samples: Annotated[int | None, typer.Option(
        "--samples", min=1, metavar="N",
        help="base samples, replacing the spec's (part of the spec: a resumed sweep must give "
             "the same)")] = None,
    scheduler: Annotated[str, typer.Option(
        "--scheduler", metavar="local|ADDRESS",
        help="local: start a LocalCluster; or a running scheduler's address, "
             "tcp://HOST:PORT")] = "local",
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=512, metavar="N",
        help="worker processes of the local cluster (default 2)")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="continue the sweep in DIR: only its missing chunks run")] = False,
) -> None:
    """Run a sweep: sampled uncertainties x lever sets x seeds of a base scenario, on Dask."""
    if scheduler != "local" and not _ADDRESS.fullmatch(scheduler):
        fail(f"--scheduler: expected local or an address such as tcp://127.0.0.1:8786 "
             f"(got {scheduler!r})")
    if scheduler != "local" and workers is not None:
        fail("--workers: only with --scheduler local (a running scheduler has its own workers)")
    from pathlib import Path

    from ixsim.analysis.files import OutputError
    from ixsim.analysis.sweep import (SweepError, SweepRunError, SweepStoreError, load_sweep,
                                      run_sweep)
    from ixsim.cli.launch import cleanup_on_interrupt

    try:
        sweep = load_sweep(spec, samples=samples)
    except SweepError as exc:
        fail(*scenario_messages(exc))
    progress = _Progress(sweep.name)
    try:
        with cleanup_on_interrupt(), progress:
            outcome = run_sweep(sweep, Path(out), resume=resume, scheduler=scheduler,
                                workers=workers or 2, on_start=progress.start,
                                on_chunk=progress.advance)
    except SweepStoreError as exc:  # names its own file or option
        fail(str(exc))
    except OutputError as exc:
        fail(f"--out: {exc}")
    except SweepRunError as exc:
        fail(f"{sweep.source}: {exc}", code=EXIT_FAILED)
    except OSError as exc:
        fail(f"--out: {out}: cannot write ({exc.strerror or exc})")
    ok = outcome.status.get("ok", 0)
    failed = outcome.status.get("failed", 0)
    rate = f"{outcome.ran / outcome.seconds:,.1f} runs/s" if outcome.seconds > 0 else "-"
    resumed = f", {outcome.skipped:,} already there" if outcome.skipped else ""
    where = (f" on {outcome.workers} worker{'s' if outcome.workers != 1 else ''}"
             if outcome.ran else "")
    sys.stdout.write(f"sweep {sweep.name}: {outcome.n_runs:,} runs ({ok:,} ok, {failed:,} "
                     f"failed{resumed}); ran {outcome.ran:,} in {outcome.seconds:.1f} s "
                     f"({rate}){where}; wrote {out}\n")
    if outcome.n_runs and ok == 0:
        fail(f"every run failed: see the error column ({out}/runs/)", code=EXIT_FAILED)


class _Progress:
    """A Rich progress bar on stderr (runs, runs/s, time left); silent when stderr is not a
    terminal."""

    def __init__(self, name: str):
        self.name = name
        self._bar = None
        self._task = None
        self._done = 0
        self._started = time.perf_counter()

    def __enter__(self) -> _Progress:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        console = Console(stderr=True)
        if console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                                 TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                 console=console, transient=False)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def start(self, to_run: int, already: int) -> None:
        self._started = time.perf_counter()
        if self._bar is not None:
            self._task = self._bar.add_task(f"sweep {self.name}", total=to_run, rate="")

    def advance(self, runs: int) -> None:
        self._done += runs
        if self._bar is not None and self._task is not None:
            seconds = time.perf_counter() - self._started
            self._bar.update(self._task, advance=runs,
                             rate=f"{self._done / seconds:,.1f} runs/s" if seconds > 0 else "")
