"""Backtest: a calibration from its start to ``until`` against the dated observations
(data/observations.csv) and the published rates of CALIBRATION.md (rows CAL-1a ... CAL-7b).

Three parts. (1) The observation rows (``analysis/observations.py``): the run's METR horizon and
frontier training compute at each row's date against the observed values, scored by a
log-likelihood in ln value and by 95%-interval coverage, with a stated pass rule; optionally the
free parameters fitted on the rows before a date and the later rows predicted. (2) Which
parameters the rows constrain: the likelihood profile of each candidate parameter over a stated
range. (3) Rate checks: growth rates measured from the run (log-linear least-squares fits on the
points where a series changes, or on its monthly rows) against the published rates; a rate that
is a model input read back, or tuned to its own row, is labelled and does not count.
Pure functions: no printing, no files; ``cli/backtest.py`` is the command.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from ixsim.analysis import observations as obs
from ixsim.analysis.observations import decimal_year
from ixsim.sim.measured import CalibrationFileError, load_measured

if TYPE_CHECKING:
    from ixsim.sim.results import RunResult
    from ixsim.sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "baseline.toml"
MEASURED_PATH = ROOT / "scenarios" / "calibration" / "measured.json"

LN2 = math.log(2.0)
MONTHS_PER_YEAR = 12.0
_EPS_YEAR = 1e-9  # rows recorded at t <= until + this belong to the window

# Published values, read from data/calibration.toml (ixsim.sim.sources): one table, one copy.
from ixsim.sim import sources as _cal  # noqa: E402  (kept beside the values it reads)

CAL_1A = _cal.published_interval("1a")  # training compute, x/year, 90% CI
CAL_1B = (_cal.published("1b", "low"), _cal.published("1b", "high"))  # frontier, x/year, "4-5x"
CAL_2 = _cal.published_interval("2")  # algorithmic progress halving, months, 95% CI (arXiv v1)
CAL_3A_ML = _cal.published_interval("3a", "ml_gpus")  # ML GPU FLOP/s per $ doubling, yr, 95% CI
CAL_3B_PRICE_PERFORMANCE = _cal.published("3b", "price_performance_doubling")  # years
CAL_4A = _cal.published_interval("4a")  # frontier training-run cost growth, x/year, 95% CI
CAL_4B = _cal.published("4b")  # GPT-4 training compute, FLOP (no interval)
CAL_5A = _cal.published("5a")  # METR 50% horizon doubling, months (no interval)
CAL_5B = (_cal.published("5b", "v1_1"), _cal.published("5b", "v1_0"))  # GPT-4 horizon, minutes
# GPT-4's METR v1.1 row (CAL-5c): its bootstrap 95% interval, the range the 2023 horizon must hit
GPT4_HORIZON = next(o for o in _cal.observations() if o.quantity == "metr_p50_horizon"
                    and o.subject == "GPT-4")
CAL_6A = {k: _cal.published("6a", k) for k in ("alpha", "beta")}  # Chinchilla approach 3
CAL_6B = {k: (_cal.published("6b", k), _cal.published("6b", f"{k}_se"))  # refit: value, SE
          for k in ("alpha", "beta")}
CAL_7A_VISION = _cal.published_interval("7a", "computer_vision")  # returns r, vision, 5-95%
CAL_7B = _cal.published_interval("7b", "r")  # returns r, SIE model, median and range

# ixsim tolerances where CALIBRATION.md gives no interval (assumptions, labelled as such).
TOLERANCE = "tolerance (ixsim assumption)"
# around the METR rows' own doubling over the window: the same relative width as the 4-10 months
# this check allowed around CAL-5a's ~7 (a factor ~1.6 either way)
HORIZON_DOUBLING_TOLERANCE_FACTOR = 1.6
START_COMPUTE_TOLERANCE_FACTOR = 2.0  # around CAL-4b's 2.1e25 FLOP


@dataclass(frozen=True)
class Check:
    """One row of the backtest: a modelled value against a published value and range."""

    key: str  # stable identifier, e.g. "algorithmic_progress"
    name: str  # what is checked
    cal: str  # CALIBRATION.md row(s), e.g. "CAL-1a"
    modelled: float | None  # None when it could not be measured over the window
    published: float | None  # published central value; None where the row gives only a range
    low: float | None
    high: float | None
    units: str
    range_kind: str  # "90% CI", "95% CI", "published", TOLERANCE, "derived from both CIs"
    basis: str  # "model output", "model input", "tuned to the row", "training loop (...)"
    informational: bool  # informational rows do not count towards pass/fail
    note: str  # how the modelled value was measured

    @property
    def passed(self) -> bool | None:
        """Within [low, high] (inclusive); None for informational rows."""
        if self.informational:
            return None
        return self.in_range

    @property
    def in_range(self) -> bool:
        if self.modelled is None or self.low is None or self.high is None:
            return False
        return self.low <= self.modelled <= self.high

    @property
    def result(self) -> str:
        if self.informational:
            return "informational"
        if self.modelled is None:
            return "not measurable"
        return "pass" if self.in_range else "FAIL"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(passed=self.passed, result=self.result)
        return out


# ---------------------------------------------------------------------------------------------
# Time and fits


def last_observation_year() -> float:
    """Decimal year of the latest dated observation: the default end of a backtest (fixed by
    the data, so the report is the same whatever day it runs)."""
    from ixsim.sim.sources import observations

    return max(decimal_year(o.date) for o in observations())


def data_cutoff_year() -> float:
    """Decimal year of the last METR horizon row: the rate checks measure the model up to here,
    where the withheld observations begin (what comes later is prediction, scored by rows)."""
    from ixsim.sim.sources import observations

    return max(decimal_year(o.date) for o in observations() if o.quantity == "metr_p50_horizon")


@dataclass(frozen=True)
class Fit:
    """ln y = a + slope * t, fitted by least squares."""

    slope: float  # 1/year
    n: int
    t_first: float
    t_last: float

    def describe(self) -> str:
        return f"{self.n} points, {self.t_first:.2f}-{self.t_last:.2f}"


def log_linear_fit(t: np.ndarray, y: np.ndarray) -> Fit | None:
    """Least-squares slope of ln y on t; None with fewer than two distinct times or y <= 0."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(t) < 2 or np.ptp(t) <= 0 or np.any(~np.isfinite(y)) or np.any(y <= 0):
        return None
    slope = float(np.polyfit(t, np.log(y), 1)[0])
    return Fit(slope, len(t), float(t[0]), float(t[-1]))


