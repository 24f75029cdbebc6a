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

    def non_embedding_params(self, norm: str = "pre_rms") -> int:
        """Parameters outside the token and position embeddings (Kaplan et al. 2020's N), as
        the Flax module in model.py has them: attention q/k/v/out kernels and biases, MLP
        kernels and biases, two norms per block and (pre-norm only) a final norm. LayerNorm
        has a scale and a bias per feature, RMSNorm a scale only."""
        d, f = self.d_model, self.d_ff
        attention = 4 * d * d + 4 * d
        mlp = d * f + f + f * d + d
        per_norm = d if norm == "pre_rms" else 2 * d
        final = 0 if norm == "post_ln" else per_norm
        return self.n_layers * (attention + mlp + 2 * per_norm) + final


@dataclass(frozen=True)
class Recipe:
    """How a model is trained. The optimiser is always Adam with decoupled weight decay
    (AdamW, Loshchilov & Hutter 2019); weight_decay 0 makes it plain Adam.

    lr: peak learning rate (per step). warmup_frac: share of steps with linear warmup from 0.
    end_lr_frac: final learning rate as a share of the peak after cosine decay (1.0 means a
    constant learning rate). clip: global-norm gradient clipping threshold, None for none.
    """

    name: str
    lr: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
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
    global-norm clipping at 1.0; a 3x higher peak learning rate (small models train best
    well above Adam's default; measured here: 3e-3 beats 1e-3 on the cpu budget's model).
    """
    old = OLD_RECIPE
    changes = {
        "adamw_wd": dict(weight_decay=0.1, b2=0.95),
        "warmup_cosine": dict(warmup_frac=0.05, end_lr_frac=0.1),
        "pre_rmsnorm": dict(norm="pre_rms"),
        "gelu": dict(activation="gelu"),
        "scaled_init": dict(init="scaled"),
        "grad_clip": dict(clip=1.0),
        "higher_lr": dict(lr=3e-3),
    }
    recipes = [replace(old, name=name, **kw) for name, kw in changes.items()]
    combined: dict = {}
    for kw in changes.values():
        combined.update(kw)
    recipes.append(replace(old, name="all_combined", **combined))
    return recipes


def modern_recipe() -> Recipe:
    """All improvements together: the recipe the scaling experiment (A) trains with."""
    return improvements()[-1]
