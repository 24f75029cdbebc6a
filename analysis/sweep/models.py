"""The models a sweep can run (``[sweep] model = "..."``), by name: the parameters each takes and
a function of one run's parameter values and seed that returns its summary (a dict of numbers:
the metric columns) and its world series (or None: no series).

    ixsim      (the default) the simulation of the spec's base scenario with the run's values
               applied: ``simulate(with_overrides(scenario, values), seed).summary()``; it takes
               any number of the scenario schema
    ishigami   Ishigami and Homma's test function of x1, x2, x3 (a = 7, b = 0.1), summary
               ``{"y": ...}``; with x uniform on [-pi, pi] its Sobol indices are known in closed
               form (``ishigami_indices``): the check that the sampler, the executor, the store
               and the analysis agree (tests/sweep/ishigami.toml). It runs in microseconds, so a
               large sweep of it measures the engine alone (benchmarks/sweep_memory.py).

The model is imported only inside ``run`` (a worker imports it with its first run).
References: Ishigami and Homma (1990) doi:10.1109/ISUMA.1990.151285; the indices as in
Saltelli et al. (2008), Global Sensitivity Analysis: The Primer, section 4.8 (Wiley).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SweepModel", "MODELS", "DEFAULT_MODEL", "get_model", "ishigami", "ishigami_indices"]

DEFAULT_MODEL = "ixsim"
ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1

# (base scenario or None, parameter values by name, seed) -> (summary, world series or None)
RunFunction = Callable[[Any, dict[str, Any], int], tuple[dict[str, Any], Mapping[str, Any] | None]]


@dataclass(frozen=True)
class SweepModel:
    """A model a sweep can run. ``parameters``: the names it takes, or None for the base
    scenario's numbers (then the spec needs a ``base`` and may keep world series)."""

    name: str
    parameters: tuple[str, ...] | None
    run: RunFunction

    @property
    def uses_scenario(self) -> bool:
        return self.parameters is None


def _run_ixsim(scenario: Any, values: dict[str, Any], seed: int
               ) -> tuple[dict[str, Any], Mapping[str, Any]]:
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import with_overrides

    spec = with_overrides(scenario, values, "sweep run")
    result = simulate(spec, seed=seed)
    return result.summary(), result.world


def ishigami(x1: float, x2: float, x3: float, a: float = ISHIGAMI_A,
             b: float = ISHIGAMI_B) -> float:
    """sin(x1) + a sin(x2)^2 + b x3^4 sin(x1)."""
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3 ** 4 * math.sin(x1)


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B
                     ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(S1, ST) of x1, x2, x3 for x uniform on [-pi, pi]: V1 = (1 + b pi^4 / 5)^2 / 2,
    V2 = a^2 / 8, V13 = 8 b^2 pi^8 / 225 (the only interaction)."""
    v1 = 0.5 * (1.0 + b * math.pi ** 4 / 5.0) ** 2
    v2 = a ** 2 / 8.0
    v13 = 8.0 * b ** 2 * math.pi ** 8 / 225.0
    total = v1 + v2 + v13
    return (v1 / total, v2 / total, 0.0), ((v1 + v13) / total, v2 / total, v13 / total)


def _run_ishigami(_: Any, values: dict[str, Any], seed: int) -> tuple[dict[str, Any], None]:
    return {"y": ishigami(values["x1"], values["x2"], values["x3"])}, None


MODELS: dict[str, SweepModel] = {
    "ixsim": SweepModel("ixsim", None, _run_ixsim),
    "ishigami": SweepModel("ishigami", ("x1", "x2", "x3"), _run_ishigami),
}


def get_model(name: str) -> SweepModel:
    """The model called ``name``; KeyError when there is none (the spec refuses it first)."""
    return MODELS[name]
