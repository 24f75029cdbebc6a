"""The forecast: Monte Carlo over the uncertainty catalogue for one or more scenarios, run on Dask,
weighted by each draw's fit to the 2023-25 observations.

Common random numbers: every scenario gets the same unit-cube points and the same run seeds, so
a difference between scenarios is the scenarios', not noise. Workers receive (scenario path,
overrides, seed) in chunks and return one small row per run, never model objects; rows are put
back in draw order, so the result is the same for any number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ixsim.analysis import forecast as fc

HEADLINES = ("successor_training_year", "rnd_automation_20_year", "rnd_automation_50_year",
             "rnd_automation_100_year", "first_pause_year")
CHUNK = 25  # runs per Dask task: a task costs a few ms, a run ~20 ms


@dataclass(frozen=True)
class Draws:
    """The prior draws shared by every scenario: parameter names, values (n x k), run seeds."""

    names: list[str]
    values: np.ndarray
    seeds: list[int]


def draw(n: int, seed: int) -> Draws:
    """``n`` draws of the catalogue (Gaussian copula) and one run seed per draw, from ``seed``."""
    from ixsim.analysis.priors import load_priors

    priors = load_priors()
    values = priors.sample(n, seed)
    seeds = np.random.SeedSequence(seed).generate_state(n, dtype=np.uint32).tolist()
    return Draws(list(priors.names), values, [int(s) for s in seeds])


@cache
def _base(path: str):
    from ixsim.sim.scenario import load_scenario

    return load_scenario(path)


def applicable(path: str, names: Sequence[str]) -> list[str]:
    """The catalogue parameters the scenario at ``path`` has; checked once on the client."""
    return applicable_to(_base(path), names)


def applicable_to(spec, names: Sequence[str]) -> list[str]:
    """The catalogue parameters this scenario has (a scenario with fewer regulators than the
    baseline has no ``regulators[4].lag_years``)."""
    from ixsim.sim.scenario import ScenarioError, with_overrides

    keep = []
    for name in names:
        try:
            current = spec
            for part in name.replace("]", "").replace("[", ".").split("."):
                current = current[int(part)] if part.isdigit() else getattr(current, part)
            with_overrides(spec, {name: current})
        except (ScenarioError, AttributeError, IndexError, TypeError, KeyError):
            continue
        keep.append(name)
    return keep


def run_chunk(path: str, names: Sequence[str], rows: Sequence[tuple[int, Sequence[float], int]]
              ) -> list[dict[str, Any]]:
    """Run draws of one scenario on a worker: (draw index, values, seed) -> one row each, with
    the headline dates (NaN when not reached), the major-incident flag and the fit to the
    observations. A run that fails is a row with its error, never lost."""
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import with_overrides

    out = []
    for index, values, seed in rows:
        row: dict[str, Any] = {"draw": index, "seed": seed}
        try:
            spec = with_overrides(_base(path), dict(zip(names, map(float, values))),
                                  "forecast draw")
            result = simulate(spec, seed=seed)
            summary = result.summary()
            for key in HEADLINES:
                row[key] = math.nan if summary[key] is None else float(summary[key])
            row["major_incident_before_successor"] = bool(
                summary["major_incident_before_successor"])
            row["end_year"] = float(summary["end_year"])
            row["loglik"], row["max_abs_z"] = fc.observation_fit(result)
            row["error"] = ""
        except Exception as exc:  # recorded, never lost: the forecast counts failed draws
            row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        out.append(row)
    return out


def _client(scheduler: str, workers: int):
    from dask.distributed import Client, LocalCluster

    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
        return Client(cluster), cluster
    return Client(scheduler), None


def run_draws(paths: Sequence[str], draws: Draws, *, scheduler: str = "local", workers: int = 2,
              progress: Callable[[int], None] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every draw for every scenario, on Dask; rows per scenario in draw order."""
    from dask.distributed import as_completed

    client, cluster = _client(scheduler, workers)
    try:
        futures, where = [], {}
        for path in paths:
            names = applicable(path, draws.names)
            columns = [draws.names.index(n) for n in names]
            for start in range(0, len(draws.seeds), CHUNK):
                stop = min(start + CHUNK, len(draws.seeds))
                rows = [(i, draws.values[i, columns].tolist(), draws.seeds[i])
                        for i in range(start, stop)]
                future = client.submit(run_chunk, path, names, rows, pure=False)
                futures.append(future)
                where[future.key] = path
        results: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
        for future in as_completed(futures):
            rows = future.result()
            results[where[future.key]].extend(rows)
            if progress is not None:
                progress(len(rows))
        for rows in results.values():
            rows.sort(key=lambda r: r["draw"])
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def summarise(rows: Sequence[dict[str, Any]], years: Sequence[int]) -> dict[str, Any]:
    """One scenario's forecast: ESS, P(successor training by each year) with Monte Carlo
    intervals (weighted and unweighted), quantiles of each headline, P(major incident before
    successor training). Failed draws weigh nothing and are counted."""
    ok = [r for r in rows if not r["error"]]
    loglik = np.array([r["loglik"] for r in ok], dtype=float)
    max_z = np.array([r["max_abs_z"] for r in ok], dtype=float)
    weights = fc.history_weights(loglik, max_z)
    flat = np.full(len(ok), 1.0 / len(ok)) if ok else np.zeros(0)
    end = max((r["end_year"] for r in ok), default=math.nan)

    def dates(key: str) -> np.ndarray:
        return np.array([r[key] for r in ok], dtype=float)

    def prob(p: fc.Probability) -> dict[str, float]:
        return {"p": p.p, "low": p.low, "high": p.high}

    def quantiles(key: str, w: np.ndarray) -> dict[str, float | str]:
        got = fc.weighted_quantiles(dates(key), w, (0.1, 0.5, 0.9))
        return {f"q{int(q * 100)}": (f"> {end:g}" if math.isinf(v) else v) for q, v in got.items()}

    successor = dates("successor_training_year")
    return {
        "draws": len(rows), "failed": len(rows) - len(ok),
        "errors": sorted({r["error"] for r in rows if r["error"]})[:5],
        "effective_sample_size": fc.effective_sample_size(weights),
        "ruled_out": int(np.sum(weights == 0.0)),
        "end_year": end,
        "p_successor_by_year": {str(y): prob(p) for y, p in
                                fc.p_by_year(successor, weights, years).items()},
        "p_successor_by_year_prior": {str(y): prob(p) for y, p in
                                      fc.p_by_year(successor, flat, years).items()},
        "quantiles": {key: quantiles(key, weights) for key in HEADLINES},
        "p_major_incident_before_successor": prob(fc.weighted_probability(
            np.array([r["major_incident_before_successor"] for r in ok], dtype=float), weights)),
    }
