"""The three calibration experiments.

A (scaling): train a grid of model sizes N x data budgets D with the modern recipe and fit
  L(N, D) = E + A/N^alpha + B/D^beta.
B (recipes): train the old (2017-style) recipe to ``old_curve_factor`` times the reference
  length and evaluate it along the way (its loss-vs-compute curve), then each improvement at
  the reference length; gain = compute the old recipe needs for the improved loss / compute
  the improved recipe used.
C (search): an Optuna TPE search over recipes at the reference length, starting from the old
  recipe; after 1, 2, 4, ... trials the best recipe's gain (measured as in B) is the
  efficiency reached; r is the slope of log2(efficiency) on log2(research compute).

Compute is training FLOP C = 6 N D (N non-embedding parameters, D tokens). Losses are
validation nats per byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from rich.progress import Progress, TaskID

from ixsim.sim.sources import calibration_row, published, published_interval
from ixsim.training import fits
from ixsim.training.budgets import Budget
from ixsim.training.config import OLD_RECIPE, Recipe, improvements, modern_recipe
from ixsim.training.corpus import VOCAB_SIZE, Corpus, load_corpus
from ixsim.training.train import TrainingCurves, RunSpec, train, validation_windows

# Loss reported to the search for a diverged run: a uniform guess over 256 bytes, ln 256.
DIVERGED_LOSS = math.log(VOCAB_SIZE)
# Published values the measurements are compared with: CAL rows read from data/calibration.toml.
_LAW = ("E", "A", "B", "alpha", "beta")
PUBLISHED_SCALING = {
    "CAL-6a": {**{k: published("6a", k) for k in _LAW}, "units": "nats per token",
               "source": calibration_row("6a").source},
    "CAL-6b": {**{k: published("6b", k) for k in _LAW}, "units": "nats per token",
               "source": calibration_row("6b").source},
    "CAL-6c": {"N_opt_exponent": published("6c", "N_opt_exponent"),
               "source": calibration_row("6c").source},
}


def _published_returns(row_id: str, quantity: str, stem: str) -> dict[str, float | str]:
    """A returns-to-R&D row as measured.json records it: value, low, high, interval, source."""
    value, low, high = published_interval(row_id, stem)
    row = calibration_row(row_id)
    return {"quantity": quantity, "value": value, "low": low, "high": high,
            "interval": row.interval or "", "source": row.source}


PUBLISHED_RETURNS = {
    "CAL-7a": _published_returns("7a", "returns to software R&D r, computer vision",
                                 "computer_vision"),
    "CAL-7b": _published_returns(
        "7b", "returns to software R&D r, software intelligence explosion model", "r"),
}


@dataclass
class Session:
    """Shared state of one calibration: budget, data on device, progress, totals."""

    budget: Budget
    seed: int
    corpus: Corpus
    train_tokens: jax.Array
    val_windows: jax.Array
    progress: Progress | None
    rng: np.random.Generator
    tokens: int = 0
    train_seconds: float = 0.0
    compile_seconds: float = 0.0
    per_experiment: dict = field(default_factory=dict)

    @property
    def recipe_seeds(self) -> tuple[int, ...]:
        return tuple(self.seed + i for i in range(self.budget.recipe_seeds))

    def spec(self, size, recipe: Recipe, steps: int, seeds, eval_steps) -> RunSpec:
        b = self.budget
        return RunSpec(size=size, recipe=recipe, steps=steps, batch=b.batch, seeds=tuple(seeds),
                       eval_steps=tuple(eval_steps), chunk_steps=b.chunk_steps, dtype=b.dtype)

    def task(self, description: str, total_tokens: int) -> TaskID | None:
        if self.progress is None:
            return None
        return self.progress.add_task(description, total=total_tokens)

    def run(self, spec: RunSpec, task: TaskID | None, experiment: str) -> TrainingCurves:
        """Train one spec (all its seeds), count its tokens and time, print one log line."""
        advance = None
        if self.progress is not None and task is not None:
            advance = lambda n: self.progress.advance(task, n)  # noqa: E731
        result = train(spec, self.train_tokens, self.val_windows, progress=advance)
        tokens = spec.steps * spec.tokens_per_step * len(spec.seeds)
        self.tokens += tokens
        self.train_seconds += result.train_seconds
        self.compile_seconds += result.compile_seconds
        stats = self.per_experiment.setdefault(experiment, {"tokens": 0, "train_seconds": 0.0,
                                                            "compile_seconds": 0.0})
        stats["tokens"] += tokens
        stats["train_seconds"] += result.train_seconds
        stats["compile_seconds"] += result.compile_seconds
        if self.progress is not None:
            size = spec.size
            self.progress.console.print(
                f"{experiment}: {spec.recipe.name or 'recipe'} L{size.n_layers} d{size.d_model} "
                f"N={result.non_embedding_params:,} steps={spec.steps} seeds={len(spec.seeds)}: "
                f"val loss {np.nanmean(result.val_loss[:, -1]):.3f}, {result.train_seconds:.1f} s "
                f"(+{result.compile_seconds:.1f} s compile), {result.tokens_per_second:,.0f} tok/s",
                highlight=False,
                soft_wrap=True,
            )
        return result


def open_session(budget: Budget, seed: int, progress: Progress | None) -> Session:
    corpus = load_corpus(budget.corpus_bytes, budget.validation_fraction, min_bytes=budget.corpus_min_bytes)
    windows = validation_windows(corpus.validation, budget.context, budget.eval_windows)
    return Session(budget=budget, seed=seed, corpus=corpus, train_tokens=jnp.asarray(corpus.train),
                   val_windows=jnp.asarray(windows), progress=progress, rng=np.random.default_rng(seed))


# --- A: scaling ----------------------------------------------------------------------------


def scaling_experiment(s: Session) -> dict:
    b, recipe = s.budget, modern_recipe()
    tokens_per_step = b.batch * b.context
    task = s.task("A scaling", len(b.scaling_sizes) * sum(b.scaling_steps) * tokens_per_step)
    points = []
    for size in b.scaling_sizes:
        for steps in b.scaling_steps:
            r = s.run(s.spec(size, recipe, steps, (s.seed,), (steps,)), task, "scaling")
            points.append({"n_layers": size.n_layers, "d_model": size.d_model, "N": r.non_embedding_params,
                           "D": steps * tokens_per_step, "C": r.train_flop(), "loss": float(r.val_loss[0, -1])})
    usable = [p for p in points if math.isfinite(p["loss"])]
    n, d, loss = (np.array([p[k] for p in usable], float) for k in ("N", "D", "loss"))
    fit = fits.fit_scaling_law(n, d, loss)
    boot = fits.bootstrap_scaling_law(n, d, loss, fit, b.bootstrap, s.rng)
    return {
        "units": "validation nats per byte; N non-embedding parameters; D training tokens (bytes)",
        "method": "Huber (delta 1e-3) on log L, L-BFGS-B from a grid of starts (Besiroglu et al. 2024); "
                  "95% percentile intervals from bootstrap resampling of points",
        **{k: fits.estimate(getattr(fit, k), boot[k]) for k in ("E", "A", "B", "alpha", "beta")},
        "allocation": {
            "a": fits.estimate(fit.allocation_a, boot["a"]),
            "b": fits.estimate(fit.allocation_b, boot["b"]),
            "definition": "N_opt ~ C^a, D_opt ~ C^b under C = 6 N D; a = beta/(alpha+beta), b = alpha/(alpha+beta)",
        },
        "at_bounds": list(fit.at_bounds),
        "recipe": recipe.to_dict(),
        "points": points,
        "published": PUBLISHED_SCALING,
    }


# --- B: recipe improvements ----------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The old recipe's loss-vs-compute curve: FLOP per seed [points], loss [seeds, points]."""

    flop: np.ndarray
    loss: np.ndarray
    steps: tuple[int, ...]


