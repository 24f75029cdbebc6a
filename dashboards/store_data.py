"""Data for the store pages (timelines, sensitivity, sweeps): a sweep's runs read once per
change, lever-set labels, P(successor training by year), the checked PRIM condition and the
published reference points placed on a timeline. No Panel here: plain functions of the store.

Every folder is reached through ``AppContext.sweep(name)`` (confined to the store); a condition
typed in a page goes through ``check_condition`` and then ``ixsim.analysis.query.condition_mask``
(DuckDB, locked down), and its answer must have one value per run.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ixsim.analysis import sensitivity as sa
from ixsim.analysis.forecast import REFERENCE_POINTS
from ixsim.analysis.query import QueryError, StoreError, condition_mask, load_runs
from ixsim.dashboards.context import AppContext, StorePathError

__all__ = ["StoreData", "load_store", "chunk_count", "lever_label", "successor_table",
           "check_condition", "condition_hits", "ConditionError", "REFERENCE_MARKS", "BY_YEARS",
           "store_state", "StoreState"]

BY_YEARS = (2027, 2028, 2030)  # P(successor training by the end of these years), the issue's
MAX_CONDITION_CHARS = 500


@dataclass(frozen=True)
class StoreData:
    """One sweep as read: its name, manifest, runs (one row per run written so far) and how
    many chunks of how many it holds."""

    name: str
    manifest: dict[str, Any]
    runs: pd.DataFrame
    chunks: int

    @property
    def n_chunks(self) -> int:
        return int(self.manifest.get("n_chunks") or 0)

    @property
    def complete(self) -> bool:
        return bool(self.manifest.get("complete"))

    @property
    def ok_runs(self) -> pd.DataFrame:
        if "status" not in self.runs.columns:
            return self.runs
        return self.runs[self.runs["status"] == "ok"]


def chunk_count(path: Path) -> int:
    """How many run chunks the sweep folder holds now (0 when none or not a folder)."""
    runs = path / "runs"
    return sum(1 for _ in runs.glob("chunk-*.parquet")) if runs.is_dir() else 0


_CACHE: dict[str, tuple[tuple[Any, ...], StoreData]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def _stamp(path: Path) -> tuple[Any, ...]:
    manifest = path / "manifest.json"
    try:
        mtime = manifest.stat().st_mtime_ns
    except OSError:
        mtime = None
    return (chunk_count(path), mtime)


def load_store(ctx: AppContext, name: str) -> StoreData:
    """The sweep ``name`` of the app's store, read again only when a chunk or the manifest
    changed. StorePathError for a name that is not a folder in the store; StoreError for a
    folder that is not a readable sweep (no manifest, no runs yet)."""
    path = ctx.sweep(name)
    key = str(path)
    stamp = _stamp(path)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    manifest, runs = load_runs(path)
    data = StoreData(name, manifest, runs, stamp[0])
    with _CACHE_LOCK:
        _CACHE[key] = (stamp, data)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return data


def lever_label(levers: dict[str, Any], key: Any = None) -> str:
    """A lever set in words: ``race_response=0.2, compute_cap_flop=1e+27`` (the last part of
    each dotted name), or "all runs" when the sweep has no levers."""
    if not levers:
        return "all runs" if key in (None, 0) else f"lever set {key}"
    parts = []
    for name, value in levers.items():
        short = name.split(".")[-1]
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{short}={text}")
    return ", ".join(parts)


def lever_options(data: StoreData) -> dict[str, int]:
    """{label: lever_set id} of the sweep, in id order (labels numbered when not unique)."""
    out: dict[str, int] = {}
    for key, levers, _ in sa.lever_set_groups(data.runs, data.manifest):
        label = lever_label(levers, key)
        if label in out:
            label = f"{key}: {label}"
        out[label] = int(key) if isinstance(key, (int, np.integer)) else key
    return out


def successor_table(data: StoreData, lever_sets: list[Any] | None = None,
                    years: tuple[int, ...] = BY_YEARS) -> pd.DataFrame:
    """P(successor training by the end of each year) per lever set with Wilson 95% intervals
    (``ixsim.analysis.sensitivity.successor_by_year``: censored runs are never by then).
    ``observed`` is False where the year ends after some run's end (then p is a lower bound)."""
    rows = sa.successor_by_year(data.runs, data.manifest, list(years)) or []
    ends = sa.end_years(data.ok_runs, data.manifest)
    first_end = float(np.nanmin(ends)) if np.isfinite(ends).any() else math.inf
    out = []
    for row in rows:
        if lever_sets is not None and row["lever_set"] not in lever_sets:
            continue
        label = lever_label(row["levers"], row["lever_set"])
        for y in row["years"]:
            out.append({"lever_set": row["lever_set"], "levers": label, "year": y["year"],
                        "p": y["p"], "low": y["low"], "high": y["high"], "hits": y["hits"],
                        "n": y["n"], "observed": y["year"] + 1.0 <= first_end})
    return pd.DataFrame(out, columns=["lever_set", "levers", "year", "p", "low", "high", "hits",
                                      "n", "observed"])


