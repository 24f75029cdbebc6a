"""Published calibration facts shipped with ixsim: the CAL rows and the dated observations.

Reads ``data/calibration.toml`` (one table per CALIBRATION.md row, cited as ``CAL-<id>``) and
``data/observations.csv`` (one published measurement per line). Pure: no network, no writes;
``render_markdown`` produces ``docs/calibration.md`` (``make calibration-doc``).
"""

from __future__ import annotations

import csv
import datetime
import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

# sim/sources.py in the source tree, ixsim/sim/sources.py in a wheel: data/ sits beside sim/.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
CALIBRATION_PATH = DATA_DIR / "calibration.toml"
OBSERVATIONS_PATH = DATA_DIR / "observations.csv"

# A citation: ``CAL-2``, ``CAL-6a``, ``CAL-11b/c/f`` (11b, 11c, 11f), ``CAL-11c/11e``.
_CITATION = re.compile(r"CAL-(\d+)([a-z]?)((?:/\d*[a-z])*)")


@dataclass(frozen=True)
class CalRow:
    """One published row: text as published, plus the numbers the code reads (``numbers``)."""

    id: str  # "1a", "2", ...; cited as "CAL-1a"
    quantity: str
    value: str  # as published, with units in ``units``
    range: str  # as published ("-" where none)
    units: str
    source: str  # full citation with locator
    conf: str  # Y = read in the primary text; S = secondary summaries; "derived"
    interval: str | None = None  # what the *low/*high numbers are, e.g. "90% CI"
    numbers: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def cite(self) -> str:
        """The citation form, e.g. ``CAL-1a``."""
        return f"CAL-{self.id}"


@dataclass(frozen=True)
class Observation:
    """One dated published measurement; value/low/high in ``units`` (None where not given)."""

    date: datetime.date  # release or measurement date
    quantity: str  # e.g. "metr_p50_horizon", "training_flop"
    subject: str  # model, lab or study
    value: float | None
    low: float | None
    high: float | None
    units: str
    sota: bool  # state of the art at release (METR's marking); False where not given
    source: str
    conf: str  # Y = primary source or verbatim copy; S = secondary


@dataclass(frozen=True)
class _Calibration:
    title: str
    intro: str
    notes: str
    rows: Mapping[str, CalRow]


@functools.cache
def _calibration() -> _Calibration:
    with CALIBRATION_PATH.open("rb") as f:
        raw = tomllib.load(f)
    rows = {}
    for row_id, table in raw["rows"].items():
        numbers = {name: float(x) for name, x in table.get("numbers", {}).items()}
        rows[row_id] = CalRow(
            id=row_id, quantity=table["quantity"], value=table["value"], range=table["range"],
            units=table["units"], source=table["source"], conf=table["conf"],
            interval=table.get("interval"), numbers=MappingProxyType(numbers))
    return _Calibration(raw["title"], raw["intro"].strip(), raw["notes"].strip(),
                        MappingProxyType(rows))


def calibration_rows() -> dict[str, CalRow]:
    """Every CAL row by id ("1a", "2", ...), in CALIBRATION.md order."""
    return dict(_calibration().rows)


def calibration_row(row_id: str) -> CalRow:
    """One CAL row by id, written ``"1a"`` or ``"CAL-1a"``; KeyError names the known ids."""
    key = row_id.removeprefix("CAL-")
    rows = _calibration().rows
    if key not in rows:
        raise KeyError(f"no calibration row {row_id!r} in {CALIBRATION_PATH.name} "
                       f"(rows: {', '.join(rows)})")
    return rows[key]


def published(row_id: str, name: str = "central") -> float:
    """A published number of a CAL row, in the row's units (e.g. ``published("1a")`` = 4.7 /yr)."""
    row = calibration_row(row_id)
    if name not in row.numbers:
        raise KeyError(f"CAL-{row.id} has no number {name!r} "
                       f"(numbers: {', '.join(row.numbers) or 'none'})")
    return row.numbers[name]


