"""The dated observations (data/observations.csv) against a run: which model column each
quantity is compared with, the row-by-row comparison, its log-likelihood and interval coverage,
the pass rule, and the bounded fit and likelihood profile built on them.

The rows are read through the one loader, ``ixsim.sim.sources.observations()``. Every score is in
log space: a row is a normal distribution in ln(value) centred on the observed value, with
sigma = ln(high / low) / (2 x 1.96) from its 95% interval, or from a stated tolerance (an ixsim
assumption, with its reason below) where the row has no interval or is only a loose comparison.
The fit and the profile take a plain ``evaluate(overrides) -> RunResult`` callable and import
nothing of the model; ``analysis/backtest.py`` supplies it.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ixsim.sim.sources import Observation

if TYPE_CHECKING:
    from ixsim.sim.results import RunResult

    Evaluate = Callable[[Mapping[str, float]], RunResult]

Z_95 = 1.96  # two-sided 95% quantile of the normal distribution
LN_2PI = math.log(2.0 * math.pi)
EPS_YEAR = 1e-9  # a monthly row at t <= date + this is in force at the date

# The pass rule (ixsim assumptions, chosen so that a correct model fails rarely). With ~13 rows
# each inside its 95% interval with probability 0.95, three or more fall outside by chance with
# probability ~2.5% (binomial), and some row lies beyond 3 sigma with probability ~3.5%
# (13 x 0.27%). A model that drifts away from the data for a year fails both.
MIN_COVERAGE = 0.8  # share of counted rows inside their 95% interval
MAX_ABS_Z = 3.0  # no counted row further than 3 sigma (in ln value) from the model
# Half the 95% quantile of chi-squared with 1 degree of freedom (3.84 / 2): a log-likelihood
# drop larger than this rejects a parameter value at 95% (likelihood-ratio test).
LR_95_HALF = 1.92


def decimal_year(day: datetime.date) -> float:
    """``day`` as a decimal year: 1 January is year.0."""
    start = datetime.date(day.year, 1, 1)
    days = (datetime.date(day.year + 1, 1, 1) - start).days
    return day.year + (day - start).days / days


def sigma_from_interval(low: float, high: float) -> float:
    """Sigma of ln(value) for a 95% interval [low, high]: ln(high / low) / (2 x 1.96)."""
    return math.log(high / low) / (2.0 * Z_95)


def z_score(model: float, observed: float, sigma: float) -> float:
    """(ln model - ln observed) / sigma: positive when the model is above the observation."""
    return (math.log(model) - math.log(observed)) / sigma


def log_likelihood(z: float, sigma: float) -> float:
    """Normal log-density of ln(value) at ``z`` sigma: -z^2/2 - ln sigma - ln(2 pi)/2."""
    return -0.5 * z * z - math.log(sigma) - 0.5 * LN_2PI


# ---------------------------------------------------------------------------------------------
# What each quantity is compared with


@dataclass(frozen=True)
class Comparison:
    """How the rows of one quantity meet the model.

    ``column`` is a world column of the run, or ``LEADING_LAB + column`` for the largest value of
    a lab column over the labs. ``frontier``: compared with the best state-of-the-art row released
    by the row's date (running maximum), as the model's column is the frontier. ``counted``: the
    rows count towards the score and the pass rule; loose rows are shown with their numbers but
    never count. ``tolerance``: the 95% range as a factor either way, used where a row has no
    interval and for every loose row (whose published ranges are spreads of press reports)."""

    quantity: str
    label: str  # short name for tables
    column: str
    counted: bool
    frontier: bool
    start_is_input: bool  # the run's start value is a scenario input set from the same source
    tolerance: float | None
    tolerance_reason: str
    how: str


LEADING_LAB = "leading lab: "

COMPARISONS: dict[str, Comparison] = {c.quantity: c for c in (
    Comparison(
        "metr_p50_horizon", "horizon", "frontier_horizon_minutes", counted=True, frontier=True,
        start_is_input=False, tolerance=None, tolerance_reason="",
        how="the run's frontier_horizon_minutes at the row's date against the best METR p50 "
            "horizon of a state-of-the-art model released by that date, with that row's "
            "bootstrap 95% interval"),
    Comparison(
        "training_flop", "train FLOP", "frontier_training_flop", counted=True, frontier=True,
        start_is_input=True, tolerance=3.0,
        tolerance_reason="ixsim assumption: closed labs do not publish training compute; the "
                         "rows are indirect estimates (conf S) with no interval, and the best "
                         "known run by a date may trail the unpublished frontier",
        how="the run's frontier_training_flop (largest run finished so far) against the largest "
            "state-of-the-art run published by the row's date; rows before the run's first "
            "finished training are its input labs[].initial_system_flop, set from the same "
            "number, and do not count"),
    Comparison(
        "rnd_uplift", "R&D uplift", "rnd_progress_multiplier", counted=False, frontier=False,
        start_is_input=False, tolerance=2.0,
        tolerance_reason="ixsim assumption: the studies measure developers' speed on tasks "
                         "(small trials) or self-estimated output, not the lab-wide rate of "
                         "software progress the model's multiplier is; only the rough size "
                         "compares",
        how="the run's rnd_progress_multiplier (software progress rate against the 2023 "
            "humans-only rate); loose"),
    Comparison(
        "lab_revenue_run_rate", "revenue", LEADING_LAB + "revenue_usd_per_year", counted=False,
        frontier=False, start_is_input=False, tolerance=2.0,
        tolerance_reason="ixsim assumption: the model's labs are generic, and its leading lab "
                         "stands for either reporting lab; gross and net accounting differ by "
                         "lab (CAL-12a)",
        how="the revenue of the run's leading lab (largest revenue at the date) against one "
            "lab's annualised run-rate; loose"),
    Comparison(
        "hyperscaler_capex", "capex", "spend_usd_per_year", counted=False, frontier=False,
        start_is_input=False, tolerance=10.0,
        tolerance_reason="ixsim assumption: hyperscaler capex also builds cloud, advertising "
                         "and other capacity and is not all spent for AI labs; only the order "
                         "of magnitude compares",
        how="all labs' compute spending spend_usd_per_year against the four hyperscalers' "
            "capital expenditure; loose"),
)}


# ---------------------------------------------------------------------------------------------
# Rows prepared for comparison


@dataclass(frozen=True)
class Target:
    """One observation row, with the value and band it is compared against."""

    row: Observation
    year: float  # the row's date, decimal year
    comparison: Comparison | None  # None: the quantity has no model counterpart
    best: Observation  # the row whose value is compared: itself, or the best SOTA row by then
    low: float | None  # the band used for inside / sigma (the row's interval or the tolerance)
    high: float | None
    band: str  # "95% CI" or "tolerance xN"
    status: str  # "scored", "before start", "after until", "no model counterpart", "no value"

    @property
    def sigma(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return sigma_from_interval(self.low, self.high)


def _band(best: Observation, comparison: Comparison) -> tuple[float | None, float | None, str]:
    has_interval = best.low is not None and best.high is not None and best.low < best.high
    if comparison.counted and has_interval:
        return best.low, best.high, "95% CI"
    if comparison.tolerance is None or best.value is None:
        return None, None, "none"
    f = comparison.tolerance
    return best.value / f, best.value * f, f"tolerance x{f:g}"


def targets(rows: Sequence[Observation], start: float, until: float) -> list[Target]:
    """Every row in file order, with its comparison target and whether it can be scored over the
    run [start, until]. Rows before the start still enter the running maximum of their
    quantity; they are not scored (the run has no value there)."""
    out = []
    for obs in rows:
        year = decimal_year(obs.date)
        comparison = COMPARISONS.get(obs.quantity)
        best = obs
        if comparison is not None and comparison.frontier:
            for other in rows:  # the best state-of-the-art row released by this date
                if (other.quantity == obs.quantity and other.sota and other.date <= obs.date
                        and other.value is not None and best.value is not None
                        and other.value > best.value):
                    best = other
        if comparison is None:
            low = high = None
            band, status = "none", "no model counterpart"
        else:
            low, high, band = _band(best, comparison)
            status = ("no value" if best.value is None or best.value <= 0 or low is None
                      else "before start" if year < start
                      else "after until" if year > until + EPS_YEAR else "scored")
        out.append(Target(obs, year, comparison, best, low, high, band, status))
    return out


# ---------------------------------------------------------------------------------------------
# A run against the rows


def _index(times: np.ndarray, year: float) -> int:
    """Index of the last monthly row at or before ``year`` (the value in force then); -1 if
    none."""
    return int(np.searchsorted(times, year + EPS_YEAR, side="right")) - 1


def model_value(result: RunResult, comparison: Comparison, year: float) -> float | None:
    """The run's value of ``comparison.column`` in force at ``year``; None outside the run."""
    world = result.world
    i = _index(world["time"], year)
    if i < 0:
        return None
    if comparison.column.startswith(LEADING_LAB):
        column = comparison.column.removeprefix(LEADING_LAB)
        labs = result.labs
        at = labs["time"] == world["time"][i]
        return float(np.max(labs[column][at])) if np.any(at) else None
    return float(world[comparison.column][i])