def dates_by_lever_set(data: StoreData, metric: str = sa.SUCCESSOR
                       ) -> list[tuple[Any, str, np.ndarray, np.ndarray]]:
    """(lever_set id, label, dates with NaN = not reached, end years) of the successful runs."""
    out = []
    for key, levers, group in sa.lever_set_groups(data.runs, data.manifest):
        ok = group[group["status"] == "ok"] if "status" in group.columns else group
        values = pd.to_numeric(ok[metric], errors="coerce").to_numpy(dtype=float,
                                                                      na_value=np.nan)
        out.append((key, lever_label(levers, key), values, sa.end_years(ok, data.manifest)))
    return out


def quartiles(dates: np.ndarray) -> dict[float, float]:
    """25/50/75% of dates with the not-reached ones (NaN) as +inf (no interpolation)."""
    data = np.where(np.isfinite(dates), dates, np.inf)
    if data.size == 0:
        return {q: math.nan for q in (0.25, 0.5, 0.75)}
    return {q: float(np.quantile(data, q, method="inverted_cdf")) for q in (0.25, 0.5, 0.75)}


# --- the PRIM condition --------------------------------------------------------------------------

# Words that start a query or a table scan: a condition on the runs needs none of them.
_SUBQUERY = re.compile(r"\b(select|from|with|union|join|values|table|pivot|unpivot|summarize|"
                       r"describe|show|attach|copy|pragma|install|load|set|call)\b",
                       re.IGNORECASE)


class ConditionError(ValueError):
    """A condition refused before or by DuckDB; ``str()`` is one line."""


def check_condition(text: str) -> str:
    """``text`` stripped if it can be one SQL boolean expression over the runs' columns: at
    most MAX_CONDITION_CHARS characters, one line, no ';' or comment, parentheses that never
    close more than they opened (outside quotes), so the expression cannot end the
    ``SELECT (...)`` it is placed in, and no query keyword outside quotes (no subquery, so no
    table scan such as ``range()`` or ``read_csv()``). ConditionError (one line) otherwise. DuckDB then parses
    and runs it, locked down (``condition_mask``)."""
    text = (text or "").strip()
    if not text:
        raise ConditionError("type a condition, e.g. successor_training_year < 2028")
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionError(f"at most {MAX_CONDITION_CHARS} characters (got {len(text)})")
    if any(ch in text for ch in "\r\n\x00"):
        raise ConditionError("one line, please")
    depth, quote = 0, None
    code = []  # the text outside quotes, for the keyword check
    i = 0
    while i < len(text):
        ch = text[i]
        code.append(" " if quote else ch)
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == ";":
            raise ConditionError("one expression: ';' is not allowed")
        elif text.startswith("--", i) or text.startswith("/*", i):
            raise ConditionError("comments are not allowed")
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ConditionError("a ')' closes more than was opened")
        i += 1
    if quote:
        raise ConditionError("a quote is not closed")
    if depth:
        raise ConditionError("a '(' is not closed")
    if _SUBQUERY.search("".join(code)):
        raise ConditionError("a condition compares the runs' columns: no subqueries "
                             "(SELECT, FROM, ...)")
    return text


def condition_hits(runs: pd.DataFrame, text: str) -> np.ndarray:
    """A boolean per run where the condition holds (a censored value compares false);
    ConditionError (one line) for anything refused."""
    text = check_condition(text)
    try:
        hit = condition_mask(runs, text)
    except QueryError as exc:
        raise ConditionError(" ".join(str(exc).split())[:300]) from None
    if hit.shape != (len(runs),):
        raise ConditionError("not one true/false per run")
    return hit


# --- others' published estimates, placed on a timeline ----------------------------------------

