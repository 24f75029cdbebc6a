"""What a model page takes from a person: the key parameters as widgets (grouped as in the
scenario), their overrides, and uploaded scenario files.

Everything goes through the model's public loader (``load_scenario``/``with_overrides``), so
a bad value or file gets the same one-line errors as ``ixsim validate``. An uploaded file is
data only: it is size-limited, parsed as TOML, may extend only a scenario shipped with ixsim
(never another path), and is validated by the scenario schema; nothing in it is executed.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ixsim.sim.scenario import Scenario

MAX_UPLOAD_BYTES = 256 * 1024  # an uploaded scenario: hand-written TOML is a few KiB
UPLOAD_PREFIX = "uploaded: "  # how an uploaded scenario is named in the scenario menus


@dataclass(frozen=True)
class Knob:
    """One key parameter. ``key`` is its URL name; ``paths(spec)`` the dotted scenario fields
    it sets (several for 'every regulator' or 'every lab strategy')."""

    key: str
    label: str
    low: float
    high: float
    step: float

    def paths(self, spec: Scenario) -> list[str]:
        head, _, leaf = self.key.partition(".")
        if head == "regulators":
            return [f"regulators[{i}].{leaf}" for i in range(len(spec.regulators))]
        if head == "labs":  # every strategy a lab uses, the first lab's first (its value shows)
            used = list(dict.fromkeys(lab.strategy for lab in spec.labs))
            return [f"strategies.{name}.{leaf}" for name in used]
        return [self.key]

    def value(self, spec: Scenario) -> float:
        """The scenario's value (the first of several fields)."""
        return float(_get(spec, self.paths(spec)[0]))


GROUPS: tuple[tuple[str, tuple[Knob, ...]], ...] = (
    ("Compute", (
        Knob("hardware.price_performance_growth_per_year", "chip price-performance growth (x/yr)",
             0.8, 3.0, 0.01),
        Knob("hardware.utilisation_growth_per_year", "utilisation growth (x/yr)", 0.8, 3.0,
             0.01),
        Knob("investment.spend_growth_per_year", "compute spending growth (x/yr)", 1.0, 6.0,
             0.05),
        Knob("investment.max_spend_share_of_gwp", "spending cap (share of world GDP)", 0.001,
             0.1, 0.001),
    )),
    ("Software", (
        Knob("software.returns_r", "returns to software R&D (r)", 0.1, 4.0, 0.05),
        Knob("software.rate_per_year", "software progress rate (1/yr)", 0.1, 3.0, 0.02),
        Knob("software.ceiling_oom", "software ceiling (OOM)", 2.0, 20.0, 0.5),
        Knob("software.labour_weight", "weight of labour vs compute", 0.0, 1.0, 0.01),
    )),
    ("R&D automation", (
        Knob("capability.oom_per_horizon_doubling", "compute OOM per horizon doubling", 0.1,
             1.5, 0.01),
        Knob("capability.post_training_gain", "2024-25 post-training step (x horizon)", 1.0,
             30.0, 0.01),  # the fitted 8.24 on the grid, so a link restores it exactly
        Knob("capability.automation_reliability", "reliability needed (share of horizon)",
             0.01, 1.0, 0.01),
        Knob("labour.handover_efolds_per_year", "speed of handing tasks to AI (e-folds/yr)",
             1.0, 50.0, 0.5),
        Knob("labour.review_ratio", "AI work one human reviewer covers", 1.0, 100.0, 1.0),
    )),
    ("Labs", (
        Knob("labs.safety_share", "safety share of compute (every lab)", 0.0, 0.5, 0.01),
        Knob("labs.race_response", "race response (every lab)", 0.0, 1.0, 0.01),
        Knob("labs.openness", "openness (every lab)", 0.0, 1.0, 0.01),
        Knob("networks.spillover_rate_per_year", "spillover between labs (1/yr)", 0.0, 3.0,
             0.05),
    )),
    ("Regulators", (
        Knob("regulators.lag_years", "lag to the next policy (yr, every regulator)", 0.1, 5.0,
             0.05),
        Knob("regulators.trigger_concern", "concern that triggers policy (every regulator)",
             0.05, 1.0, 0.01),
        Knob("regulators.detection_probability", "chance evasion is caught (every regulator)",
             0.0, 1.0, 0.01),
        Knob("regulators.repeal_per_year", "repeal rate (1/yr, every regulator)", 0.0, 2.0,
             0.01),
    )),
)
KNOBS: dict[str, Knob] = {k.key: k for _, group in GROUPS for k in group}