def still_start_value(result: RunResult, comparison: Comparison, year: float) -> bool:
    """Whether the run's column is still its start value at ``year`` (nothing has changed it)."""
    series = result.world[comparison.column]
    i = _index(result.world["time"], year)
    return bool(i >= 0 and np.all(series[: i + 1] == series[0]))


@dataclass(frozen=True)
class Row:
    """One observation row against the run, as reported."""

    date: str  # ISO date of the row
    year: float
    quantity: str
    label: str
    subject: str
    compared_with: str  # subject of the row whose value is compared (itself unless frontier)
    observed: float | None
    low: float | None
    high: float | None
    band: str
    model: float | None
    inside: bool | None  # None where not scored
    z: float | None
    loglik: float | None
    counted: bool
    status: str  # "scored", "loose", "start input", or why the row is not scored
    part: str = ""  # "fit" or "predict" when a fit date splits the rows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_one(result: RunResult, target: Target, start_input: bool = False,
                part: str = "") -> Row:
    """One row against the run. ``start_input``: the row's model value is the run's start input
    (shown, never counted)."""
    obs, best, c = target.row, target.best, target.comparison
    base = dict(date=obs.date.isoformat(), year=target.year, quantity=obs.quantity,
                label=c.label if c else obs.quantity, subject=obs.subject,
                compared_with=best.subject, observed=best.value, low=target.low,
                high=target.high, band=target.band, part=part)
    if target.status != "scored" or c is None:
        return Row(**base, model=None, inside=None, z=None, loglik=None, counted=False,
                   status=target.status)
    value = model_value(result, c, target.year)
    counted = c.counted and not start_input
    status = "loose" if not c.counted else "start input" if start_input else "scored"
    if value is None or not math.isfinite(value) or value <= 0:
        return Row(**base, model=value, inside=False, z=None, loglik=None, counted=counted,
                   status=status)
    sigma = target.sigma
    z = z_score(value, best.value, sigma)
    return Row(**base, model=value, inside=bool(target.low <= value <= target.high), z=z,
               loglik=log_likelihood(z, sigma), counted=counted, status=status)


