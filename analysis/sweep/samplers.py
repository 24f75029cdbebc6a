"""Samplers: points of the unit cube [0, 1]^k, each a pure function of its options and seed.

The sweep maps them to parameter values with the distributions' ppf (``Sweep.values``) and keeps
them as the ``u:NAME`` columns: SALib analyses the unit cube (``problem``), whatever the
distributions.

    monte-carlo       numpy's default_rng(seed).random((samples, k))
    latin-hypercube   scipy.stats.qmc.LatinHypercube(d=k, rng=default_rng(seed)), ``samples``
    sobol             SALib.sample.sobol.sample (Saltelli's scheme, calc_second_order=False,
                      scrambled, seed): samples * (k + 2) points, in SALib's order
                      (Saltelli et al. 2010, Comput. Phys. Commun. 181, 259-270)
    morris            SALib.sample.morris.sample (``samples`` trajectories of k + 1 points on
                      ``morris_levels`` levels, seed) (Morris 1991, Technometrics 33, 161-174)
    grid              every combination of ``grid_points`` quantile midpoints per parameter,
                      (i + 0.5) / grid_points, the last parameter varying fastest;
                      grid_points ** k points (``samples`` is not used)
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["unit_design", "design_size", "problem"]


def problem(names: list[str]) -> dict:
    """SALib's problem over the unit cube: num_vars, names, bounds [[0, 1], ...]."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design_size(sampler: str, k: int, *, samples: int, grid_points: int = 5) -> int:
    """How many points ``unit_design`` returns."""
    if sampler == "sobol":
        return samples * (k + 2)
    if sampler == "morris":
        return samples * (k + 1)
    if sampler == "grid":
        return grid_points ** k
    return samples


def unit_design(sampler: str, k: int, *, samples: int, seed: int, grid_points: int = 5,
                morris_levels: int = 4) -> np.ndarray:
    """Points (n, k) of the unit cube for ``sampler`` (see the module docstring); the same
    arguments give the same array."""
    n = design_size(sampler, k, samples=samples, grid_points=grid_points)
    if sampler == "monte-carlo":
        return np.random.default_rng(seed).random((samples, k))
    if sampler == "latin-hypercube":
        if k == 0:
            return np.empty((samples, 0))
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=k, rng=np.random.default_rng(seed)).random(samples)
    if sampler == "grid":
        axis = (np.arange(grid_points) + 0.5) / grid_points
        if k == 0:
            return np.empty((1, 0))
        index = np.indices((grid_points,) * k).reshape(k, n).T  # last parameter fastest
        return axis[index]
    names = [f"x{i}" for i in range(k)]
    if sampler == "sobol":
        from SALib.sample import sobol

        with warnings.catch_warnings():  # the power-of-2 advice: the spec already requires it
            warnings.simplefilter("ignore")
            return sobol.sample(problem(names), samples, calc_second_order=False,
                                scramble=True, seed=seed)
    if sampler == "morris":
        from SALib.sample import morris

        return morris.sample(problem(names), samples, num_levels=morris_levels, seed=seed)
    raise ValueError(f"unknown sampler {sampler!r}")
