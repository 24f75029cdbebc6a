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
from pathlib import Path
from typing import Any

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


def _finite(value: Any, field: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CalibrationFileError(path, field, f"must be a number (got {json.dumps(value)})")
    if not math.isfinite(value):
        raise CalibrationFileError(path, field, f"must be finite (got {value})")
    return float(value)


def validate(data: Any, path: str | os.PathLike = "<memory>") -> dict:
    """Check a calibration dict; raise CalibrationFileError naming the first bad field."""
    path = str(path)
    if not isinstance(data, dict):
        raise CalibrationFileError(path, "", "top level must be a JSON object")
    for dotted in ESTIMATE_FIELDS:
        for part in ("value", "low", "high"):
            field = f"{dotted}.{part}"
            _finite(_get(data, field, path), field, path)
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
    for field in PROVENANCE_FIELDS:
        _get(data, f"provenance.{field}", path)
    if data["provenance"]["budget"] not in BUDGET_NAMES:
        raise CalibrationFileError(path, "provenance.budget",
                                   f"must be one of {', '.join(BUDGET_NAMES)}")
    return data


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


def load_measured(path: str | os.PathLike) -> dict:
    """Read and validate a calibration JSON file.

    Raises CalibrationFileError for a missing or unreadable file, text that is not JSON
    (NaN/Infinity included), and missing, non-numeric or non-finite fields.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationFileError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationFileError(path, "", f"cannot read ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise CalibrationFileError(path, "", f"not valid JSON ({first})") from None
    return validate(data, path)


def stored_budget(path: str | os.PathLike) -> str | None:
    """provenance.budget of an existing file, or None when absent or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        budget = data["provenance"]["budget"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return budget if isinstance(budget, str) else None


def to_json_bytes(data: dict) -> bytes:
    """Strict JSON (non-finite numbers refused: validate() first)."""
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")
