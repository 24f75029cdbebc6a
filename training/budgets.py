"""Compute budgets for ``ixsim calibrate``: what is trained, how long, on what data.

All three budgets share the experiment design; they differ in sizes and lengths.
``smoke`` (tests; about 30 s on 2 CPU cores), ``cpu`` (about 10 minutes on 2 CPU cores;
the committed calibration), ``gpu`` (estimated 4-6 minutes on one H100, not yet timed).
Step counts are multiples of ``chunk_steps`` (train.RunSpec requires it). The names are
``ixsim.sim.measured.BUDGET_NAMES`` (the calibration file's ``provenance.budget``), in order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ixsim.sim.measured import BUDGET_NAMES
from ixsim.training.config import ModelSize


@dataclass(frozen=True)
class Budget:
    """corpus_bytes: bytes of stdlib source used (train + validation).
    batch: sequences per step, each ``context`` bytes. eval_windows: validation sequences.
    scaling_sizes x scaling_steps: the (N, D) grid of experiment A.
    recipe_size, recipe_seeds, recipe_steps: the model, seeds and the reference length R
    (steps) at which recipes are compared in experiments B and C; the old recipe is trained
    to ``old_curve_factor`` * R. search_trials: Optuna trials in experiment C (a power of 2).
    bootstrap: bootstrap replicates for every interval. dtype: compute dtype.
    """

    name: str
    corpus_bytes: int
    context: int
    batch: int
    chunk_steps: int
    eval_windows: int
    scaling_sizes: tuple[ModelSize, ...]
    scaling_steps: tuple[int, ...]
    recipe_size: ModelSize
    recipe_seeds: int
    recipe_steps: int
    old_curve_factor: int
    improvements: tuple[str, ...] | None  # None: all of config.improvements()
    search_trials: int
    search_startup_trials: int  # random trials before TPE models the results
    bootstrap: int
    dtype: str = "float32"
    validation_fraction: float = 0.1  # last 10% of the corpus bytes
    corpus_min_bytes: int | None = None  # accept a smaller stdlib down to this (None: no)

    def to_dict(self) -> dict:
        return asdict(self)


def _sizes(context: int, *shapes: tuple[int, int, int]) -> tuple[ModelSize, ...]:
    """(n_layers, d_model, n_heads) triples -> ModelSize with a shared context."""
    return tuple(ModelSize(n_layers=l, d_model=d, n_heads=h, context=context) for l, d, h in shapes)


BUDGETS: dict[str, Budget] = {
    "smoke": Budget(
        name="smoke",
        corpus_bytes=262_144,  # 256 KiB
        context=64,
        batch=8,
        chunk_steps=20,
        eval_windows=32,
        scaling_sizes=_sizes(64, (1, 16, 2), (1, 32, 2), (2, 32, 2)),
        scaling_steps=(40, 80),
        recipe_size=ModelSize(n_layers=1, d_model=32, n_heads=2, context=64),
        recipe_seeds=2,
        recipe_steps=40,
        old_curve_factor=4,
        improvements=("warmup_cosine", "higher_lr", "all_combined"),
        search_trials=4,
        search_startup_trials=2,
        bootstrap=50,
    ),
    "cpu": Budget(
        name="cpu",
        corpus_bytes=4_000_000,
        context=128,
        batch=16,
        chunk_steps=50,
        eval_windows=64,
        scaling_sizes=_sizes(128, (1, 32, 2), (2, 32, 2), (2, 48, 4), (2, 64, 4), (3, 96, 4)),
        scaling_steps=(100, 200, 400, 800),
        recipe_size=ModelSize(n_layers=2, d_model=48, n_heads=4, context=128),
        recipe_seeds=3,
        recipe_steps=200,
        old_curve_factor=8,
        improvements=None,
        search_trials=16,
        search_startup_trials=4,
        bootstrap=200,
    ),
    "gpu": Budget(
        name="gpu",
        # 24 MB needs the stdlib's test suite; a stdlib without it (some Linux distributions
        # strip it; about 11 MB remain) is used whole, down to 8 MB.
        corpus_bytes=24_000_000,
        corpus_min_bytes=8_000_000,
        context=256,
        batch=64,
        chunk_steps=100,
        eval_windows=256,
        # non-embedding N about 0.4M, 1.3M, 3.2M, 7.4M, 14M
        scaling_sizes=_sizes(256, (2, 128, 4), (3, 192, 6), (4, 256, 8), (6, 320, 8), (8, 384, 8)),
        scaling_steps=(400, 800, 1600),  # D = 6.6M, 13M, 26M tokens
        recipe_size=ModelSize(n_layers=3, d_model=192, n_heads=6, context=256),
        recipe_seeds=3,
        recipe_steps=300,
        old_curve_factor=8,
        improvements=None,
        search_trials=16,
        search_startup_trials=4,
        bootstrap=200,
        dtype="bfloat16",
    ),
}

if tuple(BUDGETS) != BUDGET_NAMES:  # one list of names: the calibration file's validator's
    raise RuntimeError(f"training budgets {tuple(BUDGETS)} differ from "
                       f"ixsim.sim.measured.BUDGET_NAMES {BUDGET_NAMES}")
