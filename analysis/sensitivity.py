"""What a sweep says: distributions of the outcomes per lever set, P(successor training by each
year), Sobol or Morris sensitivity indices (SALib) and PRIM boxes (EMA Workbench). Pure
functions of the runs table (pandas, one row per run, as ``ixsim.analysis.query.load_runs``
returns it) and the store's manifest; ``analyze`` assembles analysis.json's document.

Censoring. A date metric (a name ending ``_year`` that is not a rate ``_per_year``) that is
missing means "not reached by the run's end": it counts as +inf, later than any reached date,
never dropped. A quantile that lands on a censored run is reported as the string ``"> END"``
(END the earliest end year among the censored runs: a lower bound), and so is the mean when any
run is censored (the mean with censored runs at their end year, again a lower bound). Other
metrics that are missing are undefined for that run (``lead_at_successor_months`` without a
successor, ``takeoff_years`` without 100% automation) and are left out; ``n`` says how many
runs count. Failed runs (status other than "ok") are left out everywhere and counted.

References: Saltelli et al. (2010) doi:10.1016/j.cpc.2009.09.018 (Sobol indices, SALib);
Campolongo, Cariboni and Saltelli (2007) doi:10.1016/j.envsoft.2006.10.004 (Morris mu*);
Friedman and Fisher (1999) doi:10.1023/A:1008894516817 and Bryant and Lempert (2010)
doi:10.1016/j.techfore.2009.08.002 (PRIM for scenario discovery); Wilson (1927)
doi:10.1080/01621459.1927.10502953 (score interval).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

Z95 = 1.959964  # two-sided 95% normal quantile
QUANTILES = (0.1, 0.5, 0.9)
SALIB_SEED = 1  # bootstrap seed for SALib's intervals (sobol.analyze ignores a seed of 0)
BOOTSTRAP_RESAMPLES = 100  # SALib's default number of resamples for its intervals
PRIM_THRESHOLD = 0.8  # least density of a reported box (EMA Workbench 2.x's default threshold)
PRIM_MASS_MIN = 0.05  # least share of the runs in a box (EMA Workbench's default)
PRIM_MAX_BOXES = 3

SUCCESSOR = "successor_training_year"
# The headline metrics analysed by default, in the order shown (those the store has).
HEADLINE_METRICS = (
    SUCCESSOR, "rnd_automation_20_year", "rnd_automation_50_year", "rnd_automation_100_year",
    "takeoff_years", "peak_effective_compute_growth_oom_per_year", "max_leader_lead_oom",
    "lead_at_successor_months", "major_incident_before_successor", "incidents_per_year",
    "first_pause_year", "treaty_year",
)
# Run columns that are bookkeeping, not outcomes.
RUN_COLUMNS = ("run_id", "sample_id", "lever_set", "seed_index", "seed", "status", "error",
               "censored_at", "start_year", "end_year")


class AnalysisError(Exception):
    """An analysis that cannot be done on this store (a metric it lacks, a broken design)."""


# --- the runs table ------------------------------------------------------------------------

def is_date(metric: str) -> bool:
    """Whether ``metric`` is a decimal-year date (missing = censored at the run's end)."""
    return metric.endswith("_year") and not metric.endswith("_per_year")


def inputs(manifest: dict[str, Any]) -> list[str]:
    """The uncertain parameters' dotted names, in the manifest's (and SALib problem's) order."""
    return list(manifest.get("parameters") or [])


def lever_names(manifest: dict[str, Any]) -> list[str]:
    return list((manifest.get("levers") or {}).keys())


def metric_columns(runs: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """Every outcome column of the runs: numeric or boolean, not an input, a lever, a unit-cube
    coordinate or bookkeeping."""
    skip = set(RUN_COLUMNS) | set(inputs(manifest)) | set(lever_names(manifest))
    out = []
    for name in runs.columns:
        if name in skip or name.startswith("u:"):
            continue
        column = runs[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            out.append(name)
        elif column.dtype == object and column.dropna().map(
                lambda v: isinstance(v, (bool, np.bool_))).all() and column.notna().any():
            out.append(name)  # a boolean with nulls
    return out


def default_metrics(runs: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The headline metrics the store has; every outcome column if it has none of them."""
    available = metric_columns(runs, manifest)
    headline = [m for m in HEADLINE_METRICS if m in available]
    return headline or available


def check_metrics(runs: pd.DataFrame, manifest: dict[str, Any], metrics: Sequence[str]) -> None:
    """AnalysisError naming the first metric that is not an outcome column of the runs."""
    available = metric_columns(runs, manifest)
    for m in metrics:
        if m not in available:
            raise AnalysisError(f"no outcome column {m!r} in the runs (outcomes: "
                                f"{', '.join(available) or 'none'})")


def _ok(runs: pd.DataFrame) -> pd.DataFrame:
    if "status" not in runs.columns:
        return runs
    return runs[runs["status"] == "ok"]


def _values(runs: pd.DataFrame, metric: str) -> np.ndarray:
    """A metric as floats, missing as NaN (booleans as 0/1)."""
    return pd.to_numeric(runs[metric], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def end_years(runs: pd.DataFrame, manifest: dict[str, Any]) -> np.ndarray:
    """Each run's end year (decimal): the ``end_year`` column where the store has it, else
    ``censored_at`` (set on runs without successor training), else the latest ``censored_at``
    among these runs; NaN when they record no end at all."""
    n = len(runs)
    if "end_year" in runs.columns:
        return _values(runs, "end_year")
    if "censored_at" in runs.columns:
        censored_at = _values(runs, "censored_at")
        known = censored_at[np.isfinite(censored_at)]
        fill = known.max() if known.size else np.nan
        return np.where(np.isfinite(censored_at), censored_at, fill)
    return np.full(n, np.nan)


def lever_set_groups(runs: pd.DataFrame, manifest: dict[str, Any]
                     ) -> list[tuple[Any, dict[str, Any], pd.DataFrame]]:
    """(lever_set id, its lever values, its runs) for each lever set, in id order."""
    if "lever_set" not in runs.columns:
        return [(0, {}, runs)]
    sets = manifest.get("lever_sets") or []
    out = []
    for key, group in runs.groupby("lever_set", sort=True):
        levers = {}
        if isinstance(key, (int, np.integer)) and 0 <= int(key) < len(sets):
            levers = dict(sets[int(key)])
        out.append((_plain(key), levers, group))
    return out


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON writes."""
    return value.item() if isinstance(value, np.generic) else value


def later_than(bound: float) -> str:
    """How a statistic beyond the runs' end is reported: ``"> 2045"`` (``"> END"`` when the
    store records no end year)."""
    return "> END" if math.isnan(bound) else f"> {bound:.6g}"


# --- distributions ---------------------------------------------------------------------------

def metric_summary(values: np.ndarray, ends: np.ndarray, *, censored: bool) -> dict[str, Any]:
    """n, q10/q50/q90 (no interpolation: the value at the quantile's rank) and the mean of one
    metric over the runs of a lever set. ``censored``: missing values are dates not reached by
    the run's end (+inf); otherwise missing values are left out."""
    values = np.asarray(values, dtype=float)
    missing = ~np.isfinite(values)
    out: dict[str, Any] = {"n": int(values.size if censored else (~missing).sum())}
    if censored:
        out["censored"] = int(missing.sum())
        data = np.where(missing, np.inf, values)
    else:
        data = values[~missing]
    if data.size == 0:
        return {**out, **{f"q{round(q * 100)}": None for q in QUANTILES}, "mean": None}
    censored_ends = ends[missing & np.isfinite(ends)] if censored else ends[:0]
    bound = float(censored_ends.min()) if censored_ends.size else math.nan
    for q in QUANTILES:
        value = float(np.quantile(data, q, method="inverted_cdf"))
        out[f"q{round(q * 100)}"] = later_than(bound) if math.isinf(value) else value
    if censored and missing.any():
        at_end = np.where(missing, ends, values)
        out["mean"] = later_than(float(np.mean(at_end))) if np.isfinite(at_end).all() else None
    else:
        out["mean"] = float(np.mean(data))
    return out


def distributions(runs: pd.DataFrame, manifest: dict[str, Any],
                  metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Per lever set: {"lever_set", "levers", "n_ok", "n_failed", "metrics": {name: summary}}
    (``metric_summary`` of each metric over the lever set's successful runs)."""
    out = []
    for key, levers, group in lever_set_groups(runs, manifest):
        ok = _ok(group)
        ends = end_years(ok, manifest)
        out.append({
            "lever_set": key, "levers": levers, "n_ok": len(ok), "n_failed": len(group) - len(ok),
            "metrics": {m: metric_summary(_values(ok, m), ends, censored=is_date(m))
                        for m in metrics},
        })
    return out


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion (hits of n); (nan, nan) for n = 0."""
    if n <= 0:
        return math.nan, math.nan
    p = hits / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == n else min(1.0, centre + half)  # exact at the ends (no rounding)
    return low, high


def p_by_year(dates: np.ndarray, ends: np.ndarray, years: Sequence[int] | None = None
              ) -> list[dict[str, Any]]:
    """P(the date falls by the end of each year, i.e. before ``year + 1``) with Wilson 95%
    intervals; a missing date (censored) is never by then. Default years: from the first reached
    date's year to the last year that ends by every run's end (later years are not observed)."""
    dates = np.asarray(dates, dtype=float)
    reached = np.where(np.isfinite(dates), dates, np.inf)
    if years is None:
        finite = reached[np.isfinite(reached)]
        last_end = float(np.nanmin(ends)) if np.isfinite(ends).any() else (
            float(finite.max()) + 1.0 if finite.size else math.nan)
        if not finite.size or math.isnan(last_end):
            years = []
        else:
            years = range(math.floor(finite.min()), math.floor(last_end))
    n = int(dates.size)
    out = []
    for year in years:
        hits = int((reached < year + 1.0).sum())
        low, high = wilson_interval(hits, n)
        out.append({"year": int(year), "p": hits / n if n else None, "low": low, "high": high,
                    "hits": hits, "n": n})
    return out


def successor_by_year(runs: pd.DataFrame, manifest: dict[str, Any],
                      years: Sequence[int] | None = None) -> list[dict[str, Any]] | None:
    """Per lever set: {"lever_set", "levers", "years": p_by_year rows} for successor training
    over the lever set's successful runs, the same years for each (by default those
    ``p_by_year`` picks for the whole store); None if the store has no successor column."""
    if SUCCESSOR not in runs.columns:
        return None
    if years is None:  # the same years for every lever set
        ok = _ok(runs)
        years = [row["year"] for row in p_by_year(_values(ok, SUCCESSOR), end_years(ok, manifest))]
    out = []
    for key, levers, group in lever_set_groups(runs, manifest):
        ok = _ok(group)
        out.append({"lever_set": key, "levers": levers,
                    "years": p_by_year(_values(ok, SUCCESSOR), end_years(ok, manifest), years)})
    return out


# --- sensitivity (SALib) ----------------------------------------------------------------------

def _problem(manifest: dict[str, Any]) -> dict[str, Any]:
    """The unit-cube problem SALib sampled, named by the uncertain parameters."""
    names = inputs(manifest)
    problem = dict(manifest.get("problem") or {})
    if not names or problem.get("num_vars") != len(names):
        raise AnalysisError("the manifest's problem and parameters disagree "
                            f"({problem.get('num_vars')} variables, {len(names)} parameters)")
    return {"num_vars": len(names), "names": names, "bounds": problem["bounds"]}


def sample_means(runs: pd.DataFrame, manifest: dict[str, Any], metric: str
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """(sample ids, metric averaged over each sample's successful seeds, censored runs) in
    sample_id order. A censored date counts as its run's end year (a lower bound); an undefined
    value is left out of its sample's mean. AnalysisError if a sample has no value."""
    ids = np.sort(runs["sample_id"].unique())
    ok = _ok(runs)
    values = _values(ok, metric)
    censored = 0
    if is_date(metric):
        missing = ~np.isfinite(values)
        censored = int(missing.sum())
        values = np.where(missing, end_years(ok, manifest), values)
    means = pd.Series(values, index=ok["sample_id"].to_numpy()).groupby(level=0).mean()
    means = means.reindex(ids)
    lacking = int(means.isna().sum())
    if lacking:
        raise AnalysisError(f"{lacking} of {len(ids)} samples have no value (failed runs, or "
                            "undefined for them)")
    return ids, means.to_numpy(dtype=float), censored


def sobol_indices(runs: pd.DataFrame, manifest: dict[str, Any], metric: str, *,
                  seed: int = SALIB_SEED) -> dict[str, Any]:
    """First-order and total Sobol indices of one metric (SALib ``sobol.analyze``,
    calc_second_order=False, 95% bootstrap intervals) over one lever set's runs. The runs must
    hold the sampler's whole Saltelli design, N * (k + 2) samples in sample_id order; seeds of
    one sample are averaged first."""
    from SALib.analyze import sobol

    problem = _problem(manifest)
    _, y, censored = sample_means(runs, manifest, metric)
    k = problem["num_vars"]
    if y.size % (k + 2):
        raise AnalysisError(f"{y.size} samples is not a Saltelli design for {k} parameters "
                            f"(a multiple of {k + 2})")
    if np.ptp(y) == 0:
        raise AnalysisError("the same value in every sample: no variance to attribute")
    with np.errstate(all="ignore"):
        result = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                               num_resamples=BOOTSTRAP_RESAMPLES, seed=seed)
    return {"samples": int(y.size), "censored_runs": censored, "parameters": [
        {"name": name, "S1": float(result["S1"][i]), "S1_conf": float(result["S1_conf"][i]),
         "ST": float(result["ST"][i]), "ST_conf": float(result["ST_conf"][i])}
        for i, name in enumerate(problem["names"])]}


def morris_levels(x: np.ndarray) -> int:
    """The number of grid levels p of a Morris design, from its step delta = p / (2 (p - 1))
    (every move of a trajectory changes one coordinate by +-delta)."""
    steps = np.abs(np.diff(x, axis=0))
    delta = float(np.median(steps[steps > 1e-12]))
    if not 0.5 < delta <= 1.0:
        raise AnalysisError(f"not a Morris design (step {delta:.3g})")
    return int(round(2 * delta / (2 * delta - 1))) if delta < 1.0 else 2


def morris_indices(runs: pd.DataFrame, manifest: dict[str, Any], metric: str, *,
                   seed: int = SALIB_SEED) -> dict[str, Any]:
    """Morris screening of one metric (SALib ``morris.analyze`` on the unit-cube coordinates):
    mu, mu*, sigma, with 95% bootstrap half-widths for mu* (SALib's) and for sigma (the same
    bootstrap, over trajectories). Seeds of one sample are averaged first."""
    from SALib.analyze import morris

    problem = _problem(manifest)
    ids, y, censored = sample_means(runs, manifest, metric)
    k = problem["num_vars"]
    if y.size % (k + 1):
        raise AnalysisError(f"{y.size} samples is not a whole number of Morris trajectories of "
                            f"{k + 1} points")
    first = runs.drop_duplicates("sample_id").set_index("sample_id").loc[ids]
    x = first[[f"u:{name}" for name in problem["names"]]].to_numpy(dtype=float)
    levels = morris_levels(x)

    def analyze(xs: np.ndarray, ys: np.ndarray, resamples: int) -> dict[str, Any]:
        with np.errstate(all="ignore"):
            return morris.analyze(problem, xs, ys, num_resamples=resamples, conf_level=0.95,
                                  num_levels=levels, seed=seed)

    result = analyze(x, y, BOOTSTRAP_RESAMPLES)
    trajectories = y.size // (k + 1)
    rng = np.random.default_rng(seed)
    sigmas = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        pick = rng.integers(trajectories, size=trajectories)
        rows = (pick[:, None] * (k + 1) + np.arange(k + 1)).ravel()
        sigmas.append(analyze(x[rows], y[rows], 2)["sigma"])
    sigma_conf = Z95 * np.std(np.asarray(sigmas, dtype=float), axis=0, ddof=1)
    return {"samples": int(y.size), "trajectories": trajectories, "levels": levels,
            "censored_runs": censored, "parameters": [
                {"name": name, "mu": float(result["mu"][i]), "mu_star": float(result["mu_star"][i]),
                 "mu_star_conf": float(result["mu_star_conf"][i]),
                 "sigma": float(result["sigma"][i]), "sigma_conf": float(sigma_conf[i])}
                for i, name in enumerate(problem["names"])]}


SENSITIVITY = {"sobol": sobol_indices, "morris": morris_indices}
_COMMON_NOTE = ("over the unit cube SALib sampled (the manifest's problem), the runs in sample_id "
                "order; each sample's successful seeds averaged first; a censored date counts as "
                "its run's end year (a lower bound; censored_runs says how many)")
SENSITIVITY_NOTES = {
    "sobol": "SALib sobol.analyze, calc_second_order=False: first-order S1 and total ST indices, "
             "*_conf the half-width of a 95% bootstrap interval; " + _COMMON_NOTE,
    "morris": "SALib morris.analyze: mu, mu* (mean absolute elementary effect, per unit of the "
              "unit cube) and sigma, *_conf the half-width of a 95% bootstrap interval (sigma's "
              "by resampling trajectories); " + _COMMON_NOTE,
}


def sensitivity(runs: pd.DataFrame, manifest: dict[str, Any], metrics: Sequence[str], *,
                seed: int = SALIB_SEED) -> dict[str, Any] | None:
    """Per lever set and metric, the indices of the store's sampler (Sobol or Morris); a metric
    that cannot be analysed gets {"error": why}. None for other samplers."""
    method = manifest.get("sampler")
    if method not in SENSITIVITY:
        return None
    analyze_one = SENSITIVITY[method]
    by_set = []
    for key, levers, group in lever_set_groups(runs, manifest):
        outputs: dict[str, Any] = {}
        for m in metrics:
            try:
                outputs[m] = analyze_one(group, manifest, m, seed=seed)
            except (AnalysisError, ValueError, RuntimeError, ZeroDivisionError) as exc:
                outputs[m] = {"error": str(exc)}
        by_set.append({"lever_set": key, "levers": levers, "outputs": outputs})
    return {"method": method, "note": SENSITIVITY_NOTES[method],
            "seeds_per_sample": manifest.get("seeds_per_sample", 1), "by_lever_set": by_set}


# --- scenario discovery (PRIM) ----------------------------------------------------------------

def prim_inputs(runs: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """PRIM's inputs: the uncertain parameters' values, and the levers that vary."""
    varying = [name for name in lever_names(manifest)
               if name in runs.columns and runs[name].nunique(dropna=False) > 1]
    return [name for name in inputs(manifest) if name in runs.columns] + varying


def prim_boxes(runs: pd.DataFrame, manifest: dict[str, Any], hit: np.ndarray, *,
               threshold: float = PRIM_THRESHOLD, mass_min: float = PRIM_MASS_MIN,
               max_boxes: int = PRIM_MAX_BOXES) -> dict[str, Any]:
    """Scenario discovery: boxes in the inputs (``prim_inputs``) where ``hit`` (a boolean per
    run) is dense. PRIM (EMA Workbench) peels and pastes; from each box's peeling trajectory we
    choose, among the boxes with density >= ``threshold``, the one with the largest coverage x
    density; a later box is sought in the runs outside the earlier ones, until none reaches
    the threshold or ``max_boxes`` are found. Failed runs are left out."""
    keep = (runs["status"] == "ok").to_numpy() if "status" in runs.columns else np.ones(
        len(runs), bool)
    names = prim_inputs(runs, manifest)
    x = runs.loc[keep, names].reset_index(drop=True)
    y = np.asarray(hit, dtype=bool)[keep]
    out: dict[str, Any] = {
        "inputs": names, "threshold": threshold, "mass_min": mass_min,
        "selection": "largest coverage x density among the peeling trajectory's boxes with "
                     "density >= threshold",
        "n": int(y.size), "cases_of_interest": int(y.sum()), "boxes": []}
    if not names:
        out["note"] = "no uncertain parameters to search"
        return out
    if y.sum() == 0 or y.all():
        out["note"] = ("no run meets the condition" if y.sum() == 0 else
                       "every run meets the condition")
        return out
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas FutureWarnings from inside EMA Workbench
        finder = prim.Prim(x, y.astype(int), mass_min=mass_min)
        for _ in range(max_boxes):
            box = finder.find_box()
            if box is None:
                break
            chosen = _choose(box.peeling_trajectory, threshold)
            if chosen is None:
                break
            box.select(chosen)
            out["boxes"].append(_describe(box, chosen, finder.box_init))
    if not out["boxes"]:
        out["note"] = f"no box reaches density {threshold:g}"
    return out


def _prim_module():
    """ema_workbench.analysis.prim, imported quietly (its optional-dependency warnings).
    Written against ema-workbench 3.0.0 (pinned in pyproject.toml): ``Prim(x, y, mass_min=)``
    without the 2.x ``threshold`` argument, ``find_box()`` returning a PrimBox whose
    ``peeling_trajectory`` (coverage, density, mass, n, k), ``box_lims``, ``p_values`` and
    ``select(i)`` are used here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def _choose(trajectory: pd.DataFrame, threshold: float) -> int | None:
    """The trajectory row with the largest coverage x density among those dense enough."""
    dense = trajectory[trajectory["density"] >= threshold]
    if dense.empty:
        return None
    score = dense["coverage"] * dense["density"]
    return int(score.idxmax())


def _describe(box, i: int, box_init: pd.DataFrame) -> dict[str, Any]:
    row = box.peeling_trajectory.iloc[i]
    limits = box.box_lims[i]
    p_values = box.p_values[i]
    restricted = []
    for name in limits.columns:
        low, high = limits[name].iloc[0], limits[name].iloc[1]
        init_low, init_high = box_init[name].iloc[0], box_init[name].iloc[1]
        if isinstance(low, (set, frozenset)):  # a categorical input (a lever)
            if set(low) == set(init_low):
                continue
            restricted.append({"name": name, "values": sorted(map(_plain, low), key=str)})
            continue
        if low == init_low and high == init_high:
            continue
        qp = p_values.get(name, [None, None])
        restricted.append({
            "name": name,
            "min": float(low) if low != init_low else None,
            "max": float(high) if high != init_high else None,
            "qp_min": float(qp[0]) if qp[0] is not None and qp[0] >= 0 else None,
            "qp_max": float(qp[1]) if qp[1] is not None and qp[1] >= 0 else None,
        })
    return {"trajectory_index": i, "coverage": float(row["coverage"]),
            "density": float(row["density"]), "mass": float(row["mass"]), "n": int(row["n"]),
            "cases_of_interest": int(row["k"]), "limits": restricted}


# --- the document -------------------------------------------------------------------------

def analyze(runs: pd.DataFrame, manifest: dict[str, Any], *, metrics: Sequence[str] | None = None,
            condition: str | None = None, hit: np.ndarray | None = None,
            threshold: float = PRIM_THRESHOLD, seed: int = SALIB_SEED) -> dict[str, Any]:
    """analysis.json's document: the store's identity, the distributions, P(successor training
    by year), the sensitivity indices and (with a condition and its ``hit`` per run) PRIM."""
    metrics = list(metrics) if metrics else default_metrics(runs, manifest)
    check_metrics(runs, manifest, metrics)
    ok = _ok(runs)
    ends = end_years(ok, manifest)
    document = {
        "store": {key: manifest.get(key) for key in (
            "base_scenario", "sampler", "spec_hash", "samples", "seeds_per_sample", "n_runs",
            "git_commit")},
        "runs": {"total": len(runs), "ok": len(ok), "failed": len(runs) - len(ok)},
        "parameters": inputs(manifest),
        "metrics": metrics,
        "end_year": float(np.nanmin(ends)) if np.isfinite(ends).any() else None,
        "distributions": {
            "method": "quantiles without interpolation over the successful runs; a missing date "
                      "is later than the run's end (+inf), reported as '> END' (a lower bound); "
                      "missing non-date values are left out",
            "by_lever_set": distributions(runs, manifest, metrics)},
        "successor_by_year": None,
        "sensitivity": sensitivity(runs, manifest, metrics, seed=seed),
        "prim": None,
    }
    by_year = successor_by_year(runs, manifest)
    if by_year is not None:
        document["successor_by_year"] = {
            "metric": SUCCESSOR,
            "meaning": "P(successor training before the end of each year); censored runs are "
                       "never by then; seeds count as separate runs",
            "interval": "Wilson score, 95%",
            "by_lever_set": by_year}
    if condition is not None and hit is not None:
        document["prim"] = {"condition": condition, "censored": "a comparison with a missing "
                            "value is false", **prim_boxes(runs, manifest, hit,
                                                           threshold=threshold)}
    return _finite(document)


def _finite(value: Any) -> Any:
    """The document with NaN as None and numpy scalars as Python values (strict JSON)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