def start_input_mask(result: RunResult, rows: Sequence[Target]) -> list[bool]:
    """For each target: its model value is still the run's start input (``start_is_input``
    comparisons only). Fixed from one run, so that a fit scores the same rows throughout."""
    return [t.status == "scored" and t.comparison is not None and t.comparison.start_is_input
            and still_start_value(result, t.comparison, t.year) for t in rows]


def compare(result: RunResult, rows: Sequence[Target], mask: Sequence[bool] | None = None,
            fit_until: float | None = None) -> list[Row]:
    """Every target against the run; ``fit_until`` marks each row's part ("fit" before it)."""
    mask = start_input_mask(result, rows) if mask is None else mask
    return [compare_one(result, t, m, "" if fit_until is None
                        else "fit" if t.year < fit_until else "predict")
            for t, m in zip(rows, mask)]


# ---------------------------------------------------------------------------------------------
# Score and rule


@dataclass(frozen=True)
class Score:
    """Log-likelihood and interval coverage of the counted rows of a comparison."""

    n: int
    inside: int
    loglik: float | None  # None when a counted row has no model value
    max_abs_z: float | None

    @property
    def coverage(self) -> float | None:
        return self.inside / self.n if self.n else None

    @property
    def passed(self) -> bool:
        """The pass rule: at least one counted row, coverage >= MIN_COVERAGE, every |z| <=
        MAX_ABS_Z and every row with a model value."""
        return (self.n > 0 and self.loglik is not None and self.coverage >= MIN_COVERAGE
                and self.max_abs_z <= MAX_ABS_Z)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "inside": self.inside, "coverage": self.coverage,
                "loglik": self.loglik, "max_abs_z": self.max_abs_z, "passed": self.passed}


