"""Plain declarations: model sizes and training recipes (no JAX here).

A recipe is everything about *how* a model is trained, apart from its size and data budget:
optimiser, learning-rate schedule, normalisation, activation, initialisation, clipping. The
"old" recipe stands for a circa-2017 setup (Vaswani et al. 2017 architecture with post-LN and
ReLU; Adam at a constant learning rate with no warmup, no clipping, framework-default init).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

NORMS = ("post_ln", "pre_ln", "pre_rms")
ACTIVATIONS = ("relu", "gelu")
INITS = ("naive", "scaled")
OPTIMIZERS = ("adamw", "sgd")


@dataclass(frozen=True)
class ModelSize:
    """Shape of a decoder-only transformer. ``context`` is in tokens (bytes)."""

    n_layers: int
    d_model: int
    n_heads: int
    context: int
    ff_mult: int = 4  # MLP hidden width = ff_mult * d_model (Vaswani et al. 2017)

    @property
    def d_ff(self) -> int:
        return self.ff_mult * self.d_model

    def non_embedding_params(self) -> int:
        """Parameters outside the token and position embeddings (Kaplan et al. 2020's N).

        Counted exactly as ``model.count_params`` does for the Flax module: attention
        q/k/v/out kernels and biases, MLP kernels and biases, two norms per block (LayerNorm
        scale+bias; RMSNorm would have scale only, a difference below 0.2% that we ignore so
        that N does not depend on the recipe) and the final norm.
        """
        d, f = self.d_model, self.d_ff
        attention = 4 * d * d + 4 * d
        mlp = d * f + f + f * d + d
        norms = 2 * 2 * d
        return self.n_layers * (attention + mlp + norms) + 2 * d


@dataclass(frozen=True)
class Recipe:
    """How a model is trained.

    lr: peak learning rate (per step). warmup_frac: share of steps with linear warmup from 0.
    end_lr_frac: final learning rate as a share of the peak after cosine decay (1.0 means a
    constant learning rate). clip: global-norm gradient clipping threshold, None for none.
    """

    name: str
    optimizer: str = "adamw"
    lr: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    warmup_frac: float = 0.0
    end_lr_frac: float = 1.0
    clip: float | None = None
    norm: str = "post_ln"
    activation: str = "relu"
    init: str = "naive"

    def __post_init__(self) -> None:
        for field, allowed in (
            ("norm", NORMS),
            ("activation", ACTIVATIONS),
            ("init", INITS),
            ("optimizer", OPTIMIZERS),
        ):
            if getattr(self, field) not in allowed:
                raise ValueError(f"recipe {self.name}: {field} must be one of {allowed}")

    def to_dict(self) -> dict:
        return asdict(self)


# Adam's defaults from Kingma & Ba 2015 (lr 1e-3, b1 0.9, b2 0.999), constant, no warmup.
OLD_RECIPE = Recipe(name="old_2017")


def improvements() -> list[Recipe]:
    """Single changes to the old recipe, then all of them together.

    Values follow common practice: AdamW with decoupled weight decay 0.1 and b2 0.95
    (GPT-3, Brown et al. 2020); 5% linear warmup then cosine decay to 10% of the peak
    (Chinchilla, Hoffmann et al. 2022); pre-norm RMSNorm (Zhang & Sennrich 2019); GELU;
    residual projections scaled by 1/sqrt(2 n_layers) (GPT-2, Radford et al. 2019);
    global-norm clipping at 1.0.
    """
    old = OLD_RECIPE
    changes = {
        "adamw_wd": dict(weight_decay=0.1, b2=0.95),
        "warmup_cosine": dict(warmup_frac=0.05, end_lr_frac=0.1),
        "pre_rmsnorm": dict(norm="pre_rms"),
        "gelu": dict(activation="gelu"),
        "scaled_init": dict(init="scaled"),
        "grad_clip": dict(clip=1.0),
    }
    recipes = [replace(old, name=name, **kw) for name, kw in changes.items()]
    combined: dict = {}
    for kw in changes.values():
        combined.update(kw)
    recipes.append(replace(old, name="all_combined", **combined))
    return recipes
