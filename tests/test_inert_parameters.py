"""Every parameter `ixsim params` lists moves some output of the baseline when set to an end of
its range, or its description says why it does not ("inert on the baseline: ...")."""

from __future__ import annotations

import numpy as np
import pytest

from ixsim.sim.model import simulate
from ixsim.sim.scenario import ScenarioError, field_table, load_scenario

IDENTITY = {"scenario", "seed", "calibration", "calibration_source", "ixsim_version"}
BASE = load_scenario("baseline")


def _outputs(spec) -> tuple[dict, dict]:
    result = simulate(spec, seed=0)
    summary = {k: v for k, v in result.summary().items() if k not in IDENTITY}
    return summary, result.world


def _differs(a, b) -> bool:
    (sa, wa), (sb, wb) = a, b
    if sa != sb:
        return True
    return any(len(wa[k]) != len(wb[k]) or not np.array_equal(wa[k], wb[k]) for k in wa)


def _dotted(row_name: str) -> str | None:
    """The override path of one parameter on the baseline (first item of a list or table)."""
    name = row_name.replace("labs[].", "labs[0].").replace("regulators[].", "regulators[0].")
    name = name.replace("tasks[].", "tasks[0].").replace("strategies.<name>.", "strategies.frontier.")
    if "[]" in name or "<name>" in name:
        return None  # edges and export controls: the baseline has none to vary
    return name


ROWS = [(row, _dotted(row["name"])) for row in field_table()]


def test_every_parameter_moves_an_output_or_says_why_not():
    base = _outputs(BASE)
    inert = []
    for row, path in ROWS:
        if path is None or path.startswith("meta."):
            continue  # meta sets the clock; it moves every series by construction
        moved = False
        for end in (row["low"], row["high"]):
            if end is None:
                continue
            value = int(end) if isinstance(row["default"], int) else float(end)
            overrides = {path: value}
            if ".shares." in path:  # the other shares make room, in proportion, to sum to 1
                table, key = path.rsplit(".", 1)
                shares = BASE.strategies["frontier"].shares.model_dump()
                rest = 1.0 - shares[key]
                overrides = {f"{table}.{k}": (value if k == key else
                                              v * (1.0 - value) / rest if rest > 0 else 0.0)
                             for k, v in shares.items()}
            try:
                spec = load_scenario("baseline", overrides)
            except ScenarioError:
                continue  # an end another field's check refuses on the baseline
            if _differs(_outputs(spec), base):
                moved = True
                break
        if not moved and "inert on the baseline" not in row["description"]:
            inert.append(path)
    assert not inert, f"parameters that move no output and do not say why: {inert}"
