"""Which numbers come from where: overlay a measured calibration file onto a scenario.

A scenario says ``calibration = "measured"`` (or the caller passes ``calibration=FILE``, the
command line's ``--calibration``) to take, from the training loop's JSON (``ixsim calibrate``,
read and checked by ``ixsim.sim.measured``), the returns to software R&D r and the scaling
exponents alpha and beta in place of the published CAL-7b and CAL-6a values. The file's E, A and
B are losses per byte of a byte-level model, not per token: they are not used.

A measured value outside the scenario's range for its field is refused, reported against the
calibration file and its field (``error: FILE: scaling.beta.value: 2.1 is outside the
scenario's range 0.01..2 for scaling.beta``). The training loop's fit lets the exponents run
over 0..5 (training/fits.py) and a small budget (``smoke``, a 30-second test of the pipeline) can
land anywhere in it; the scenario's ranges are those the model is checked over, so the file is
refused rather than the ranges widened to hold what no published scaling law comes near.
"""

from __future__ import annotations

from collections.abc import Set
from functools import reduce
from operator import getitem
from pathlib import Path
from typing import Any

from ixsim.sim.measured import CalibrationFileError, load_measured
from ixsim.sim.schema.base import Strict
from ixsim.sim.schema.world import Scaling, Software

DEFAULT_FILE = "calibration/measured.json"  # relative to the scenario file's folder

# scenario field -> (path in the measured file, the published row it replaces)
MEASURED_FIELDS = {
    "software.returns_r": (("returns_r", "value"), "CAL-7b"),
    "scaling.alpha": (("scaling", "alpha", "value"), "CAL-6a"),
    "scaling.beta": (("scaling", "beta", "value"), "CAL-6a"),
}
_SECTIONS: dict[str, type[Strict]] = {"software": Software, "scaling": Scaling}


def field_range(field: str) -> tuple[float, float]:
    """The schema's inclusive range of a calibrated scenario field (``"scaling.beta"``)."""
    section, name = field.split(".")
    lo = hi = None
    for m in _SECTIONS[section].model_fields[name].metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    return float(lo), float(hi)


def overlay(data: dict[str, Any], scenario_path: Path, calibration_file: Path | None,
            wanted: bool, keep: Set[str] = frozenset()) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw scenario data with measured values put in (when ``wanted``), and where each
    calibrated field came from.

    The file is ``calibration_file``, else ``calibration/measured.json`` beside the scenario.
    Fields in ``keep`` (overridden by the caller) are left as they are. Raises
    ``ixsim.sim.measured.CalibrationFileError`` for a file that cannot be used, a value outside
    the scenario's range among them (the error names the file and its field).
    """
    sources = {field: f"published: {row}" for field, (_, row) in MEASURED_FIELDS.items()}
    if not wanted:
        return data, sources
    path = calibration_file if calibration_file is not None else (
        scenario_path.parent / DEFAULT_FILE)
    try:
        measured = load_measured(path)
    except CalibrationFileError as exc:
        if calibration_file is None and exc.message == "file not found":
            raise CalibrationFileError(
                exc.path, exc.field, 'file not found (calibration = "measured" reads it; make it '
                                     'with ixsim calibrate or give --calibration FILE)') from None
        raise
    label = f"measured: {path} ({measured['provenance']['budget']} budget)"
    data = {**data, "calibration": "measured"}
    for field, (keys, _) in MEASURED_FIELDS.items():
        if field in keep:
            continue
        section, name = field.split(".")
        table = data.get(section, {})
        if isinstance(table, dict):  # anything else is the scenario's error, reported later
            value = float(reduce(getitem, keys, measured))
            lo, hi = field_range(field)
            if not lo <= value <= hi:
                raise CalibrationFileError(path, ".".join(keys), f"{value:.6g} is outside the "
                                           f"scenario's range {lo:g}..{hi:g} for {field}")
            data[section] = {**table, name: value}
            sources[field] = label
    return data, sources