def score(rows: Sequence[Row]) -> Score:
    """Score of the counted rows among ``rows``."""
    counted = [r for r in rows if r.counted]
    complete = all(r.loglik is not None for r in counted)
    return Score(
        n=len(counted), inside=sum(1 for r in counted if r.inside),
        loglik=sum(r.loglik for r in counted) if complete else None,
        max_abs_z=(max((abs(r.z) for r in counted), default=0.0) if complete else None))


def failing_rows(rows: Sequence[Row]) -> list[Row]:
    """Counted rows outside their interval, or beyond MAX_ABS_Z, or without a model value."""
    return [r for r in rows if r.counted and (not r.inside or r.z is None
                                              or abs(r.z) > MAX_ABS_Z)]


RULE = (f"pass when at least {MIN_COVERAGE:.0%} of the counted rows lie inside their 95% "
        f"interval and none lies more than {MAX_ABS_Z:g} sigma (in ln value) from the model")


# ---------------------------------------------------------------------------------------------
# Fit and profile


@dataclass(frozen=True)
class Free:
    """A parameter the fit moves, within its schema range (fitted in ln value)."""

    path: str
    start: float  # starting value (the scenario's)
    low: float
    high: float


@dataclass(frozen=True)
class ParameterFit:
    """A maximum-likelihood fit of ``values`` to ``n`` counted rows."""

    values: dict[str, float]  # fitted free parameters
    fixed: dict[str, float]  # parameters held at a given value during the fit
    n: int
    loglik: float
    evaluations: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PENALTY_Z = 50.0  # residual of a row the run gives no positive value (far beyond any real miss)


def residuals(result: RunResult, rows: Sequence[Target]) -> np.ndarray:
    """z of each target against the run (PENALTY_Z where the run has no positive value)."""
    out = np.empty(len(rows))
    for i, t in enumerate(rows):
        value = model_value(result, t.comparison, t.year)
        ok = value is not None and math.isfinite(value) and value > 0
        out[i] = z_score(value, t.best.value, t.sigma) if ok else PENALTY_Z
    return out


def total_loglik(z: np.ndarray, rows: Sequence[Target]) -> float:
    return float(sum(log_likelihood(float(zi), t.sigma) for zi, t in zip(z, rows)))


def _clip(x: float, free: Free) -> float:
    return min(max(math.exp(x), free.low), free.high)  # exp(ln low) can fall below low