def _curve_steps(ref_steps: int, factor: int, chunk: int) -> tuple[int, ...]:
    """Evaluation steps for the old recipe: every half-doubling from R/4 to factor * R."""
    quarter_doublings = range(-4, 2 * int(round(math.log2(factor))) + 1)  # R/4 = 2^(-4/2) R
    steps = {max(chunk, int(round(ref_steps * 2 ** (k / 2) / chunk)) * chunk) for k in quarter_doublings}
    return tuple(sorted(steps | {ref_steps, factor * ref_steps}))


def gain_estimate(name: str, baseline: Baseline, losses: np.ndarray, flop: float, s: Session) -> dict:
    """{name, gain, low, high, extrapolated, ...} of one recipe's seed losses at ``flop``."""
    g = fits.compute_equivalent_gain(baseline.flop, baseline.loss, losses, flop)
    boot = fits.bootstrap_gain(baseline.flop, baseline.loss, losses, flop, s.budget.bootstrap, s.rng)
    low, high = fits.interval(boot)
    return {"name": name, "gain": g.gain, "low": low, "high": high, "extrapolated": g.extrapolated,
            "val_loss_by_seed": [float(x) for x in losses], "train_flop": flop}


def recipe_experiment(s: Session) -> tuple[list[dict], dict, Baseline]:
    """Returns (recipe_gains, description of the old-recipe curve, the curve)."""
    b = s.budget
    chosen = [r for r in improvements() if b.improvements is None or r.name in b.improvements]
    ref, long_steps = b.recipe_steps, b.recipe_steps * b.old_curve_factor
    tokens_per_step = b.batch * b.context
    task = s.task("B recipes", (long_steps + len(chosen) * ref) * tokens_per_step * b.recipe_seeds)
    curve_steps = _curve_steps(ref, b.old_curve_factor, b.chunk_steps)
    old = s.run(s.spec(b.recipe_size, OLD_RECIPE, long_steps, s.recipe_seeds, curve_steps), task, "recipes")
    baseline = Baseline(flop=np.array([old.train_flop(k) for k in curve_steps]), loss=old.val_loss,
                        steps=curve_steps)
    gains = []
    for recipe in chosen:
        r = s.run(s.spec(b.recipe_size, recipe, ref, s.recipe_seeds, (ref,)), task, "recipes")
        entry = gain_estimate(recipe.name, baseline, r.val_loss[:, -1], r.train_flop(), s)
        gains.append({**entry, "recipe": recipe.to_dict()})
    description = {
        "old_recipe": OLD_RECIPE.to_dict(),
        "model": {"n_layers": b.recipe_size.n_layers, "d_model": b.recipe_size.d_model,
                  "n_heads": b.recipe_size.n_heads, "context": b.recipe_size.context,
                  "N": old.non_embedding_params},
        "seeds": list(s.recipe_seeds),
        "reference_steps": ref,
        "reference_flop": old.train_flop(ref),
        "old_curve": {"steps": list(curve_steps), "flop": baseline.flop.tolist(),
                      "val_loss_by_seed": old.val_loss.tolist()},
        "method": "gain = FLOP the old recipe needs to reach the improved recipe's mean validation loss "
                  "(running-minimum curve, log-log interpolation; power-law extrapolation past its ends, "
                  "flagged in 'extrapolated') / FLOP the improved recipe used; 95% intervals from "
                  "bootstrap resampling of both recipes' seeds",
    }
    return gains, description, baseline


