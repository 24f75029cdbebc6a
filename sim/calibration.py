"""Which numbers come from where: overlay a measured calibration file onto a scenario.

A scenario says ``calibration = "measured"`` (or the command line passes ``--calibration FILE``)
to take, from the training loop's JSON (``ixsim calibrate``), the returns to software R&D r and
the scaling exponents alpha and beta in place of the published CAL-7b and CAL-6a values. The
file's E, A and B are losses per byte of a byte-level model, not per token: they are not used.
"""

from __future__ import annotations

from functools import reduce
from operator import getitem
from pathlib import Path
from typing import Any

DEFAULT_FILE = "calibration/measured.json"  # relative to the scenario file's folder

# scenario field -> (path in the measured file, the published row it replaces)
MEASURED_FIELDS = {
    "software.returns_r": (("returns_r", "value"), "CAL-7b"),
    "scaling.alpha": (("scaling", "alpha", "value"), "CAL-6a"),
    "scaling.beta": (("scaling", "beta", "value"), "CAL-6a"),
}


class CalibrationError(Exception):
    """A calibration file that cannot be used; ``str()`` is one ``error: ...`` line."""


def load_measured_values(path: Path) -> tuple[dict[str, float], str]:
    """The scenario fields a measured file supplies, and a label naming the file and budget."""
    from ixsim.training.measured import CalibrationFileError, load_measured

    try:
        measured = load_measured(path)
    except CalibrationFileError as exc:
        raise CalibrationError(str(exc)) from None
    values = {field: float(reduce(getitem, keys, measured)) for field, (keys, _) in MEASURED_FIELDS.items()}
    budget = measured.get("provenance", {}).get("budget", "?")
    return values, f"measured: {path} ({budget} budget)"


def overlay(data: dict[str, Any], scenario_path: Path, calibration_file: Path | None,
            keep: set[str] = frozenset()) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw scenario data with measured values put in, and where each calibrated field came from.

    Used when ``calibration_file`` is given or the scenario says ``calibration = "measured"``;
    fields in ``keep`` (set explicitly with --set) are left as they are.
    """
    wanted = calibration_file is not None or data.get("calibration") == "measured"
    sources = {field: ("override: --set" if field in keep else f"published: {row}")
               for field, (_, row) in MEASURED_FIELDS.items()}
    if not wanted:
        return data, sources
    path = calibration_file if calibration_file is not None else (
        scenario_path.parent / DEFAULT_FILE)
    values, label = load_measured_values(Path(path))
    data = {**data, "calibration": "measured"}
    for field, value in values.items():
        if field in keep:
            continue
        section, name = field.split(".")
        data[section] = {**data.get(section, {}), name: value}
        sources[field] = label
    return data, sources