def fit(evaluate: Evaluate, rows: Sequence[Target], free: Sequence[Free],
        fixed: Mapping[str, float] | None = None) -> ParameterFit:
    """Maximise the log-likelihood of ``rows`` over ``free`` (ln values, bounded by their ranges)
    with scipy's trust-region least squares on the z residuals: deterministic, a few dozen runs.
    With no free parameter the run at ``fixed`` is scored as it is."""
    from scipy.optimize import least_squares

    fixed = dict(fixed or {})
    count = 0

    def run(x: np.ndarray) -> np.ndarray:
        nonlocal count
        count += 1
        overrides = {**fixed, **{f.path: _clip(xi, f) for xi, f in zip(x, free)}}
        return residuals(evaluate(overrides), rows)

    if free:
        lo = np.log([f.low for f in free])
        hi = np.log([f.high for f in free])
        x0 = np.clip(np.log([f.start for f in free]), lo, hi)
        sol = least_squares(run, x0, bounds=(lo, hi), method="trf", diff_step=1e-4,
                            x_scale=1.0, xtol=1e-8, ftol=1e-10, gtol=1e-10, max_nfev=200)
        x, message = sol.x, str(sol.message)
    else:
        x, message = np.empty(0), "nothing to fit"
    values = {f.path: _clip(xi, f) for xi, f in zip(x, free)}
    z = residuals(evaluate({**fixed, **values}), rows)
    return ParameterFit(values, fixed, len(rows), total_loglik(z, rows), count, message)


@dataclass(frozen=True)
class Candidate:
    """A parameter to profile over [low, high]; ``source`` says where the range comes from."""

    path: str
    value: float  # the scenario's value
    low: float
    high: float
    source: str


@dataclass(frozen=True)
class Profile:
    """The profile log-likelihood at a candidate's range ends, against the best fit."""

    path: str
    value: float
    low: float
    high: float
    source: str
    loglik_low: float | None  # None: the scenario refuses the value
    loglik_high: float | None
    drop_low: float | None  # reference log-likelihood minus the end's
    drop_high: float | None
    status: str  # "constrained" or "prior"
    # the frontier's deployment dates at that end differ from the reference fit's: part of the
    # change is a deployment moved across an observation date (monthly steps), not a trend
    moved_low: bool | None = None
    moved_high: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def deployment_times(result: RunResult) -> tuple[float, ...]:
    """Times (decimal years) at which the run's frontier horizon changes: its deployments."""
    t, h = result.world["time"], result.world["frontier_horizon_minutes"]
    return tuple(float(x) for x in t[1:][h[1:] != h[:-1]])


def profile(evaluate: Evaluate, rows: Sequence[Target], free: Sequence[Free],
            candidates: Sequence[Candidate], reference: ParameterFit,
            refused: tuple[type[Exception], ...] = ()) -> list[Profile]:
    """Each candidate at its low and high end with the free parameters refit (profile
    likelihood; a free candidate is held at the end and the others refit, starting from the
    reference fit). Constrained when the log-likelihood differs from the reference fit's by more
    than LR_95_HALF at either end (a drop rejects the end; a rise means the data prefer it over
    the scenario's value); prior otherwise. ``refused``: exceptions of an end the scenario does
    not accept (that end is skipped). Each end also says whether the frontier's deployment
    dates moved against the reference fit's run."""
    reference_times = deployment_times(evaluate({**reference.fixed, **reference.values}))
    out = []
    for cand in candidates:
        others = [Free(f.path, reference.values[f.path], f.low, f.high)
                  for f in free if f.path != cand.path]
        ends: list[float | None] = []
        moved: list[bool | None] = []
        for value in (cand.low, cand.high):
            fixed = {**reference.fixed, cand.path: value}
            try:
                end = fit(evaluate, rows, others, fixed)
            except refused:
                ends.append(None)
                moved.append(None)
                continue
            ends.append(end.loglik)
            run = evaluate({**fixed, **end.values})
            moved.append(deployment_times(run) != reference_times)
        drops = [None if e is None else reference.loglik - e for e in ends]
        pinned = any(d is not None and abs(d) > LR_95_HALF for d in drops)
        out.append(Profile(cand.path, cand.value, cand.low, cand.high, cand.source, *ends,
                           *drops, "constrained" if pinned else "prior", *moved))
    return out