def published_interval(row_id: str, stem: str | None = None) -> tuple[float, float, float]:
    """(central, low, high) of a CAL row: numbers ``central/low/high`` or ``stem/_low/_high``."""
    names = ("central", "low", "high") if stem is None else (stem, f"{stem}_low", f"{stem}_high")
    central, low, high = (published(row_id, name) for name in names)
    return central, low, high


def cited_row_ids(text: str) -> list[str]:
    """Row ids cited in ``text`` as ``CAL-<id>``, in order; ``CAL-11b/c/f`` gives 11b, 11c, 11f."""
    ids = []
    for match in _CITATION.finditer(text):
        number = match.group(1)
        ids.append(number + match.group(2))
        for part in filter(None, match.group(3).split("/")):
            letters = part.lstrip("0123456789")
            number = part[: len(part) - len(letters)] or number
            ids.append(number + letters)
    return ids


def resolve_citation(row_id: str) -> list[str]:
    """The rows a cited id names: itself, or for a group id such as ``6`` its rows 6a, 6b, 6c."""
    rows = _calibration().rows
    key = row_id.removeprefix("CAL-")
    if key in rows:
        return [key]
    if key.isdigit():
        return [r for r in rows if re.fullmatch(rf"{key}[a-z]", r)]
    return []


def _optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


@functools.cache
def _observations() -> tuple[tuple[str, ...], tuple[Observation, ...]]:
    lines = OBSERVATIONS_PATH.read_text(encoding="utf-8").splitlines()
    comments = tuple(line.lstrip("#").strip() for line in lines if line.startswith("#"))
    rows = []
    for rec in csv.DictReader(line for line in lines if line.strip() and not line.startswith("#")):
        rows.append(Observation(
            date=datetime.date.fromisoformat(rec["date"]), quantity=rec["quantity"],
            subject=rec["subject"], value=_optional_float(rec["value"]),
            low=_optional_float(rec["low"]), high=_optional_float(rec["high"]),
            units=rec["units"], sota=rec["sota"].strip() == "1", source=rec["source"],
            conf=rec["conf"]))
    return comments, tuple(rows)


def observations() -> list[Observation]:
    """Every dated observation in data/observations.csv, in file order."""
    return list(_observations()[1])


# --- rendering -------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _number(x: float | None) -> str:
    if x is None:
        return ""
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def render_markdown() -> str:
    """docs/calibration.md: every CAL row with its citation, its numbers, and every observation."""
    cal = _calibration()
    comments, obs = _observations()
    out = [
        "<!-- Generated from data/calibration.toml and data/observations.csv by "
        "`make calibration-doc` (ixsim.sim.sources.render_markdown); do not edit by hand. -->",
        "",
        f"# {cal.title}",
        "",
        cal.intro,
        "",
        "| # | Quantity | Value | Range | Units | Source & locator | Conf. |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in cal.rows.values():
        cells = (row.cite, row.quantity, row.value, row.range, row.units, row.source, row.conf)
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out += ["", cal.notes, "", "## Numbers the code reads", "",
            "`ixsim.sim.sources.published(row, name)` returns these (units as in the row).", "",
            "| # | Name | Value | Interval |", "|---|---|---|---|"]
    for row in cal.rows.values():
        for name, x in row.numbers.items():
            interval = row.interval if row.interval and name.endswith(("low", "high")) else ""
            out.append(f"| {row.cite} | `{name}` | {_number(x)} | {_cell(interval)} |")
    out += ["", "## Dated observations (data/observations.csv)", "", " ".join(comments), "",
            "| Date | Quantity | Subject | Value | Low | High | Units | SOTA | Source | Conf. |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for o in obs:
        cells = (o.date.isoformat(), o.quantity, o.subject, _number(o.value), _number(o.low),
                 _number(o.high), o.units, "yes" if o.sota else "", o.source, o.conf)
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"
