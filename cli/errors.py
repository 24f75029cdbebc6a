"""The one error contract of the command line.

Bad input (options, files, output paths): one ``error: ...`` line per problem on stderr, exit 2.
A run that fails on its own: exit 1. Interrupted (Ctrl-C): exit 130. Never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from ixsim.sim.scenario import ScenarioError

EXIT_FAILED = 1  # the run itself failed
EXIT_USAGE = 2  # bad input: options, scenario files, output paths
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell convention


_lines_reported = 0  # so that main() can tell a silent Ctrl-C (Typer returns 130) from ours


def report(*messages: str) -> None:
    """Print each message as one ``error: MESSAGE`` line on stderr (newlines become spaces)."""
    global _lines_reported
    for message in messages:
        typer.echo(f"error: {' '.join(message.split())}", err=True)
        _lines_reported += 1


def reported() -> int:
    """How many error lines this process has printed so far."""
    return _lines_reported


def fail(*messages: str, code: int = EXIT_USAGE) -> NoReturn:
    """Report each message (one ``error:`` line each) and exit with ``code``."""
    report(*messages)
    raise typer.Exit(code)


def scenario_messages(exc: ScenarioError) -> list[str]:
    """The problems of a ScenarioError, one message each (without the ``error: `` prefix)."""
    return [line.removeprefix("error: ") for line in exc.lines()]
