"""Early warning: how long before successor training does a signal fire?

A policy that pauses "on a signal" (a time horizon, a share of AI R&D automated, a training run
of a given size, a major incident) has, at most, the time between that signal and successor
training to act. For each draw of an ensemble (``ixsim.analysis.ensemble.Ensemble``) or for
plain arrays, ``lead_times`` finds when the trigger first fires (``trigger_year``) and the
years from then to successor training.

Every draw gets one of five statuses, and none is dropped silently:

- ``observed``: the trigger fired and successor training followed (or came first: a negative
  lead time means the signal fired after successor training, too late to act on);
- ``censored``: the trigger fired but no successor training by the run's end: the lead time is
  *at least* ``end_year - trigger_year`` (``years`` holds that lower bound);
- ``no_trigger``: the trigger never fired by the run's end (``years`` is NaN); with
  ``successor_year`` finite, successor training came with no warning at all;
- ``before_start``: the series was already at the threshold at the run's first step, so the
  signal fired at some unknown earlier time: ``years`` is ``successor - start`` (a lower bound,
  NaN without successor training); such a threshold cannot serve as a warning;
- ``failed``: the draw did not run (``years`` is NaN).

``survival`` turns observed and censored lead times into P(lead time > x) by Kaplan and Meier's
product-limit estimator (weighted), so censored draws count as "at least" rather than being
dropped or treated as exact: Kaplan, E. L. and Meier, P. (1958) doi:10.1080/01621459.1958.10501452.

Pure functions of numpy arrays; no Panel, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TRIGGERS", "Trigger", "LeadTimes", "trigger_year", "trigger_years", "lead_times",
           "survival", "lead_quantiles", "STATUSES"]

SUCCESSOR = "successor_training_year"
STATUSES = ("observed", "censored", "no_trigger", "before_start", "failed")


@dataclass(frozen=True)
class Trigger:
    """A signal: ``series`` is the world series it watches (None for the first major incident),
    ``log`` whether thresholds are read on a log scale (crossings interpolated in log10)."""

    key: str
    series: str | None
    label: str
    units: str
    log: bool
    default: float | None
    presets: tuple[float, ...] = ()


TRIGGERS: dict[str, Trigger] = {t.key: t for t in (
    Trigger("horizon", "frontier_horizon_minutes", "frontier 50% time horizon", "minutes",
            True, 480.0, (60.0, 480.0, 2400.0, 10080.0, 43200.0)),
    Trigger("automation", "rnd_automation", "share of AI R&D automated", "share", False, 0.5,
            (0.1, 0.2, 0.5, 0.8)),
    Trigger("training_run", "frontier_training_flop", "largest training run", "FLOP", True,
            1e27, (1e26, 1e27, 1e28, 1e29)),
    Trigger("incident", None, "first major incident", "", False, None),
)}


def trigger_year(times: np.ndarray, series: np.ndarray, threshold: float, *,
                 log: bool = False) -> float:
    """The first time ``series`` reaches ``threshold`` (>=), interpolated linearly between the
    step below and the step at or above it (in log10 when ``log``); ``times[0]`` if it starts
    there; NaN if it never does (or the series is empty). NaN values never cross."""
    times = np.asarray(times, dtype=float)
    values = np.asarray(series, dtype=float)
    if values.size == 0 or not math.isfinite(threshold):
        return math.nan
    hit = np.flatnonzero(values >= threshold)
    if hit.size == 0:
        return math.nan
    i = int(hit[0])
    if i == 0:
        return float(times[0])
    below, above = float(values[i - 1]), float(values[i])
    if not math.isfinite(below):
        return float(times[i])
    if log:
        if below <= 0.0 or threshold <= 0.0:
            return float(times[i])
        below, above, threshold = math.log10(below), math.log10(above), math.log10(threshold)
    fraction = (threshold - below) / (above - below) if above > below else 1.0
    return float(times[i - 1] + fraction * (times[i] - times[i - 1]))


def trigger_years(times: np.ndarray, series: np.ndarray, threshold: float, *,
                  log: bool = False) -> np.ndarray:
    """``trigger_year`` of each row of ``series`` (draws x steps)."""
    series = np.atleast_2d(np.asarray(series, dtype=float))
    return np.array([trigger_year(times, row, threshold, log=log) for row in series])


@dataclass(frozen=True)
class LeadTimes:
    """Per draw: ``years`` (lead time from the trigger to successor training: exact when
    observed, the lower bound ``end_year - trigger`` when censored, NaN otherwise), ``status``
    (one of STATUSES), ``trigger`` and ``successor`` (decimal years, NaN when not reached),
    ``end_year`` and ``weights`` (normalised over the draws that ran)."""

    trigger: str
    threshold: float | None
    years: np.ndarray
    status: np.ndarray
    trigger_at: np.ndarray
    successor: np.ndarray
    end_year: float
    weights: np.ndarray

    def counts(self) -> dict[str, int]:
        """How many draws have each status (every draw counted once)."""
        return {s: int((self.status == s).sum()) for s in STATUSES}

    def share(self, status: str) -> float:
        """Weighted share of the draws that ran with ``status``."""
        w = self.weights
        return float(w[self.status == status].sum() / w.sum()) if w.sum() > 0 else math.nan

    @property
    def too_late(self) -> np.ndarray:
        """Observed draws whose signal fired after successor training (negative lead)."""
        return (self.status == "observed") & (self.years < 0)


def _source_arrays(source: Any, trigger: Trigger
                   ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, float,
                              np.ndarray, np.ndarray]:
    """(times, series or None, successor years, first major incident, end year, ran mask,
    weights) from an Ensemble or a mapping of arrays."""
    if hasattr(source, "series") and hasattr(source, "headline"):  # an Ensemble
        times = np.asarray(source.times, dtype=float)
        series = None if trigger.series is None else np.asarray(source.series[trigger.series],
                                                                 dtype=float)
        successor = np.asarray(source.headline(SUCCESSOR), dtype=float)
        incident = np.asarray(source.first_major_incident, dtype=float)
        ran = np.asarray(source.ok, dtype=bool)
        weights = np.asarray(source.weights(True), dtype=float)
        return times, series, successor, incident, float(source.end_year), ran, weights
    if not isinstance(source, Mapping):
        raise TypeError("lead_times takes an Ensemble or a mapping of arrays")
    successor = np.asarray(source[SUCCESSOR], dtype=float)
    n = successor.size
    times = np.asarray(source.get("times", np.zeros(0)), dtype=float)
    series = None
    if trigger.series is not None:
        series = np.atleast_2d(np.asarray(source[trigger.series], dtype=float))
        if series.shape != (n, times.size):
            raise ValueError(f"{trigger.series}: expected {n} x {times.size} values "
                             f"(got {series.shape[0]} x {series.shape[1]})")
    incident = np.asarray(source.get("first_major_incident", np.full(n, math.nan)), dtype=float)
    ran = np.asarray(source.get("ok", np.ones(n, bool)), dtype=bool)
    raw = np.asarray(source.get("weights", ran.astype(float)), dtype=float)
    raw = np.where(ran, raw, 0.0)
    weights = raw / raw.sum() if raw.sum() > 0 else raw
    end = source.get("end_year")
    if end is None:
        end = float(times[-1]) if times.size else math.nan
    return times, series, successor, incident, float(end), ran, weights


def lead_times(source: Any, trigger: str, threshold: float | None = None) -> LeadTimes:
    """Lead time from ``trigger`` (a key of TRIGGERS) at ``threshold`` (its default when None;
    not used for "incident") to successor training, for every draw of ``source``: an Ensemble,
    or a mapping with "successor_training_year" (NaN = not reached), "times", the trigger's
    series (draws x steps), and optionally "first_major_incident", "end_year", "ok",
    "weights". See the module docstring for the statuses."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r} (known: {', '.join(TRIGGERS)})")
    spec = TRIGGERS[trigger]
    times, series, successor, incident, end, ran, weights = _source_arrays(source, spec)
    if spec.series is None:
        fired = incident.copy()
        threshold = None
    else:
        threshold = float(spec.default if threshold is None else threshold)
        if spec.log and threshold <= 0:
            raise ValueError(f"{spec.label}: the threshold must be above 0 (got {threshold:g})")
        fired = trigger_years(times, series, threshold, log=spec.log) if series.size else (
            np.full(successor.size, math.nan))
    n = successor.size
    years = np.full(n, math.nan)
    status = np.full(n, "failed", dtype=object)
    has_trigger = ran & np.isfinite(fired)
    has_successor = np.isfinite(successor)
    observed = has_trigger & has_successor
    censored = has_trigger & ~has_successor
    years[observed] = successor[observed] - fired[observed]
    years[censored] = end - fired[censored]
    status[observed] = "observed"
    status[censored] = "censored"
    status[ran & ~np.isfinite(fired)] = "no_trigger"
    if spec.series is not None and times.size:
        early = has_trigger & (fired <= times[0])
        years[early] = successor[early] - times[0]
        status[early] = "before_start"
    return LeadTimes(trigger=trigger, threshold=threshold, years=years,
                     status=status.astype(str), trigger_at=np.where(ran, fired, math.nan),
                     successor=np.where(ran, successor, math.nan), end_year=end,
                     weights=weights)


