"""Training loop: several seeds of one (size, recipe) trained at once with ``jax.vmap``.

Steps run in chunks of ``chunk_steps`` inside one compiled ``lax.scan`` (Python dispatch per
step would dominate for models this small). Numeric hyperparameters (learning rate per step,
Adam betas, weight decay, clipping threshold) are traced inputs, so a recipe search recompiles
only when the architecture changes.

Units: steps; tokens = steps * batch * context (bytes); losses in nats per byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ixsim.training.config import ModelSize, Recipe
from ixsim.training.model import Transformer, count_params

# A clipping threshold no gradient norm reaches: "no clipping" without a separate compile.
NO_CLIP = 1e30
# XLA's RngBitGenerator: programs compile about 25% faster than with threefry on CPU (compiling
# dominates the smoke budget). Runs are deterministic for a given backend, JAX version and
# tuple of seeds; unlike threefry, a seed's stream under vmap depends on the other seeds
# trained alongside it, so "seed 1" of a 3-seed run is not the same model as "seed 1" alone.
RNG_IMPL = "rbg"


@dataclass(frozen=True)
class RunSpec:
    """One training configuration, trained once per seed. ``eval_steps`` must be multiples
    of ``chunk_steps``; the last must equal ``steps``."""

    size: ModelSize
    recipe: Recipe
    steps: int
    batch: int
    seeds: tuple[int, ...]
    eval_steps: tuple[int, ...]
    chunk_steps: int
    dtype: str = "float32"  # compute dtype: "float32" or "bfloat16"

    @property
    def tokens_per_step(self) -> int:
        return self.batch * self.size.context


@dataclass
class TrainingCurves:
    """Validation loss [seed, eval point] at ``eval_steps``; throughput excludes compilation."""

    spec: RunSpec
    val_loss: np.ndarray
    train_loss: np.ndarray  # [seed, chunk] mean training loss per chunk
    non_embedding_params: int
    train_seconds: float
    compile_seconds: float

    @property
    def tokens_per_second(self) -> float:
        """Training tokens per second over all seeds (vmapped seeds count separately)."""
        n = self.spec.steps * self.spec.tokens_per_step * len(self.spec.seeds)
        return n / max(self.train_seconds, 1e-9)

    def train_flop(self, at_step: int | None = None) -> float:
        """Training compute per seed, C = 6 N D (Kaplan et al. 2020), N non-embedding."""
        steps = self.spec.steps if at_step is None else at_step
        return 6.0 * self.non_embedding_params * steps * self.spec.tokens_per_step


def learning_rates(recipe: Recipe, steps: int) -> np.ndarray:
    """Per-step learning rate: linear warmup from 0, cosine decay to ``end_lr_frac`` * peak."""
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=recipe.lr,
        warmup_steps=int(round(recipe.warmup_frac * steps)),
        decay_steps=steps,
        end_value=recipe.lr * recipe.end_lr_frac,
    )
    return np.asarray(jax.vmap(schedule)(jnp.arange(steps)), dtype=np.float32)


def _hyperparameters(recipe: Recipe) -> dict[str, jax.Array]:
    values = {
        "b1": recipe.b1,
        "b2": recipe.b2,
        "weight_decay": recipe.weight_decay,
        "clip": NO_CLIP if recipe.clip is None else recipe.clip,
    }
    return {k: jnp.float32(v) for k, v in values.items()}


def _decay_mask(params):
    """Weight decay on matrices only (kernels, embeddings), not on biases or norm scales."""
    return jax.tree.map(lambda p: p.ndim >= 2, params)


def _optimizer(lr, hp: dict) -> optax.GradientTransformation:
    """Global-norm clipping then AdamW; every argument may be a traced scalar."""
    adamw = optax.adamw(
        learning_rate=lr, b1=hp["b1"], b2=hp["b2"], weight_decay=hp["weight_decay"], mask=_decay_mask
    )
    return optax.chain(optax.clip_by_global_norm(hp["clip"]), adamw)


def _architecture(recipe: Recipe, with_init: bool) -> Recipe:
    """The part of a recipe that changes a compiled program: the architecture (and, for the
    init program, the initialisation scheme). Numeric hyperparameters are traced inputs."""
    return Recipe(name="", norm=recipe.norm, activation=recipe.activation,
                  init=recipe.init if with_init else "naive")


def _model(spec: RunSpec, with_init: bool) -> Transformer:
    dtype = jnp.bfloat16 if spec.dtype == "bfloat16" else jnp.float32
    return Transformer(spec.size, _architecture(spec.recipe, with_init), dtype=dtype)


def _seed_keys(n: int) -> jax.Array:
    return jax.random.split(jax.random.key(0, impl=RNG_IMPL), n)


_COMPILED: dict[tuple, tuple] = {}


def _cached(key: tuple, build: Callable[[], tuple]) -> tuple[tuple, float]:
    """Compiled programs for ``key`` and the seconds spent compiling them now (0 if cached)."""
    if key in _COMPILED:
        return _COMPILED[key], 0.0
    t0 = time.perf_counter()
    _COMPILED[key] = build()
    return _COMPILED[key], time.perf_counter() - t0


def _init_program(spec: RunSpec):
    """vmapped (params, optimiser state) initialisation, one per seed key."""
    model, context = _model(spec, with_init=True), spec.size.context

    def init(key):
        params = model.init(key, jnp.zeros((1, context), jnp.int32))["params"]
        return params, _optimizer(0.0, _hyperparameters(Recipe(name=""))).init(params)

    keys = _seed_keys(len(spec.seeds))
    key = ("init", spec.size, _architecture(spec.recipe, True), len(spec.seeds), spec.dtype)
    (program, shapes), seconds = _cached(
        key, lambda: (jax.jit(jax.vmap(init)).lower(keys).compile(), jax.eval_shape(jax.vmap(init), keys))
    )
    return program, shapes, seconds


def _step_programs(spec: RunSpec, shapes, n_train: int, val_shape: tuple[int, int]):
    """vmapped train-chunk and evaluation programs for the spec's architecture."""
    model, context, batch = _model(spec, with_init=False), spec.size.context, spec.batch

    def loss_fn(params, windows):
        logits = model.apply({"params": params}, windows[:, :-1])
        return optax.softmax_cross_entropy_with_integer_labels(logits, windows[:, 1:]).mean()

    def sample(key, data):
        starts = jax.random.randint(key, (batch,), 0, data.shape[0] - context - 1)
        take = lambda s: jax.lax.dynamic_slice(data, (s,), (context + 1,))  # noqa: E731
        return jax.vmap(take)(starts).astype(jnp.int32)

    def chunk(params, opt_state, data_key, hp, lrs, step0, data):
        def body(carry, xs):
            params, opt_state = carry
            lr, step = xs
            windows = sample(jax.random.fold_in(data_key, step), data)
            loss, grads = jax.value_and_grad(loss_fn)(params, windows)
            updates, opt_state = _optimizer(lr, hp).update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        steps = step0 + jnp.arange(lrs.shape[0])
        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), (lrs, steps))
        return params, opt_state, losses.mean()

    def build():
        params, opt_state = shapes
        sds = jax.ShapeDtypeStruct
        chunk_program = (
            jax.jit(jax.vmap(chunk, in_axes=(0, 0, 0, None, None, None, None)), donate_argnums=(0, 1))
            .lower(params, opt_state, _seed_keys(len(spec.seeds)), _hyperparameters(Recipe(name="")),
                   sds((spec.chunk_steps,), jnp.float32), sds((), jnp.int32), sds((n_train,), jnp.uint8))
            .compile()
        )
        eval_program = (
            jax.jit(jax.vmap(loss_fn, in_axes=(0, None))).lower(params, sds(val_shape, jnp.int32)).compile()
        )
        return chunk_program, eval_program

    key = ("step", spec.size, _architecture(spec.recipe, False), spec.batch, len(spec.seeds),
           spec.chunk_steps, spec.dtype, n_train, val_shape)
    (chunk_program, eval_program), seconds = _cached(key, build)
    return chunk_program, eval_program, seconds


