"""The priors of the horizon mapping, from the backtest's joint fit to the METR rows.

The backtest's free parameters y = FREE (``capability.reference_horizon_minutes`` and the
post-training step's size and place, ``post_training_gain`` and ``post_training_gain_oom``) are
fitted to the dated METR rows 2023-25 (CAL-5c; docs/backtest.md section 2). Their priors in
``data/priors.toml`` are lognormals centred on the baseline's fitted values, and this module
says how wide and how correlated:

1. The likelihood's curvature. With z_i the backtest's residual of counted row i (ln model -
   ln observed, over the row's 95%-interval sigma), the Jacobian J_y = dz/d(ln y) at the
   baseline (central differences) gives the Fisher covariance (J_y^T J_y)^-1.
2. The Birge ratio. The rows scatter a little more than their intervals allow: chi^2 /
   (n - len(FREE)) of the horizon rows at the free best fit scales that covariance (its square
   root scales the sds).
3. What the other priors pass on. Every other prior moves the 2023-25 effective-compute path
   the horizons are read from: J_x = dz/d(normal score) of each prior, a central difference
   between its 16% and 84% quantiles (normal score -1 and +1) with everything else at the
   baseline (the long-run slope ``oom_per_horizon_doubling`` among them). Refitting y to absorb
   such a move shifts it by B = -(J_y^T J_y)^-1 J_y^T J_x per unit normal score (the
   linearised, Gauss-Newton refit).

Together, in normal scores zeta of the other priors (copula correlation C) and logs of y:

    ln y = ln y0 + B zeta + e,   e ~ N(0, birge^2 (J_y^T J_y)^-1)
    cov(ln y) = B C B^T + birge^2 (J_y^T J_y)^-1      (the lognormals' s: sqrt of its diagonal)
    cov(zeta, ln y) = C B^T                            (the copula's rho with each other prior)

``python -m ixsim.analysis.horizon_fit`` prints these numbers and the [[correlation]] entries
for data/priors.toml (those with |rho| >= CORRELATION_FLOOR); tests/test_priors.py checks that
the file agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HorizonPrior", "derive", "FREE", "CORRELATION_FLOOR", "main"]

FREE = ("capability.reference_horizon_minutes", "capability.post_training_gain",
                  "capability.post_training_gain_oom")  # the backtest's FREE_PARAMETERS
# ixsim assumption: a copula rho below 0.1 in size changes a sweep's joint draws by less than
# the Monte Carlo noise of a few hundred runs; such pairs are left independent in the file.
CORRELATION_FLOOR = 0.1
LN_STEP = 0.03  # central-difference step in the ln of each FREE parameter (J_y is linear well
# beyond it)
NORMAL_SCORE = 1.0  # each other prior is moved to its Phi(-1) and Phi(+1) quantiles


@dataclass(frozen=True)
class HorizonPrior:
    centre: dict[str, float]  # the scenario's fitted values (the lognormals' medians)
    n_rows: int  # counted rows in the likelihood
    n_horizon_rows: int  # rows that depend on the FREE parameters: the METR rows
    fisher_sd: tuple[float, ...]  # sd of the ln of each FREE parameter from the intervals alone
    fisher_rho: dict[tuple[str, str], float]  # their correlations from the intervals alone
    chi2: float  # of the horizon rows at the free best fit
    birge: float  # sqrt(chi2 / (n_horizon_rows - len(FREE)))
    free_fit: dict[str, float]
    s: dict[str, float]  # the lognormals' s (sd of ln)
    rho: dict[tuple[str, str], float]  # every nonzero copula correlation with d or h0
    shift: dict[str, tuple[float, ...]]  # B: d ln (each FREE) per unit normal score of a prior

    def entries(self, floor: float = CORRELATION_FLOOR) -> list[tuple[str, str, float]]:
        """(a, b, rho) of the correlations at or above ``floor`` in size, largest first."""
        rows = [(a, b, r) for (a, b), r in self.rho.items() if abs(r) >= floor]
        return sorted(rows, key=lambda row: -abs(row[2]))


def derive(priors=None, spec=None, seed: int = 0) -> HorizonPrior:
    """The horizon-mapping priors' spread and correlations for ``priors`` (default
    data/priors.toml) around ``spec`` (default the baseline); see the module docstring."""
    from scipy.stats import norm

    from ixsim.analysis import backtest as bt
    from ixsim.analysis import observations as obs
    from ixsim.analysis.priors import load_priors
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario
    from ixsim.sim.sources import observations

    priors = load_priors() if priors is None else priors
    spec = load_scenario("baseline") if spec is None else spec
    until = bt.last_observation_year()
    result = simulate(bt.with_end_year(spec, until), seed=seed)
    targets = obs.targets(observations(), spec.meta.start_year, until)
    rows = obs.compare(result, targets, obs.start_input_mask(result, targets))
    counted = [t for t, r in zip(targets, rows) if r.counted]
    evaluate = bt.Evaluator(spec, max(t.year for t in counted), seed)
    centre = {p: bt.scenario_value(spec, p) for p in FREE}

    def z(overrides: dict[str, float]) -> np.ndarray:
        return obs.residuals(evaluate({**centre, **overrides}), counted)

    j_y = np.column_stack([
        (z({p: centre[p] * np.exp(LN_STEP)}) - z({p: centre[p] * np.exp(-LN_STEP)}))
        / (2 * LN_STEP) for p in FREE])
    horizon_rows = np.any(j_y != 0.0, axis=1)
    info = j_y.T @ j_y
    fisher = np.linalg.inv(info)
    fisher_sd = np.sqrt(np.diag(fisher))

    best = obs.fit(evaluate, counted, bt.free_parameters(spec))
    z_best = obs.residuals(evaluate(best.values), counted)
    chi2 = float(np.sum(z_best[horizon_rows] ** 2))
    n_h = int(horizon_rows.sum())
    birge = float(np.sqrt(chi2 / (n_h - len(FREE))))

    others = [i for i, name in enumerate(priors.names) if name not in FREE]
    q_low, q_high = norm.cdf(-NORMAL_SCORE), norm.cdf(NORMAL_SCORE)
    columns, moved = [], []
    for i in others:
        dist, name = priors.dists[i], priors.names[i]
        dz = (z({name: float(dist.ppf(q_high))}) - z({name: float(dist.ppf(q_low))})) / (
            2 * NORMAL_SCORE)
        if np.any(dz != 0.0):
            columns.append(dz)
            moved.append(i)
    j_x = np.column_stack(columns) if columns else np.zeros((len(counted), 0))
    shift = -fisher @ j_y.T @ j_x  # (len(FREE), m)
    c_x = priors.correlation[np.ix_(moved, moved)]
    cov_y = shift @ c_x @ shift.T + birge ** 2 * fisher
    s = np.sqrt(np.diag(cov_y))
    cross = c_x @ shift.T / s  # (m, len(FREE))
    pairs = [(a, b) for a in range(len(FREE)) for b in range(a + 1, len(FREE))]
    rho = {(FREE[a], FREE[b]): float(cov_y[a, b] / (s[a] * s[b])) for a, b in pairs}
    for row, i in enumerate(moved):
        for col, name in enumerate(FREE):
            rho[(priors.names[i], name)] = float(cross[row, col])
    return HorizonPrior(
        centre=centre, n_rows=len(counted), n_horizon_rows=n_h,
        fisher_sd=tuple(float(x) for x in fisher_sd),
        fisher_rho={(FREE[a], FREE[b]): float(fisher[a, b] / (fisher_sd[a] * fisher_sd[b]))
                    for a, b in pairs},
        chi2=chi2, birge=birge, free_fit=dict(best.values),
        s={name: float(x) for name, x in zip(FREE, s)},
        rho=rho,
        shift={priors.names[i]: tuple(float(x) for x in shift[:, k])
               for k, i in enumerate(moved)})


def main() -> None:
    h = derive()
    print(f"counted rows {h.n_rows}, of which METR horizon rows {h.n_horizon_rows}")
    sds = ", ".join(f"{n} {sd:.4f}" for n, sd in zip(FREE, h.fisher_sd))
    print(f"Fisher (intervals alone): sd of ln: {sds}")
    for (a, b), r in h.fisher_rho.items():
        print(f"  Fisher rho {a} ~ {b}: {r:+.3f}")
    print(f"free best fit {h.free_fit}; horizon-row chi2 {h.chi2:.2f}, Birge ratio "
          f"{h.birge:.3f}")
    for name, moves in h.shift.items():
        each = ", ".join(f"ln {n.split('.')[-1]} {x:+.4f}" for n, x in zip(FREE, moves))
        print(f"  shift per normal score of {name}: {each}")
    for name in FREE:
        print(f"{name}: lognorm scale = {h.centre[name]:g}, s = {h.s[name]:.4f}")
    print("\n# [[correlation]] entries for data/priors.toml")
    for a, b, r in h.entries():
        print(f'[[correlation]]\na = "{a}"\nb = "{b}"\nrho = {r:.2f}\n')
    small = [(a, b, r) for (a, b), r in h.rho.items() if abs(r) < CORRELATION_FLOOR]
    for a, b, r in small:
        print(f"# left independent (|rho| < {CORRELATION_FLOOR}): {a} ~ {b}: {r:+.3f}")


if __name__ == "__main__":
    main()