def growth_factor(slope: float) -> float:
    """e^slope (x/year), capped below float overflow."""
    return math.exp(min(slope, 700.0))


def change_points(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows after the first where ``y`` differs from the row before (e.g. a run finished)."""
    idx = np.flatnonzero(y[1:] != y[:-1]) + 1
    return t[idx], y[idx]


# ---------------------------------------------------------------------------------------------
# Reading the run


@dataclass
class Window:
    """The run's monthly rows over [start, until] and the frontier lab's series."""

    start: float
    until: float
    world: dict[str, np.ndarray]
    lab: str  # the frontier lab: largest effective compute at the last row of the window
    lab_series: dict[str, np.ndarray]
    all_labs: dict[str, dict[str, np.ndarray]]


def _window(result: RunResult, start: float, until: float) -> Window:
    keep = result.world["time"] <= until + _EPS_YEAR
    world = {k: v[keep] for k, v in result.world.items()}
    per_lab: dict[str, dict[str, np.ndarray]] = {}
    for name in result.lab_names:
        rows = (result.labs["lab"] == name) & (result.labs["time"] <= until + _EPS_YEAR)
        per_lab[name] = {k: np.asarray(v[rows]) for k, v in result.labs.items() if k != "lab"}
    frontier = max(result.lab_names,
                   key=lambda n: (per_lab[n]["effective_flop"][-1], -result.lab_names.index(n)))
    return Window(start, until, world, frontier, per_lab[frontier], per_lab)


def _first_runs(win: Window) -> tuple[str, float, float] | None:
    """(lab, time, physical FLOP) of the largest first training run any lab finished."""
    best: tuple[str, float, float] | None = None
    for name, series in win.all_labs.items():
        t, flop = change_points(series["time"], series["training_flop"])
        if len(t) and (best is None or flop[0] > best[2]):
            best = (name, float(t[0]), float(flop[0]))
    return best


# ---------------------------------------------------------------------------------------------
# The checks


def _not_measurable(why: str) -> str:
    return f"not measurable over the window: {why}"


def training_compute_checks(spec: Scenario, win: Window) -> list[Check]:
    t, flop = change_points(win.world["time"], win.world["frontier_training_flop"])
    fit = log_linear_fit(t, flop)
    value = growth_factor(fit.slope) if fit else None
    how = ("log-linear least-squares fit to the finished-run points of frontier_training_flop "
           "(largest physical training run finished so far; the starting value, the input "
           "labs[].initial_system_flop, is left out)")
    note = (f"{how}: {fit.describe()}" if fit
            else _not_measurable(f"fewer than two runs finished; {how}"))
    hw, inv = spec.hardware, spec.investment
    inputs = (inv.spend_growth_per_year * hw.price_performance_growth_per_year
              * hw.utilisation_growth_per_year)
    note += (f". On the balanced-growth path, before any cap binds, this is the product of three "
             f"inputs: spend x hardware x utilisation growth = {inv.spend_growth_per_year:g} x "
             f"{hw.price_performance_growth_per_year:g} x {hw.utilisation_growth_per_year:g} = "
             f"{inputs:.3g}x/yr")
    common = dict(modelled=value, units="x/year", basis="model output", informational=False,
                  note=note)
    return [
        Check("training_compute_growth", "training compute growth", "CAL-1a",
              published=CAL_1A[0], low=CAL_1A[1], high=CAL_1A[2], range_kind="90% CI", **common),
        Check("training_compute_growth_frontier", "training compute growth",
              "CAL-1b", published=None, low=CAL_1B[0], high=CAL_1B[1],
              range_kind="published", **common),
    ]


def spending_check(spec: Scenario, win: Window) -> Check:
    t, spend = win.lab_series["time"][1:], win.lab_series["spend_usd_per_year"][1:]
    fit = log_linear_fit(t, spend)
    how = (f"log-linear least-squares fit to the monthly compute spending of the leading lab "
           f"({win.lab}); its training runs use the training share of the compute it buys. The "
           "first row (the starting budget, repeated in month one) is left out")
    note = f"{how}: {fit.describe()}" if fit else _not_measurable(f"under two months; {how}")
    note += (". Until reinvested revenue or the GWP cap takes over this is the input "
             f"investment.spend_growth_per_year = {spec.investment.spend_growth_per_year:g} "
             "(cited to CAL-4a): the row tests the revenue feedback and the cap, not the input")
    return Check("training_spend_growth", "training spend growth", "CAL-4a",
                 growth_factor(fit.slope) if fit else None, CAL_4A[0], CAL_4A[1], CAL_4A[2],
                 "x/year", "95% CI", "model output", False, note)


def algorithmic_check(win: Window) -> Check:
    t, s = win.lab_series["time"], win.lab_series["software_level"]
    fit = log_linear_fit(t, s)
    value = LN2 / fit.slope * MONTHS_PER_YEAR if fit and fit.slope > 0 else None
    how = (f"halving time of the compute needed for a fixed capability = ln2 / (d ln S/dt) x 12, "
           f"d ln S/dt from a log-linear least-squares fit to the monthly software level S of the "
           f"frontier lab ({win.lab})")
    if fit and fit.slope > 0:
        note = f"{how}: {fit.describe()}; S went from {s[0]:.3g} to {s[-1]:.3g}"
        recent = log_linear_fit(t[t >= t[-1] - 1.0], s[t >= t[-1] - 1.0])
        if recent and recent.slope > 0 and t[-1] - t[0] > 1.0:
            note += (f"; over the last 12 months alone the halving time is "
                     f"{LN2 / recent.slope * MONTHS_PER_YEAR:.3g} months")
    else:
        note = _not_measurable(f"S did not grow; {how}")
    note += ("; range: the 95% CI of arXiv v1 (the NeurIPS 2024 version gives a 90% CI of 2-22)."
             " The humans-only path is refit to CAL-2 over software.fit_window_years, so inside "
             "that window the row tests the AI-driven departure from it, not the input")
    return Check("algorithmic_progress", "algorithmic halving time", "CAL-2",
                 value, CAL_2[0], CAL_2[1], CAL_2[2], "months", "95% CI",
                 "model output", False, note)


def hardware_check(spec: Scenario, win: Window) -> Check:
    """Hardware price-performance doubling: the model's own price-performance path with the
    utilisation factor switched off. Its growth is a model input read back, so the row is
    informational (it cannot fail on the model's account)."""
    from ixsim.sim.continuous import Constants, price_performance

    hw = spec.hardware.model_copy(update={"utilisation_growth_per_year": 1.0})
    constants = Constants.of(spec.model_copy(update={"hardware": hw}))
    t = win.world["time"]
    p = np.array([price_performance(constants, float(x)) for x in t])
    fit = log_linear_fit(t, p)
    value = LN2 / fit.slope if fit and fit.slope > 0 else None
    how = ("model input (hardware.price_performance_growth_per_year "
           f"= {spec.hardware.price_performance_growth_per_year:g}/yr, cited to CAL-3b, with its "
           "ceiling), not an independent test: read back by a log-linear fit to "
           "the model's price_performance at the monthly rows with the utilisation factor "
           "switched off (hardware.utilisation_growth_per_year = 1)")
    if fit and fit.slope > 0:
        note = f"{how}: {fit.describe()}"
        ceiling = spec.hardware.price_performance_ceiling_oom * math.log(10.0)
        if math.log(spec.hardware.price_performance_growth_per_year) * (win.until - win.start) \
                > ceiling:
            note += "; the hardware ceiling binds inside the window"
    else:
        note = _not_measurable(f"price-performance did not grow; {how}")
    return Check("hardware_price_performance", "hardware price-perf. doubling",
                 "CAL-3a, CAL-3b", value, CAL_3A_ML[0], CAL_3A_ML[1], CAL_3A_ML[2],
                 "years", "95% CI", "model input", True,
                 note + f"; published: CAL-3a ML GPUs {CAL_3A_ML[0]} years, 95% CI "
                 f"{CAL_3A_ML[1]}-{CAL_3A_ML[2]}; CAL-3b gives {CAL_3B_PRICE_PERFORMANCE} years "
                 "without an interval")


def observed_horizon_doubling(start: float, until: float) -> tuple[float, int] | None:
    """(months, rows): METR's own 50%-horizon doubling time over [start, until], fitted as the
    model's is (log-linear at the points where the best state-of-the-art horizon released so
    far changes, CAL-5c); None with fewer than two such points."""
    rows = sorted((obs.decimal_year(o.date), o.value) for o in _cal.observations()
                  if o.quantity == "metr_p50_horizon" and o.sota and o.value)
    best, t, h = 0.0, [], []
    for year, value in rows:
        if value > best:
            best = value
            if start - _EPS_YEAR <= year <= until + _EPS_YEAR:
                t.append(year)
                h.append(value)
    fit = log_linear_fit(np.array(t), np.array(h))
    return (LN2 / fit.slope * MONTHS_PER_YEAR, len(t)) if fit and fit.slope > 0 else None


def horizon_doubling_check(win: Window) -> Check:
    t, h = change_points(win.world["time"], win.world["frontier_horizon_minutes"])
    fit = log_linear_fit(t, h)
    value = LN2 / fit.slope * MONTHS_PER_YEAR if fit and fit.slope > 0 else None
    how = ("log-linear least-squares fit to frontier_horizon_minutes at the points where it "
           "changes (a better system deployed; the starting value, the input "
           "capability.reference_horizon_minutes, is left out)")
    note = (f"{how}: {fit.describe()}" if fit and fit.slope > 0
            else _not_measurable(f"fewer than two deployments; {how}"))
    observed = observed_horizon_doubling(win.start, win.until)
    if observed is None:  # a window with too few METR rows: CAL-5a's long-run trend
        centre, where = CAL_5A, f"CAL-5a's ~{CAL_5A:g} months (2019-25; too few METR rows here)"
    else:
        centre, where = observed[0], (f"the METR rows' own doubling over the same window, "
                                      f"{observed[0]:.2f} months from {observed[1]} releases "
                                      f"(CAL-5c); CAL-5a's 2019-25 trend is ~{CAL_5A:g} months")
    k = HORIZON_DOUBLING_TOLERANCE_FACTOR
    low, high = centre / k, centre * k
    note += (f"; against {where}: the range x/{k:g}..x{k:g} "
             f"({low:.2f}-{high:.2f} months) is an ixsim tolerance")
    return Check("horizon_doubling", "METR horizon doubling", "CAL-5c, CAL-5a", value, centre,
                 low, high, "months", TOLERANCE, "model output", False, note)


def start_level_checks(win: Window) -> list[Check]:
    first = _first_runs(win)
    factor = START_COMPUTE_TOLERANCE_FACTOR
    horizon = None
    if first is not None:
        lab, when, flop = first
        series = win.all_labs[lab]
        horizon = float(series["horizon_minutes"][np.searchsorted(series["time"], when)])
        where = (f"the first training run the model itself runs from the start ({lab}, "
                 f"finished {when:.2f})")
        flop0 = win.world["frontier_training_flop"][0]
        horizon0 = win.world["frontier_horizon_minutes"][0]
        compute_note = (f"physical FLOP of {where}, the largest first run of any lab; the value "
                        f"recorded at {win.start:g} ({flop0:.3g}) is the input "
                        "labs[].initial_system_flop")
        horizon_note = (f"50% horizon of the system trained by {where}; the value recorded at "
                        f"{win.start:g} ({horizon0:.3g}) is the input "
                        "capability.reference_horizon_minutes")
    else:
        flop = None
        compute_note = horizon_note = _not_measurable("no training run finished")
    horizon_note += (f"; range: the 95% interval of METR's GPT-4 row (CAL-5c, v1.1 "
                     f"{GPT4_HORIZON.value:g} min); CAL-5b's v1.0 value is {CAL_5B[1]:g}")
    compute_note += (f"; CALIBRATION.md gives no interval: the range is a factor-{factor:g} "
                     "ixsim tolerance")
    compute_note += (". Informational: the labs' compute stocks are chosen so that the first "
                     "run reproduces this row (a scenario assumption); the dated training_flop "
                     "rows test the level")
    horizon_note += (". Informational: the dated METR rows test the horizon at every date, each "
                     "with its own 95% interval")
    return [
        Check("start_training_compute", "training compute, 2023", "CAL-4b", flop,
              CAL_4B, CAL_4B / factor, CAL_4B * factor, "FLOP", TOLERANCE, "tuned to the row",
              True, compute_note),
        Check("start_horizon", "50% time horizon, 2023", "CAL-5c", horizon,
              GPT4_HORIZON.value, GPT4_HORIZON.low, GPT4_HORIZON.high, "minutes", "95% CI",
              "model output", True, horizon_note),
    ]


def effective_compute_target() -> tuple[float, float, float]:
    """CALIBRATION.md's derived target: effective compute x (compute growth) x (2^(12/halving)).

    Central 4.7 x 2^(12/8) = 13.3x/year. The range combines the intervals endpoint by endpoint:
    slowest compute growth with the slowest algorithmic progress (4.3 x 2^(12/14)) and fastest
    with fastest (5.2 x 2^(12/5)). A 90% and a 95% interval combined this way give a range wider
    than either: a generous consistency band, not a confidence interval.
    """
    central = CAL_1A[0] * 2.0 ** (MONTHS_PER_YEAR / CAL_2[0])
    low = CAL_1A[1] * 2.0 ** (MONTHS_PER_YEAR / CAL_2[2])
    high = CAL_1A[2] * 2.0 ** (MONTHS_PER_YEAR / CAL_2[1])
    return central, low, high


def effective_compute_check(win: Window) -> Check:
    t, e = change_points(win.world["time"], win.world["frontier_effective_flop"])
    fit = log_linear_fit(t, e)
    central, low, high = effective_compute_target()
    how = ("log-linear least-squares fit to frontier_effective_flop (physical FLOP x software "
           "level at the run's start) at the points where it changes (the starting value, an "
           "input, is left out)")
    note = f"{how}: {fit.describe()}" if fit else _not_measurable(f"fewer than two runs; {how}")
    note += (f". Target {CAL_1A[0]:g} x 2^(12/{CAL_2[0]:g}) = {central:.3g}x/yr; range "
             f"{CAL_1A[1]:g} x 2^(12/{CAL_2[2]:g}) = {low:.3g} to {CAL_1A[2]:g} x "
             f"2^(12/{CAL_2[1]:g}) = {high:.3g}: CAL-1a's 90% CI and CAL-2's 95% CI combined "
             "endpoint by endpoint (wider than either; a consistency band)")
    return Check("effective_compute_growth", "effective compute growth",
                 "CAL-1a x CAL-2", growth_factor(fit.slope) if fit else None, central, low, high,
                 "x/year", "derived from both CIs", "model output", False, note)


def _where(value: float, low: float, high: float) -> str:
    return "inside" if low <= value <= high else "outside"


def measured_checks(path: Path) -> list[Check]:
    """Informational rows from the training loop's measured.json; none if it is missing, one
    row saying why if it cannot be read. They never count towards pass/fail."""
    if not path.is_file():
        return []
    basis = "training loop (measured.json)"
    try:
        measured = load_measured(path)
        scaling, returns = measured["scaling"], measured["returns_r"]
        rows = []
        for name in ("alpha", "beta"):
            value, lo, hi = (float(scaling[name][k]) for k in ("value", "low", "high"))
            centre, se = CAL_6B[name]
            low = min(CAL_6A[name], centre - 1.96 * se)
            high = max(CAL_6A[name], centre + 1.96 * se)
            rows.append(Check(
                f"measured_scaling_{name}", f"measured {name} (scaling)", "CAL-6a, CAL-6b",
                value, CAL_6A[name], low, high, "-", "6a..6b +-1.96 SE", basis, True,
                f"{name} fitted by the training loop, interval {lo:.3g}-{hi:.3g} (its losses are "
                "per byte, so only the exponents compare with Chinchilla's); published: CAL-6a "
                f"{CAL_6A[name]}, CAL-6b {centre} (SE {se}); the range spans CAL-6a and CAL-6b "
                f"+-1.96 SE; {_where(value, low, high)} the range; not counted"))
        value, lo, hi = (float(returns[k]) for k in ("value", "low", "high"))
        for key, cal, (centre, low, high), kind in (
                ("measured_returns_r_7b", "CAL-7b", CAL_7B, "published"),
                ("measured_returns_r_7a", "CAL-7a", CAL_7A_VISION, "vision 5-95%")):
            rows.append(Check(
                key, "measured r (returns)", cal, value, centre, low, high, "-", kind, basis, True,
                "returns to software R&D r (doublings of output per doubling of input) measured "
                f"by the training loop, interval {lo:.3g}-{hi:.3g}; {_where(value, low, high)} "
                "the range; not counted"))
        return rows
    except (CalibrationFileError, OSError, ValueError, KeyError, TypeError) as exc:
        return [Check("measured", "training-loop measurements", "CAL-6a, CAL-6b, CAL-7a, CAL-7b",
                      None, None, None, None, "-", "-", basis, True,
                      f"{path.name} could not be read: {exc}")]


# ---------------------------------------------------------------------------------------------
# Entry points


def with_end_year(spec: Scenario, until: float) -> Scenario:
    """``spec`` running to the first step at or after ``until`` (the checks read rows up to
    ``until``); raises ValueError when ``until`` is not after the start."""
    if not math.isfinite(until):
        raise ValueError(f"must be a finite decimal year (got {until})")
    if until <= spec.meta.start_year:
        raise ValueError(f"must be after the model start {spec.meta.start_year} (got {until})")
    steps = math.ceil((until - spec.meta.start_year) * spec.meta.steps_per_year - 1e-9)
    end = spec.meta.start_year + steps / spec.meta.steps_per_year
    try:  # validated like meta.end_year (its upper bound)
        meta = type(spec.meta).model_validate({**spec.meta.model_dump(), "end_year": end})
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise ValueError(f"{problem[:1].lower()}{problem[1:]} (got {until})") from None
    return spec.model_copy(update={"meta": meta})


def checks_from_result(spec: Scenario, result: RunResult, until: float,
                       measured_path: Path | None = MEASURED_PATH) -> list[Check]:
    """All checks measured from one finished run of ``spec`` (run to at least ``until``)."""
    win = _window(result, spec.meta.start_year, until)
    checks = [
        *training_compute_checks(spec, win),
        spending_check(spec, win),
        algorithmic_check(win),
        hardware_check(spec, win),
        horizon_doubling_check(win),
        *start_level_checks(win),
        effective_compute_check(win),
    ]
    if measured_path is not None:
        checks.extend(measured_checks(measured_path))
    return checks


def counted(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.informational]


def all_passed(checks: list[Check]) -> bool:
    rows = counted(checks)
    return bool(rows) and all(c.passed for c in rows)


# ---------------------------------------------------------------------------------------------
# Observations: fit, predictions, constrained or prior

# The fit's free parameters: they map effective compute to METR horizons, which is what the
# horizon rows identify (the level of ln horizon and the 2024-25 step above the long-run slope).
FREE_PARAMETERS = ("capability.reference_horizon_minutes", "capability.post_training_gain",
                   "capability.post_training_gain_oom")
FREE_WHY = ("they map effective compute to METR horizons (horizon = reference x 2^(OOM above "
            "the reference / oom per doubling) x the post-training gain, a logistic step in "
            "effective compute): the level, and the size and place of the 2024-25 step above "
            "the long-run slope, which the METR rows identify; the slope itself is CAL-5a's "
            "long-run trend, and the compute and software paths that feed them have their own "
            "published rates")

# Ranges for the constrained-or-prior profile. A published interval where one exists; else the
# scenario value /2 and x2: an ixsim assumption (a factor 2 is a modest move for a number with
# no published interval: data that cannot tell it apart over a factor 2 do not pin it). The CES
# exponents can be 0 or negative, so they move over an elasticity 1/(1 - rho) of 0.25 to 2
# (rho -3 to 0.5): an ixsim assumption spanning a strong bottleneck to easy substitution.
FACTOR_RANGE = 2.0
RHO_RANGE = (-3.0, 0.5)
CANDIDATES = ("software.returns_r", "software.compute_rho", "software.labour_weight",
              "software.beta", "capability.oom_per_horizon_doubling",
              "capability.reference_horizon_minutes", "capability.post_training_gain",
              "capability.automation_reliability",
              "hardware.price_performance_growth_per_year", "investment.spend_growth_per_year",
              "labour.review_ratio", "labour.task_rho")
PUBLISHED_RANGES = {
    "software.returns_r": ((CAL_7B[1], CAL_7B[2]), "CAL-7b range"),
    "hardware.price_performance_growth_per_year": (
        (2.0 ** (1.0 / CAL_3A_ML[2]), 2.0 ** (1.0 / CAL_3A_ML[1])), "CAL-3a 95% CI"),
    "investment.spend_growth_per_year": ((CAL_4A[1], CAL_4A[2]), "CAL-4a 95% CI"),
}
PROFILE_METHOD = (
    "each parameter moved to the low and the high end of its range with the free parameters "
    "refit (profile likelihood) on every counted row up to --until; constrained when the "
    f"log-likelihood differs from the best fit's by more than {obs.LR_95_HALF:g} at either end "
    "(the 95% likelihood-ratio threshold, 1 degree of freedom), prior otherwise. Ranges: the "
    "published interval where one exists, the CES exponents rho over -3..0.5 (elasticity "
    "0.25..2), the others the scenario value /2 and x2 (ixsim assumptions), within the schema "
    "range")


def _schema_ranges() -> dict[str, tuple[float, float]]:
    from ixsim.sim.scenario import field_table

    return {r["name"]: (r["low"], r["high"]) for r in field_table()
            if r["low"] is not None and r["high"] is not None}


def scenario_value(spec: Scenario, path: str) -> float:
    """The value of a dotted scenario field, e.g. ``software.returns_r``."""
    node: Any = spec
    for key in path.split("."):
        node = getattr(node, key)
    return float(node)


def free_parameters(spec: Scenario) -> list[obs.Free]:
    ranges = _schema_ranges()
    return [obs.Free(p, scenario_value(spec, p), *ranges[p]) for p in FREE_PARAMETERS]


def candidates(spec: Scenario) -> list[obs.Candidate]:
    """The profiled parameters with their ranges (see PROFILE_METHOD), clipped to the schema."""
    ranges = _schema_ranges()
    out = []
    for path in CANDIDATES:
        value = scenario_value(spec, path)
        if path in PUBLISHED_RANGES:
            (low, high), source = PUBLISHED_RANGES[path]
        elif path.endswith("_rho"):
            (low, high), source = RHO_RANGE, "elasticity 0.25..2, assumption"
        else:
            low, high = value / FACTOR_RANGE, value * FACTOR_RANGE
            source = f"/{FACTOR_RANGE:g}..x{FACTOR_RANGE:g}, assumption"
        lo, hi = ranges[path]
        out.append(obs.Candidate(path, value, max(low, lo), min(high, hi), source))
    return out


class Evaluator:
    """``spec`` with overrides run to ``end`` (decimal year), each distinct set run once."""

    def __init__(self, spec: Scenario, end: float, seed: int = 0):
        self.spec = with_end_year(spec, end)
        self.seed = seed
        self._runs: dict[tuple[tuple[str, float], ...], RunResult] = {}

    def __call__(self, overrides: dict[str, float]) -> RunResult:
        from ixsim.sim.model import simulate
        from ixsim.sim.scenario import with_overrides

        key = tuple(sorted(overrides.items()))
        if key not in self._runs:
            spec = with_overrides(self.spec, overrides, "backtest") if overrides else self.spec
            self._runs[key] = simulate(spec, seed=self.seed)
        return self._runs[key]

    @property
    def runs(self) -> int:
        return len(self._runs)


def parse_fit_until(text: str) -> float:
    """``--fit-until``: an ISO date (2024-06-01) or a decimal year (2024.5) -> decimal year."""
    try:
        year = float(text)
    except ValueError:
        try:
            return decimal_year(datetime.date.fromisoformat(text.strip()))
        except ValueError:
            raise ValueError(f"not an ISO date (YYYY-MM-DD) or a decimal year (got {text!r})") \
                from None
    if not math.isfinite(year):
        raise ValueError(f"must be a finite decimal year (got {text!r})")
    return year


class FitWindowError(ValueError):
    """A fit date that leaves nothing to fit or nothing to predict (bad input, not a failure)."""


def check_fit_until(rows: list[obs.Row], fit_until: float, start: float, label: str,
                    n_free: int = len(FREE_PARAMETERS)) -> None:
    """FitWindowError unless at least ``n_free`` counted rows lie before ``fit_until`` and some
    row is scored from it on (there is something to fit and something to predict)."""
    fit_rows = [r for r in rows if r.counted and r.year < fit_until]
    scored = [r for r in rows if r.status in ("scored", "loose", "start input")]
    first = next((r for r in rows if r.counted), None)
    if not fit_rows:
        where = (f"the first is {first.date}, {first.label} {first.subject}" if first
                 else "none is scored up to --until")
        before = "is not after the model start" if fit_until <= start else "leaves no counted " \
            "observation row between it and the model start"
        raise FitWindowError(f"{label}: {before} ({start:g}): nothing to fit ({where})")
    if len(fit_rows) < n_free:
        raise FitWindowError(f"{label}: only {len(fit_rows)} counted observation row before it; "
                             f"the fit needs at least {n_free} (one per free parameter)")
    if not any(r.year >= fit_until for r in scored):
        raise FitWindowError(f"{label}: no observation row up to --until is dated on or after "
                             f"it (the last is {max(r.date for r in scored)}): nothing to "
                             "predict")


@dataclass(frozen=True)
class Prediction:
    """The evaluated model's value, at one date after the METR data cutoff, of a quantity whose
    later observations are withheld from data/observations.csv: registered before they are
    seen."""

    date: str  # ISO date
    year: float
    horizon_minutes: float  # frontier_horizon_minutes in force at the date
    training_flop: float  # frontier_training_flop in force at the date

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PREDICTION_MONTHS = (1, 4, 7, 10)  # quarter starts: a prediction on the first of each


def predictions(result: RunResult, until: float) -> list[Prediction]:
    """The run's frontier horizon and training FLOP on the first day of each quarter after the
    METR data cutoff, up to ``until``: the quantities whose 2025-26 rows are withheld."""
    cutoff, times = data_cutoff_year(), result.world["time"]
    out = []
    for year in range(int(cutoff), int(until) + 1):
        for month in PREDICTION_MONTHS:
            day = datetime.date(year, month, 1)
            at = decimal_year(day)
            if at <= cutoff or at > until + _EPS_YEAR or at > times[-1] + _EPS_YEAR:
                continue
            i = int(np.searchsorted(times, at + _EPS_YEAR, side="right")) - 1
            out.append(Prediction(day.isoformat(), at,
                                  float(result.world["frontier_horizon_minutes"][i]),
                                  float(result.world["frontier_training_flop"][i])))
    return out


@dataclass
class Backtest:
    """Everything one backtest measured; ``document()`` is its JSON form."""

    spec: Scenario  # the scenario as given
    until: float
    fit_until: float | None
    checks: list[Check]  # rate checks of the evaluated model
    rows: list[obs.Row]  # observation rows of the evaluated model (fitted when fit_until)
    scenario_rows: list[obs.Row]  # the scenario as given
    fit: obs.ParameterFit | None  # on the counted rows before fit_until
    reference: obs.ParameterFit | None  # on every counted row: the profile's reference
    profiles: list[obs.Profile]
    runs: int  # model runs made
    predictions: list[Prediction]  # the evaluated model after the METR cutoff (withheld rows)

    def score(self, part: str | None = None) -> obs.Score:
        return obs.score([r for r in self.rows if part is None or r.part == part])

    @property
    def observations_passed(self) -> bool:
        return self.score().passed

    @property
    def checks_passed(self) -> bool:
        return all_passed(self.checks)

    @property
    def passed(self) -> bool:
        return self.observations_passed and self.checks_passed

    def failures(self) -> list[str]:
        """What fails, one line each: counted rows and rate checks."""
        out = []
        total = self.score()
        if total.n == 0:
            out.append("no counted observation row between the start and --until")
        elif total.coverage < obs.MIN_COVERAGE:
            out.append(f"coverage {total.inside}/{total.n} = {total.coverage:.0%} is below "
                       f"{obs.MIN_COVERAGE:.0%}")
        for r in obs.failing_rows(self.rows):
            where = ("no model value" if r.z is None
                     else f"model {r.model:.3g} outside {r.low:.3g}..{r.high:.3g}, z {r.z:+.1f}"
                     if not r.inside else f"model {r.model:.3g}, z {r.z:+.1f}")
            out.append(f"{r.date} {r.label} {r.subject}: {where}")
        for c in counted(self.checks):
            if not c.passed:
                value = "not measurable" if c.modelled is None else f"{c.modelled:.3g}"
                out.append(f"{c.name} ({c.cal}): {value} outside {c.low:.3g}..{c.high:.3g} "
                           f"{c.units}")
        return out

    def document(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The backtest.json document."""
        from ixsim import __version__

        rate_rows = counted(self.checks)
        parts = ("fit", "predict") if self.fit_until is not None else ()
        doc = {
            "until": self.until,
            "scenario": self.spec.meta.name,
            "ixsim_version": __version__,
            "checks": [c.as_dict() for c in self.checks],
            "checks_passed": self.checks_passed,
            "passed_count": sum(1 for c in rate_rows if c.passed),
            "total": len(rate_rows),
            "observations": {
                "model": "fitted" if self.fit is not None else "scenario",
                "rule": obs.RULE,
                "min_coverage": obs.MIN_COVERAGE,
                "max_abs_z": obs.MAX_ABS_Z,
                "comparisons": {q: {"column": c.column, "counted": c.counted, "how": c.how,
                                    "tolerance": c.tolerance, "tolerance_reason":
                                    c.tolerance_reason} for q, c in obs.COMPARISONS.items()},
                "rows": [r.as_dict() for r in self.rows],
                "score": self.score().as_dict(),
                "parts": {p: self.score(p).as_dict() for p in parts},
                "scenario_score": obs.score(self.scenario_rows).as_dict(),
                "passed": self.observations_passed,
            },
            "fit": None if self.fit is None else {
                "fit_until": self.fit_until,
                "free": list(FREE_PARAMETERS),
                "why": FREE_WHY,
                "scenario": {p: scenario_value(self.spec, p) for p in FREE_PARAMETERS},
                **self.fit.as_dict(),
            },
            "parameters": {
                "method": PROFILE_METHOD,
                "threshold": obs.LR_95_HALF,
                "reference": None if self.reference is None else self.reference.as_dict(),
                "rows": [p.as_dict() for p in self.profiles],
                "constrained": [p.path for p in self.profiles if p.status == "constrained"],
                "prior": [p.path for p in self.profiles if p.status == "prior"],
            },
            "runs": self.runs,
            "predictions": {
                "what": PREDICTIONS_WHAT,
                "rows": [p.as_dict() for p in self.predictions],
            },
            "failures": self.failures(),
            "passed": self.passed,
        }
        doc.update(extra or {})
        return doc

    def to_json(self, extra: dict[str, Any] | None = None) -> str:
        """Stable JSON text of the document (sorted keys, no NaN)."""
        return json.dumps(self.document(extra), indent=2, sort_keys=True, allow_nan=False) + "\n"


PREDICTIONS_WHAT = (
    "the evaluated model's frontier 50% horizon (minutes) and largest finished training run "
    "(FLOP) on the first day of each quarter after the METR data cutoff: METR horizons and "
    "frontier training compute after April 2025 are withheld from data/observations.csv, so "
    "these are predictions made before seeing them")


def run_backtest(spec: Scenario, until: float, *, fit_until: float | None = None,
                 fit_until_label: str = "--fit-until", seed: int = 0,
                 measured_path: Path | None = MEASURED_PATH, profile: bool = True) -> Backtest:
    """Run ``spec`` from its start to ``until``: the rate checks, the observation rows, the best
    fit of the free parameters on every counted row and, with ``profile``, the constrained/prior
    listing. With ``fit_until`` (decimal year) the free parameters are fitted on the counted rows
    dated before it and the fitted model is reported (its later rows are predictions); raises
    FitWindowError (naming ``fit_until_label``) when there is nothing to fit or to predict."""
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import ScenarioError, with_overrides
    from ixsim.sim.sources import observations

    start = spec.meta.start_year
    result = simulate(with_end_year(spec, until), seed=seed)
    targets = obs.targets(observations(), start, until)
    mask = obs.start_input_mask(result, targets)
    scenario_rows = obs.compare(result, targets, mask)
    if fit_until is not None:
        check_fit_until(scenario_rows, fit_until, start, fit_until_label)
    counted_targets = [t for t, r in zip(targets, scenario_rows) if r.counted]
    free = free_parameters(spec)
    runs = 1

    reference, profiles = None, []
    if len(counted_targets) >= len(free):
        every = Evaluator(spec, max(t.year for t in counted_targets), seed)
        reference = obs.fit(every, counted_targets, free)
        if profile:
            profiles = obs.profile(every, counted_targets, free, candidates(spec), reference,
                                   refused=(ScenarioError,))
        runs += every.runs

    fitted, rows, model_spec, model_result = None, scenario_rows, spec, result
    if fit_until is not None:
        early = [t for t in counted_targets if t.year < fit_until]
        evaluate = Evaluator(spec, max(t.year for t in early), seed)
        fitted = obs.fit(evaluate, early, free)
        model_spec = with_overrides(spec, fitted.values, "fit")
        model_result = simulate(with_end_year(model_spec, until), seed=seed)
        rows = obs.compare(model_result, targets, mask, fit_until)
        runs += evaluate.runs + 1
    checks = checks_from_result(model_spec, model_result, min(until, data_cutoff_year()),
                                measured_path)
    return Backtest(spec, until, fit_until, checks, rows, scenario_rows, fitted, reference,
                    profiles, runs, predictions(model_result, until))