def validation_windows(tokens: np.ndarray, context: int, max_windows: int) -> np.ndarray:
    """Fixed, non-overlapping (context+1)-byte windows spread evenly over the validation split."""
    n_possible = (tokens.size - 1) // context
    n = min(n_possible, max_windows)
    starts = (np.linspace(0, n_possible - 1, n).astype(np.int64)) * context
    return np.stack([tokens[s : s + context + 1] for s in starts]).astype(np.int32)


def train(
    spec: RunSpec,
    train_tokens: jax.Array,
    val_windows: jax.Array,
    progress: Callable[[int], None] | None = None,
) -> TrainingCurves:
    """Train ``len(spec.seeds)`` models at once; evaluate validation loss at ``spec.eval_steps``.

    ``progress(tokens)`` is called after every chunk with the tokens trained in it (all seeds).
    """
    if spec.steps % spec.chunk_steps or any(s % spec.chunk_steps for s in spec.eval_steps):
        raise ValueError("steps and eval_steps must be multiples of chunk_steps")
    if spec.eval_steps[-1] != spec.steps:
        raise ValueError("the last eval step must be the final step")
    init_program, shapes, init_seconds = _init_program(spec)
    chunk_program, eval_program, step_seconds = _step_programs(
        spec, shapes, int(train_tokens.shape[0]), tuple(val_windows.shape)
    )
    seed_keys = jax.vmap(lambda s: jax.random.key(s, impl=RNG_IMPL))(jnp.asarray(spec.seeds, jnp.uint32))
    init_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(seed_keys, 0)
    data_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(seed_keys, 1)
    params, opt_state = init_program(init_keys)
    hp = _hyperparameters(spec.recipe)
    lrs = learning_rates(spec.recipe, spec.steps)
    n_params = count_params(jax.tree.map(lambda p: p[0], params))[1]

    val_losses, train_losses = [], []
    train_seconds = 0.0
    eval_at = set(spec.eval_steps)
    tokens_per_chunk = spec.chunk_steps * spec.tokens_per_step * len(spec.seeds)
    for step0 in range(0, spec.steps, spec.chunk_steps):
        t0 = time.perf_counter()
        params, opt_state, loss = chunk_program(
            params, opt_state, data_keys, hp, jnp.asarray(lrs[step0 : step0 + spec.chunk_steps]),
            jnp.int32(step0), train_tokens,
        )
        train_losses.append(np.asarray(loss))
        train_seconds += time.perf_counter() - t0
        if step0 + spec.chunk_steps in eval_at:
            val_losses.append(np.asarray(eval_program(params, val_windows)))
        if progress is not None:
            progress(tokens_per_chunk)
    return TrainingCurves(
        spec=spec,
        val_loss=np.stack(val_losses, axis=1).astype(np.float64),
        train_loss=np.stack(train_losses, axis=1).astype(np.float64),
        non_embedding_params=n_params,
        train_seconds=train_seconds,
        compile_seconds=init_seconds + step_seconds,
    )
