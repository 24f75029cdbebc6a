"""An in-process ensemble: one scenario run over draws of the uncertainty catalogue, keeping the
monthly series of every draw (for fan charts and early-warning lead times) and each draw's fit
to the 2023-25 observations. The forecast (``forecast_run``) keeps only summary rows and runs on
Dask; this is the small, interactive version (100-200 draws) the dashboards and the report use.

Draws and run seeds come from ``forecast_run.draw``, so an ensemble of the same (draws, seed)
sees the same points as the forecast, and the result is a pure function of (scenario, draws,
seed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ixsim.analysis import forecast as fc
from ixsim.analysis.forecast_run import applicable_to, draw
from ixsim.sim.events import EventKind

if TYPE_CHECKING:
    from ixsim.sim.scenario import Scenario

# world series kept for every draw (names of ``ixsim.sim.results.WORLD_COLUMNS``)
SERIES = ("frontier_effective_flop", "frontier_training_flop", "frontier_horizon_minutes",
          "rnd_automation", "rnd_progress_multiplier", "leader_safety_share", "incidents",
          "max_policy_level", "spend_usd_per_year", "revenue_usd_per_year")
QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Ensemble:
    """Draws of one scenario. ``series[name]`` is (draws x steps), a row of NaN for a failed
    draw; ``summaries[i]`` is the draw's summary (None if it failed, with ``errors[i]`` saying
    why); ``loglik``/``max_abs_z`` its fit to the observations (NaN if failed);
    ``first_major_incident`` the year of the first major incident (NaN if none)."""

    scenario: str
    names: list[str]
    values: np.ndarray
    seeds: list[int]
    times: np.ndarray
    series: dict[str, np.ndarray]
    summaries: list[dict[str, Any] | None]
    errors: list[str]
    loglik: np.ndarray
    max_abs_z: np.ndarray
    first_major_incident: np.ndarray
    end_year: float
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.seeds)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the draws that ran."""
        return np.array([s is not None for s in self.summaries], dtype=bool)

    def weights(self, weighted: bool = True) -> np.ndarray:
        """Normalised draw weights: the history-matching weights of the forecast when
        ``weighted`` (draws that contradict 2023-25 data count less or not at all), else equal
        weights over the draws that ran."""
        if weighted:
            return fc.history_weights(self.loglik, self.max_abs_z)
        w = self.ok.astype(float)
        return w / w.sum() if w.sum() else w

    def headline(self, key: str) -> np.ndarray:
        """A summary metric per draw as floats; NaN where the draw failed or the metric is None
        (a date not reached by the end year is NaN: censored, read it as 'later')."""
        out = np.full(self.size, math.nan)
        for i, s in enumerate(self.summaries):
            if s is not None and s.get(key) is not None:
                out[i] = float(s[key])
        return out

    def bands(self, name: str, quantiles: Sequence[float] = QUANTILES,
              weighted: bool = True) -> np.ndarray:
        """Weighted quantiles of series ``name`` at each step: (len(quantiles) x steps); NaN
        where no draw has weight."""
        values, w = self.series[name], self.weights(weighted)
        out = np.full((len(quantiles), values.shape[1]), math.nan)
        keep = w > 0
        if not keep.any():
            return out
        values, w = values[keep], w[keep]
        order = np.argsort(values, axis=0, kind="stable")
        sorted_v = np.take_along_axis(values, order, axis=0)
        cum = np.cumsum(w[order], axis=0)
        cum /= cum[-1]
        for j, q in enumerate(quantiles):
            idx = (cum < q).sum(axis=0).clip(0, values.shape[0] - 1)
            out[j] = sorted_v[idx, np.arange(values.shape[1])]
        return out


def _first_major_incident(result) -> float:
    kinds, times = result.events["kind"], result.events["time"]
    for kind, t in zip(kinds, times):
        if kind == EventKind.INCIDENT_MAJOR:
            return float(t)
    return math.nan


def run_ensemble(scenario: Scenario, draws: int, seed: int = 0, *,
                 progress: Callable[[int, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> Ensemble:
    """Run ``scenario`` once per prior draw, serially in this process (~20-40 ms a draw).
    ``progress(done, total)`` is called after each draw; if ``should_stop()`` turns true the
    ensemble ends early with the draws done so far (a page that is left or re-rendered)."""
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import with_overrides

    points = draw(draws, seed)
    names = applicable_to(scenario, points.names)
    columns = [points.names.index(n) for n in names]
    values = points.values[:, columns]
    times: np.ndarray | None = None
    rows: dict[str, list[np.ndarray | None]] = {name: [] for name in SERIES}
    summaries: list[dict[str, Any] | None] = []
    errors, loglik, max_z, major = [], [], [], []
    for i in range(draws):
        if should_stop is not None and should_stop():
            values = values[:i]
            break
        try:
            spec = with_overrides(scenario, dict(zip(names, map(float, values[i]))),
                                  "ensemble draw")
            result = simulate(spec, seed=points.seeds[i])
            if times is None:
                times = np.asarray(result.world["time"], dtype=float)
            for name in SERIES:
                rows[name].append(np.asarray(result.world[name], dtype=float))
            summaries.append(result.summary())
            ll, z = fc.observation_fit(result)
            errors.append("")
            major.append(_first_major_incident(result))
        except Exception as exc:  # a failed draw is kept as a row with its error
            for name in SERIES:
                rows[name].append(None)
            summaries.append(None)
            ll, z = math.nan, math.nan
            errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            major.append(math.nan)
        loglik.append(ll)
        max_z.append(z)
        if progress is not None:
            progress(i + 1, draws)
    n_steps = 0 if times is None else len(times)
    series = {name: np.vstack([r if r is not None else np.full(n_steps, math.nan)
                               for r in rows[name]]) if rows[name] else np.zeros((0, n_steps))
              for name in SERIES}
    return Ensemble(scenario=scenario.meta.name, names=names, values=values,
                    seeds=points.seeds[:len(summaries)],
                    times=times if times is not None else np.zeros(0), series=series,
                    summaries=summaries, errors=errors, loglik=np.asarray(loglik, dtype=float),
                    max_abs_z=np.asarray(max_z, dtype=float),
                    first_major_incident=np.asarray(major, dtype=float),
                    end_year=float(scenario.meta.end_year))