def _get(spec: Any, path: str) -> Any:
    obj = spec
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            obj = obj[int(part[1:-1])]
        elif isinstance(obj, Mapping):
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


def knob_range(knob: Knob, spec: Scenario) -> tuple[float, float]:
    """The slider's range: the knob's usual range, widened to hold the scenario's value."""
    v = knob.value(spec)
    return min(knob.low, v), max(knob.high, v)


def overrides(spec: Scenario, values: Mapping[str, float]) -> dict[str, float]:
    """Dotted overrides for the knobs whose value differs from the scenario's."""
    out: dict[str, float] = {}
    for key, value in values.items():
        knob = KNOBS.get(key)
        if knob is None or value is None:
            continue
        if math.isclose(float(value), knob.value(spec), rel_tol=1e-9, abs_tol=1e-12):
            continue
        for path in knob.paths(spec):
            out[path] = float(value)
    return out


class UploadError(Exception):
    """An uploaded file refused before the schema sees it; ``lines`` as ScenarioError's."""

    def __init__(self, lines: list[str]):
        self._lines = lines
        super().__init__("\n".join(lines))

    def lines(self) -> list[str]:
        return self._lines


def upload_name(filename: str | None) -> str:
    """The uploaded file's name as shown in errors and menus: its last part, plain characters."""
    base = os.path.basename((filename or "").replace("\\", "/")) or "upload.toml"
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", base)[:80]
    return base if base.endswith(".toml") else base + ".toml"


def load_upload(filename: str | None, data: bytes) -> Scenario:
    """Validate an uploaded scenario file (bytes) with the loader of ``ixsim validate``.

    Raises ``UploadError`` (too big, not UTF-8 TOML, ``extends`` naming anything but a shipped
    scenario) or ``ScenarioError`` (the schema's field errors), each with ``lines()`` of the
    form ``error: NAME: field: problem (got X)``. The file is written to a private temporary
    folder (never the store, never a name from the page) beside copies of the shipped parent it
    extends, loaded, and the folder removed."""
    import tomllib

    from ixsim.sim.inputfiles import toml_nesting_problem
    from ixsim.sim.scenario import SCENARIOS_DIR, ScenarioError, load_scenario

    name = upload_name(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError([f"error: {name}: file is {len(data):,} bytes; the limit for an "
                           f"uploaded scenario is {MAX_UPLOAD_BYTES:,} bytes"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadError([f"error: {name}: not UTF-8 text (byte {exc.start})"]) from None
    problem = toml_nesting_problem(text)
    if problem:
        raise UploadError([f"error: {name}: {problem}"])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UploadError([f"error: {name}: not valid TOML: {exc}"]) from None
    parent = raw.get("extends")
    shipped = {p.name: p for p in SCENARIOS_DIR.glob("*.toml")}
    if parent is not None and parent not in shipped:
        raise UploadError([f"error: {name}: extends: an uploaded scenario can extend only a "
                           f"scenario shipped with ixsim ({', '.join(sorted(shipped))}) "
                           f"(got {parent!r})"])
    with tempfile.TemporaryDirectory(prefix="ixsim-upload-") as tmp:
        folder = Path(tmp)
        chain = parent
        while chain is not None:  # the shipped parents, copied as they are
            (folder / chain).write_bytes(shipped[chain].read_bytes())
            chain = tomllib.loads(shipped[chain].read_text("utf-8")).get("extends")
            if chain is not None and (chain not in shipped or (folder / chain).exists()):
                break
        path = folder / f"upload-{os.getpid()}.toml"
        path.write_bytes(data)
        try:
            return load_scenario(path)
        except ScenarioError as exc:
            lines = [line.replace(str(path), name).replace(tmp + os.sep, "")
                     for line in exc.lines()]
            raise UploadError(lines) from None
