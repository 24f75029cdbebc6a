"""The measured-calibration file (``ixsim calibrate`` writes it): its schema, validator and
loader, on the scenario side so that loading a scenario never imports the training package
(``ixsim.training``, JAX) -- the model reads only this JSON, through ``validate``.

``load_measured(path)`` is the one loader; ``ixsim.sim.calibration`` overlays ``returns_r.value``
onto a scenario's software returns r and ``scaling`` onto its Chinchilla exponents. Losses in the
file are in nats per byte (byte-level tokens), so E, A and B are not comparable with
Chinchilla's nats per token; the exponents and allocation exponents are.

``BUDGET_NAMES`` is the one list of compute budgets (``ixsim.training.budgets`` defines each).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from ixsim.sim.inputfiles import InputFileError, json_nesting_problem, read_text

# Fields every calibration file must hold as finite numbers: {value, low, high} estimates.
ESTIMATE_FIELDS = (
    "scaling.E",
    "scaling.A",
    "scaling.B",
    "scaling.alpha",
    "scaling.beta",
    "scaling.allocation.a",
    "scaling.allocation.b",
    "returns_r",
)
PROVENANCE_FIELDS = (
    "ixsim_version",
    "python_version",
    "jax_version",
    "optax_version",
    "flax_version",
    "optuna_version",
    "device",
    "corpus",
    "seeds",
    "wall_seconds",
    "budget",
    "tokens_per_second",
    "created_utc",
)
BUDGET_NAMES = ("smoke", "cpu", "gpu")  # the one list: training/budgets.py defines each
# Refuse calibration files over 4 MB: the training loop writes about 30 KB (the gpu budget's
# 27 KB with every fitted point), so 4 MB is two orders of magnitude of room, and the reader
# (ixsim.sim.inputfiles) never holds more than this in memory, whatever the path names.
MAX_CALIBRATION_BYTES = 4_000_000


class CalibrationFileError(Exception):
    """A calibration file that cannot be used. ``str()`` is one line for people:
    ``error: FILE: returns_r.value: missing``."""

    def __init__(self, path: str | os.PathLike, field: str, message: str):
        self.path, self.field, self.message = str(path), field, message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"error: {where}: {self.message}"


def _get(data: Any, dotted: str, path: str) -> Any:
    node = data
    walked: list[str] = []
    for part in dotted.split("."):
        walked.append(part)
        if not isinstance(node, dict) or part not in node:
            raise CalibrationFileError(path, ".".join(walked), "missing")
        node = node[part]
    return node


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite(value: Any, field: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CalibrationFileError(path, field, f"must be a number (got {_shown(value)})")
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # an integer past 1.8e308 (JSON has no limit on digits)
            digits = len(str(abs(value)))
            raise CalibrationFileError(path, field, f"must be a finite number (got an integer "
                                                    f"of {digits} digits)") from None
    if not math.isfinite(value):
        raise CalibrationFileError(path, field, f"must be finite (got {value})")
    return float(value)


def _interval(data: dict, field: str, path: str) -> None:
    """low <= high. The point estimate is not required to lie inside [low, high]: the training
    loop's intervals are bootstrap percentiles, which may exclude the full-data estimate (a fit
    at a bound, a skewed resample) without anything being wrong with the file."""
    low, high = float(data["low"]), float(data["high"])
    if low > high:
        raise CalibrationFileError(path, field, f"low ({low:.6g}) is above high ({high:.6g})")


def validate(data: Any, path: str | os.PathLike = "<memory>") -> dict:
    """Check a calibration dict; raise CalibrationFileError naming the first bad field."""
    path = str(path)
    if not isinstance(data, dict):
        raise CalibrationFileError(path, "", "top level must be a JSON object")
    for dotted in ESTIMATE_FIELDS:
        for part in ("value", "low", "high"):
            field = f"{dotted}.{part}"
            _finite(_get(data, field, path), field, path)
        _interval(_get(data, dotted, path), dotted, path)
    gains = _get(data, "recipe_gains", path)
    if not isinstance(gains, list) or not gains:
        raise CalibrationFileError(path, "recipe_gains", "must be a non-empty list")
    for i, item in enumerate(gains):
        if not isinstance(item, dict):
            raise CalibrationFileError(path, f"recipe_gains[{i}]", "must be an object")
        if not isinstance(item.get("name"), str):
            problem = "missing" if "name" not in item else "must be a string"
            raise CalibrationFileError(path, f"recipe_gains[{i}].name", problem)
        for part in ("gain", "low", "high"):
            field = f"recipe_gains[{i}].{part}"
            if part not in item:
                raise CalibrationFileError(path, field, "missing")
            _finite(item[part], field, path)
        _interval(item, f"recipe_gains[{i}]", path)
    for field in PROVENANCE_FIELDS:
        _get(data, f"provenance.{field}", path)
    if not isinstance(data["provenance"]["budget"], str) or (
            data["provenance"]["budget"] not in BUDGET_NAMES):
        raise CalibrationFileError(path, "provenance.budget",
                                   f"must be one of {', '.join(BUDGET_NAMES)}")
    return data


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


_MAX_INT_DIGITS = 4300  # Python's own limit on reading an integer from text


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits")
    return int(text)


def _read_json(path: str | os.PathLike) -> Any:
    """The JSON document of a calibration file; CalibrationFileError for anything else."""
    try:
        text, _ = read_text(path, MAX_CALIBRATION_BYTES, "calibration file")
    except InputFileError as exc:
        raise CalibrationFileError(exc.path, "", exc.message) from None
    problem = json_nesting_problem(text)
    if problem is not None:
        raise CalibrationFileError(path, "", f"not valid JSON: {problem}")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except RecursionError:  # the pre-scan should have caught it; never a traceback
        raise CalibrationFileError(path, "", "not valid JSON: nested too deeply") from None
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise CalibrationFileError(path, "", f"not valid JSON ({first})") from None


def load_measured(path: str | os.PathLike) -> dict:
    """Read and validate a calibration JSON file.

    Raises CalibrationFileError for a missing, unreadable or non-regular file (a device, a
    pipe), one over MAX_CALIBRATION_BYTES, text that is not JSON (NaN/Infinity included) or
    nests deeper than ixsim.sim.inputfiles.MAX_NESTING, and missing, non-numeric, non-finite
    fields or an interval with low above high.
    """
    return validate(_read_json(path), path)


def stored_budget(path: str | os.PathLike) -> str | None:
    """provenance.budget of an existing file, or None when absent, unreadable or not a
    calibration file (read with the same limits as load_measured: never hangs)."""
    try:
        budget = _read_json(path)["provenance"]["budget"]
    except (CalibrationFileError, KeyError, TypeError):
        return None
    return budget if isinstance(budget, str) else None


def to_json_bytes(data: dict) -> bytes:
    """Strict JSON (non-finite numbers refused: validate() first)."""
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")
