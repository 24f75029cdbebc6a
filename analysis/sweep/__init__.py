"""Sweeps: a spec (TOML) of uncertainties, levers, constants and outputs over a base scenario,
sampled (Monte Carlo, Latin hypercube, Sobol/Saltelli, Morris, grid), run on Dask in chunks and
streamed into a Parquet store with a manifest that a resumed sweep must match.

    from ixsim.analysis.sweep import load_sweep, run_sweep

    sweep = load_sweep("forecast", samples=100)    # scenarios/sweeps/forecast.toml
    outcome = run_sweep(sweep, "out/forecast", workers=2)

``spec`` reads and checks specs, ``samplers`` makes unit-cube designs, ``models`` names what a
run runs (the simulation, or the Ishigami test function), ``runs`` orders and seeds the runs and
holds the worker function, ``dataset`` is the store's layout and ``execute`` the Dask executor.
The model is imported only where runs are made.
"""

from ixsim.analysis.sweep.execute import (SweepOutcome, SweepRunError, SweepStoreError, plan_for,
                                          run_sweep)
from ixsim.analysis.sweep.spec import Sweep, SweepError, load_sweep, resolve_sweep, sweep_names

__all__ = ["Sweep", "SweepError", "SweepOutcome", "SweepRunError", "SweepStoreError",
           "load_sweep", "plan_for", "resolve_sweep", "run_sweep", "sweep_names"]