_REF_TEXT = {row: (who, what) for row, who, what in REFERENCE_POINTS}
# (CAL row, decimal year, cumulative probability it states) for the estimates that give a date;
# mid-year = .5, "late" = .83, "end of 2028" = 2029.0 (before 2029). Their text stays
# REFERENCE_POINTS'. Several measure a different milestone (AGI, a superhuman coder, >99% of R&D
# automated): they are others' estimates shown for comparison, not targets.
_REF_DATES = (
    ("CAL-10a", 2029.0, 0.60),
    ("CAL-10c", 2028.5, 0.50),
    ("CAL-10c", 2030.5, 0.50),
    ("CAL-10d", 2032.83, 0.50),
    ("CAL-10b", 2033.5, 0.50),
    ("CAL-8", 2043.0, 0.50),
)


@dataclass(frozen=True)
class ReferenceMark:
    row: str
    who: str
    what: str
    year: float
    p: float


REFERENCE_MARKS = tuple(ReferenceMark(row, *_REF_TEXT[row], year, p)
                        for row, year, p in _REF_DATES if row in _REF_TEXT)


def reference_frame() -> pd.DataFrame:
    """Every published reference point (REFERENCE_POINTS), with the year and probability marked
    on the timeline where it states one."""
    marks = {}
    for m in REFERENCE_MARKS:
        marks.setdefault(m.row, []).append(f"{m.year:g} at {m.p:.0%}")
    return pd.DataFrame([{"row": row, "source": who, "estimate (theirs)": what,
                          "marked at": "; ".join(marks.get(row, [])) or "(a range: not marked)"}
                         for row, who, what in REFERENCE_POINTS])


# --- a sweep folder's state (for the sweeps page's list) ---------------------------------------

@dataclass(frozen=True)
class StoreState:
    name: str
    sampler: str
    base: str
    runs_planned: int
    chunks_done: int
    chunks_planned: int
    complete: bool
    spec_hash: str
    manifest: dict[str, Any]


def store_state(ctx: AppContext, name: str) -> StoreState | None:
    """What the sweep folder ``name`` holds (None when its manifest cannot be read)."""
    try:
        path = ctx.sweep(name)
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (StorePathError, OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    return StoreState(name=name, sampler=str(manifest.get("sampler", "?")),
                      base=str(manifest.get("base_scenario", "?")),
                      runs_planned=int(manifest.get("n_runs") or 0),
                      chunks_done=chunk_count(path),
                      chunks_planned=int(manifest.get("n_chunks") or 0),
                      complete=bool(manifest.get("complete")),
                      spec_hash=str(manifest.get("spec_hash", ""))[:12], manifest=manifest)


__all__ += ["StoreError", "StorePathError", "dates_by_lever_set", "quartiles", "lever_options",
            "reference_frame", "ReferenceMark"]


# --- per-run series, for the early-warning page ---------------------------------------------------

def has_run_series(ctx: AppContext, name: str) -> bool:
    """Whether the sweep kept each run's yearly series (``outputs.per_run_series``)."""
    state = store_state(ctx, name)
    if state is None or not (state.manifest.get("outputs") or {}).get("per_run_series"):
        return False
    return any((ctx.sweep(name) / "series").glob("chunk-*.parquet"))


def run_series(ctx: AppContext, name: str) -> dict[str, Any]:
    """The sweep's successful runs as ``ixsim.analysis.early_warning.lead_times`` takes them:
    "times" (the whole years), one (runs x years) array per kept series, the runs'
    "successor_training_year" (NaN = not reached), "end_year" and "ok"; plus "series" (the
    names kept) and "run_id". StoreError when the sweep kept no per-run series."""
    import pyarrow.parquet as pq

    data = load_store(ctx, name)
    folder = ctx.sweep(name) / "series"
    files = sorted(folder.glob("chunk-*.parquet")) if folder.is_dir() else []
    if not files:
        raise StoreError(f"{name}: keeps no per-run series (outputs.per_run_series)")
    frame = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    ok = data.ok_runs
    run_ids = ok["run_id"].to_numpy()
    times = np.sort(frame["year"].unique()).astype(float)
    kept = [c for c in frame.columns if c not in ("run_id", "year")]
    out: dict[str, Any] = {"times": times, "series": kept, "run_id": run_ids}
    for column in kept:
        wide = frame.pivot_table(index="run_id", columns="year", values=column, aggfunc="first")
        out[column] = wide.reindex(index=run_ids, columns=times).to_numpy(dtype=float)
    out["successor_training_year"] = pd.to_numeric(
        ok[sa.SUCCESSOR], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ends = sa.end_years(ok, data.manifest)
    out["end_year"] = float(np.nanmin(ends)) if np.isfinite(ends).any() else float(times[-1])
    out["ok"] = np.ones(len(run_ids), dtype=bool)
    return out


__all__ += ["has_run_series", "run_series"]