# --- C: automated recipe search -----------------------------------------------------------


def _architectures(recipes: list[Recipe]) -> list[str]:
    """Architectures the search may pick: those experiment B compiled (no new compiles)."""
    return sorted({f"{r.norm}+{r.activation}" for r in [OLD_RECIPE, *recipes]})


def recipe_from_trial(trial, architectures: list[str]) -> Recipe:
    """The search space. Ranges bracket common practice; the old recipe lies inside it."""
    norm, activation = trial.suggest_categorical("architecture", architectures).split("+")
    return Recipe(
        name=f"trial_{trial.number}",
        lr=trial.suggest_float("lr", 1e-4, 3e-2, log=True),
        b2=trial.suggest_float("b2", 0.9, 0.999),
        weight_decay=trial.suggest_float("weight_decay", 0.0, 0.3),
        warmup_frac=trial.suggest_float("warmup_frac", 0.0, 0.2),
        end_lr_frac=trial.suggest_float("end_lr_frac", 0.0, 1.0),
        clip=trial.suggest_categorical("clip", [None, 0.5, 1.0, 2.0]),
        norm=norm,
        activation=activation,
        init=trial.suggest_categorical("init", ["naive", "scaled"]),
    )


def _old_recipe_params() -> dict:
    o = OLD_RECIPE
    return {"architecture": f"{o.norm}+{o.activation}", "lr": o.lr, "b2": o.b2, "weight_decay": o.weight_decay,
            "warmup_frac": o.warmup_frac, "end_lr_frac": o.end_lr_frac, "clip": o.clip, "init": o.init}