def survival(years: np.ndarray, censored: np.ndarray, weights: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of P(lead time > x): (x, S) at each distinct observed lead time,
    starting from (min(x) or 0, 1). ``years`` holds exact (``censored`` False) or lower-bound
    (``censored`` True) lead times; NaN entries are left out. Weighted by ``weights``."""
    years = np.asarray(years, dtype=float)
    censored = np.asarray(censored, dtype=bool)
    w = np.ones_like(years) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(years) & (w > 0)
    years, censored, w = years[keep], censored[keep], w[keep]
    if years.size == 0:
        return np.zeros(0), np.zeros(0)
    events = np.unique(years[~censored])
    xs, ss = [min(0.0, float(years.min()))], [1.0]
    s = 1.0
    for x in events:
        at_risk = w[years >= x].sum()
        died = w[(years == x) & ~censored].sum()
        if at_risk > 0:
            s *= 1.0 - died / at_risk
        xs.append(float(x))
        ss.append(s)
    return np.asarray(xs), np.asarray(ss)


def lead_quantiles(leads: LeadTimes, qs: Sequence[float] = (0.25, 0.5, 0.75)
                   ) -> dict[float, float]:
    """Quantiles of the lead time among draws where the trigger fired (observed and censored),
    from the Kaplan-Meier curve: the smallest x with P(lead <= x) >= q; +inf when the curve
    never gets there (the quantile lies beyond what the censored runs show)."""
    fired = np.isin(leads.status, ("observed", "censored"))
    xs, ss = survival(leads.years[fired], leads.status[fired] == "censored",
                      leads.weights[fired])
    out = {}
    for q in qs:
        reached = np.flatnonzero(1.0 - ss >= q - 1e-12)
        out[q] = float(xs[reached[0]]) if reached.size else math.inf
    return out
