"""Which numbers come from where: overlay a measured calibration file onto a scenario.

A scenario says ``calibration = "measured"`` (or the caller passes ``calibration=FILE``, the
command line's ``--calibration``) to take, from the training loop's JSON (``ixsim calibrate``,
read and checked by ``ixsim.sim.measured``), the returns to software R&D r and the scaling
exponents alpha and beta in place of the published CAL-7b and CAL-6a values. The file's E, A and
B are losses per byte of a byte-level model, not per token: they are not used.
"""

from __future__ import annotations

from collections.abc import Set
from functools import reduce
from operator import getitem
from pathlib import Path
from typing import Any

from ixsim.sim.measured import load_measured

DEFAULT_FILE = "calibration/measured.json"  # relative to the scenario file's folder

# scenario field -> (path in the measured file, the published row it replaces)
MEASURED_FIELDS = {
    "software.returns_r": (("returns_r", "value"), "CAL-7b"),
    "scaling.alpha": (("scaling", "alpha", "value"), "CAL-6a"),
    "scaling.beta": (("scaling", "beta", "value"), "CAL-6a"),
}


def overlay(data: dict[str, Any], scenario_path: Path, calibration_file: Path | None,
            wanted: bool, keep: Set[str] = frozenset()) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw scenario data with measured values put in (when ``wanted``), and where each
    calibrated field came from.

    The file is ``calibration_file``, else ``calibration/measured.json`` beside the scenario.
    Fields in ``keep`` (overridden by the caller) are left as they are. Raises
    ``ixsim.sim.measured.CalibrationFileError`` for a file that cannot be used.
    """
    sources = {field: f"published: {row}" for field, (_, row) in MEASURED_FIELDS.items()}
    if not wanted:
        return data, sources
    path = calibration_file if calibration_file is not None else (
        scenario_path.parent / DEFAULT_FILE)
    measured = load_measured(path)
    label = f"measured: {path} ({measured['provenance']['budget']} budget)"
    data = {**data, "calibration": "measured"}
    for field, (keys, _) in MEASURED_FIELDS.items():
        if field in keep:
            continue
        section, name = field.split(".")
        table = data.get(section, {})
        if isinstance(table, dict):  # anything else is the scenario's error, reported later
            data[section] = {**table, name: float(reduce(getitem, keys, measured))}
            sources[field] = label
    return data, sources
