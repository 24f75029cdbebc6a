"""Options shared by run, validate, params and backtest, defined once, and the one scenario
loader of the command line: a name or a path, ``--set`` overrides, ``--calibration``.

Imports only typer at module level: the scenario schema (pydantic) loads inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ixsim.cli.errors import fail, scenario_messages

if TYPE_CHECKING:
    from ixsim.sim.scenario import Scenario

SCENARIO_HELP = "a scenario name from scenarios/ (e.g. baseline) or a TOML file"

SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="override a scenario field, e.g. software.returns_r=1.5 (repeatable)")]

CalibrationOption = Annotated[Path | None, typer.Option(
    "--calibration", metavar="FILE",
    help="measured calibration (ixsim calibrate) in place of the published r and exponents")]


def read(scenario: str | Path, sets: Sequence[str] | None = None, *,
         calibration: Path | None = None, until: float | None = None) -> Scenario:
    """Resolve, load and override a scenario; raises ScenarioError, a problem with an option
    reported against that option (``--set``, ``--until``)."""
    from ixsim.sim.scenario import load_scenario, parse_set_options, with_overrides

    spec = load_scenario(scenario, parse_set_options(list(sets or [])), calibration=calibration,
                         overrides_label="--set")
    if until is not None:
        spec = with_overrides(spec, {"meta.end_year": until}, "--until")
    return spec


def load(scenario: str | Path, sets: Sequence[str] | None = None, *,
         calibration: Path | None = None, until: float | None = None) -> Scenario:
    """``read``, but any problem exits 2 with one ``error:`` line per problem."""
    from ixsim.sim.scenario import ScenarioError

    try:
        return read(scenario, sets, calibration=calibration, until=until)
    except ScenarioError as exc:
        fail(*scenario_messages(exc))


def resolve(scenario: str | Path) -> Path:
    """A scenario name (``baseline``) or path -> its file; an unknown name exits 2 with one line
    that lists the available names."""
    from ixsim.sim.scenario import ScenarioError, resolve_scenario

    try:
        return resolve_scenario(scenario)
    except ScenarioError as exc:
        fail(*scenario_messages(exc))


def write_document(out: str, text: str) -> None:
    """Write a command's JSON document to ``out`` atomically (a Ctrl-C while writing removes
    the temporary file); a path that cannot be written is one ``--out`` line, exit 2."""
    from ixsim.analysis.files import OutputError, write_text
    from ixsim.cli.launch import cleanup_on_interrupt

    try:
        with cleanup_on_interrupt():
            write_text(out, text)
    except OutputError as exc:
        fail(f"--out: {exc}")
    except OSError as exc:
        fail(f"--out: {out}: cannot write ({exc.strerror or exc})")
