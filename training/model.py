"""A small decoder-only transformer language model (Flax linen).

Byte tokens in, next-byte logits out; token embedding tied to the output layer; learned
position embeddings. The recipe picks the normalisation placement (post-LN as in Vaswani et al.
2017, or pre-LN / pre-RMSNorm with a final norm), the MLP activation and the initialisation.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from ixsim.training.config import ModelSize, Recipe
from ixsim.training.corpus import VOCAB_SIZE


def _norm(kind: str, dtype) -> nn.Module:
    if kind == "pre_rms":
        return nn.RMSNorm(dtype=dtype)
    return nn.LayerNorm(dtype=dtype)


class Block(nn.Module):
    """One transformer block: causal self-attention then an MLP, each with a residual."""

    size: ModelSize
    norm: str
    activation: str
    residual_init: nn.initializers.Initializer
    dtype: jnp.dtype

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        attention = nn.MultiHeadDotProductAttention(
            num_heads=self.size.n_heads,
            out_kernel_init=self.residual_init,
            dtype=self.dtype,
            name="attention",
        )
        act = nn.gelu if self.activation == "gelu" else nn.relu

        def mlp(h: jax.Array) -> jax.Array:
            h = nn.Dense(self.size.d_ff, dtype=self.dtype, name="mlp_in")(h)
            return nn.Dense(
                self.size.d_model, kernel_init=self.residual_init, dtype=self.dtype, name="mlp_out"
            )(act(h))

        norm_1, norm_2 = _norm(self.norm, self.dtype), _norm(self.norm, self.dtype)
        if self.norm == "post_ln":
            x = norm_1(x + attention(x, mask=mask))
            return norm_2(x + mlp(x))
        h = norm_1(x)
        x = x + attention(h, mask=mask)
        return x + mlp(norm_2(x))


class Transformer(nn.Module):
    """Decoder-only LM. ``__call__(tokens[batch, time]) -> logits[batch, time, 256]`` (float32)."""

    size: ModelSize
    recipe: Recipe
    dtype: jnp.dtype = jnp.float32  # compute dtype; parameters stay float32

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        size, recipe = self.size, self.recipe
        if recipe.init == "scaled":
            # GPT-2 (Radford et al. 2019, sec. 2.3): residual-branch output projections scaled
            # by 1/sqrt(number of residual layers), i.e. LeCun-normal variance / (2 n_layers).
            residual_init = nn.initializers.variance_scaling(
                1.0 / (2 * size.n_layers), "fan_in", "truncated_normal"
            )
        else:  # framework defaults everywhere (LeCun normal)
            residual_init = nn.initializers.lecun_normal()
        # Flax's default embedding init (std 1/sqrt(d_model)) for tokens and positions.
        embed_init = nn.initializers.variance_scaling(1.0, "fan_in", "normal", out_axis=0)
        embed = nn.Embed(VOCAB_SIZE, size.d_model, embedding_init=embed_init, name="embed")
        positions = self.param("positions", embed_init, (size.context, size.d_model))
        time = tokens.shape[-1]
        x = (embed(tokens) + positions[:time]).astype(self.dtype)
        mask = nn.make_causal_mask(tokens)
        for i in range(size.n_layers):
            x = Block(size, recipe.norm, recipe.activation, residual_init, self.dtype, name=f"block_{i}")(
                x, mask
            )
        if recipe.norm != "post_ln":
            x = _norm(recipe.norm, self.dtype)(x)
        return embed.attend(x).astype(jnp.float32)


def count_params(params) -> tuple[int, int]:
    """(total, non-embedding) parameter counts; non-embedding excludes token+position tables."""
    total = sum(int(p.size) for p in jax.tree.leaves(params))
    embedding = int(params["embed"]["embedding"].size) + int(params["positions"].size)
    return total, total - embedding