def search_experiment(s: Session, baseline: Baseline) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    b = s.budget
    chosen = [r for r in improvements() if b.improvements is None or r.name in b.improvements]
    architectures = _architectures(chosen)
    task = s.task("C search", b.search_trials * b.recipe_steps * b.batch * b.context * b.recipe_seeds)
    sampler = optuna.samplers.TPESampler(seed=s.seed, n_startup_trials=b.search_startup_trials)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.enqueue_trial(_old_recipe_params())  # research starts from the old recipe
    losses: list[np.ndarray] = []
    flops: list[float] = []

    def objective(trial) -> float:
        recipe = recipe_from_trial(trial, architectures)
        r = s.run(s.spec(b.recipe_size, recipe, b.recipe_steps, s.recipe_seeds, (b.recipe_steps,)), task, "search")
        losses.append(r.val_loss[:, -1])
        flops.append(r.train_flop())
        mean = float(np.mean(losses[-1]))
        return mean if math.isfinite(mean) else DIVERGED_LOSS

    study.optimize(objective, n_trials=b.search_trials)
    trials = [{"number": t.number, "params": t.params, "val_loss_mean": t.value,
               "val_loss_by_seed": [float(x) for x in losses[t.number]]} for t in study.trials]
    return returns_from_trials(s, baseline, losses, flops, trials)


def returns_from_trials(s: Session, baseline: Baseline, losses: list[np.ndarray], flops: list[float],
                        trials: list[dict]) -> dict:
    """Efficiency after each doubling of research compute and the fitted r."""
    seeds = len(losses[0])
    means = np.array([np.mean(x) if np.all(np.isfinite(x)) else np.inf for x in losses])
    counts = [2**k for k in range(int(math.log2(len(losses))) + 1)]
    points, best = [], []
    for n in counts:
        i = int(np.argmin(means[:n]))
        best.append(i)
        entry = gain_estimate(f"best_of_{n}", baseline, losses[i], flops[i], s)
        points.append({"trials": n, "research_flop": float(sum(flops[:n]) * seeds), "best_trial": i,
                       "efficiency": entry["gain"], "low": entry["low"], "high": entry["high"],
                       "extrapolated": entry["extrapolated"]})
    research = np.array([p["research_flop"] for p in points])
    efficiency = np.array([p["efficiency"] for p in points])
    r = fits.returns_slope(research, efficiency)

    def resampled_efficiency(rng: np.random.Generator) -> np.ndarray:
        ref = baseline.loss[rng.integers(0, baseline.loss.shape[0], baseline.loss.shape[0])]
        return np.array([
            fits.compute_equivalent_gain(baseline.flop, ref, losses[i][rng.integers(0, seeds, seeds)], flops[i]).gain
            for i in best
        ])

    boot = fits.bootstrap_returns(research, resampled_efficiency, s.budget.bootstrap, s.rng)
    low, high = fits.interval(boot)
    published = ", ".join(f"{k} {v['value']} ({v['low']}-{v['high']})" for k, v in PUBLISHED_RETURNS.items())
    return {
        "value": r,
        "low": low,
        "high": high,
        "definition": "doublings of efficiency (compute-equivalent gain of the best recipe found over the "
                      "old recipe) per doubling of cumulative research compute (search trials x training FLOP)",
        "method": "OLS slope of log2(efficiency) on log2(research FLOP) at 1, 2, 4, ... trials; 95% interval "
                  "from bootstrap resampling of training seeds and of the points",
        "caveat": "a finite search space saturates, so r measured over a few doublings falls as the search "
                  "converges; published r refers to decades of open-ended research",
        "points": points,
        "trials": trials,
        "published": PUBLISHED_RETURNS,
        "comparison": f"measured r {r:.2f} ({low:.2f}-{high:.2f}) vs published {published}",
    }
