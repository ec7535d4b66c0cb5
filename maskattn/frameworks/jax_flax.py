"""JAX and Flax: both ``where`` the mask in, with different constants and softmax precision.

``jax.nn.dot_product_attention`` computes the logits in float32 (float64 stays float64),
fills blocked ones with ``-0.7 * finfo(float32).max`` (capped at the float32 range even
for float64) and always runs the softmax in float32. XLA on CPU flushes subnormals to 0. Flax's
``dot_product_attention_weights`` fills with ``finfo(dtype).min`` and runs
``jax.nn.softmax`` in the dtype. A fully masked row is uniform in both.

>>> JAX.constant_text("float16"), FLAX.constant_text("float16")
('-2.3819763e38 (float32)', '-65504 (float16)')
"""

from __future__ import annotations

from .. import numerics as nx
from ._framework import (ATTEND_BOOL, Framework, expressions, fill, flush_subnormals, softmax_steps, softmax_wide,
                         wide)


def _jax_negative(dtype):
    # jax/_src/nn/functions.py: _get_large_negative(logits.dtype), capped at float32's max
    return -0.7 * float(nx.finfo("float32").max), wide(dtype)


def _jax(x, blocked, dtype, fw):
    # logits in promote(dtype, float32); where(mask, logits, large_negative); softmax in float32; cast back
    # XLA on CPU flushes subnormal results to zero
    scores = fill(blocked, x, fw.constant(dtype)[0], wide(dtype))
    weights = flush_subnormals(softmax_wide(nx.cast(scores, "float32"), "float32"), "float32")
    return weights.astype(nx.resolve_dtype(dtype))


def _flax(x, blocked, dtype, fw):
    # attn_weights = jnp.where(mask, attn_weights, jnp.finfo(dtype).min); jax.nn.softmax(...).astype(dtype)
    # XLA computes 16-bit elementwise ops in float32 and flushes float32 subnormals
    return flush_subnormals(softmax_steps(fill(blocked, x, fw.constant(dtype)[0], dtype), dtype), wide(dtype))


JAX_EXPRESSIONS = expressions(
    window="jax.nn.dot_product_attention(..., is_causal=True, local_window_size=(reach, 0)): it counts the "
           "distance back (query_pos <= key_pos + reach), so a window of w keys is reach = w - 1",
    document="mask=seg[:, None, :, None] == seg[:, None, None, :]: bool (B, 1, T, S), True = attend",
    prefix="mask=(kv <= q) | (kv < p) with is_causal=False (is_causal would close the prefix); a window then "
           "keeps its right side open: local_window_size=(reach, T - 1)",
    drawn="mask=any bool array broadcastable to (B, N, T, S), True = attend",
    short=("local_window_size", "bool mask", "bool mask", "bool mask"),
    native=("window",),
)
FLAX_EXPRESSIONS = expressions(
    window="nn.make_attention_mask(pos, pos, lambda q, k: q - k <= reach) with nn.make_causal_mask(ids), "
           "combined by nn.combine_masks (logical and)",
    document="nn.make_attention_mask(segment_ids, segment_ids, pairwise_fn=jnp.equal): (B, 1, T, T)",
    prefix="nn.make_attention_mask(pos, pos, lambda q, k: (k <= q) | (k < p)) instead of nn.make_causal_mask",
    drawn="mask=any bool (B, H, Tq, Tk) array, True = attend, combined by nn.combine_masks",
    short=("make_attention_mask", "make_attention_mask", "make_attention_mask", "bool mask"),
    native=("document",),
)

JAX = Framework(
    key="jax", library="JAX 0.10.2", api="jax.nn.dot_product_attention(q, k, v, mask=attend)",
    path="nn.dot_product_attention", default=True,
    how_to_get="implementation=None (the XLA path on CPU)",
    convention=ATTEND_BOOL, applies="fill", constant=_jax_negative,
    softmax="always float32, cast back to the dtype (float64 too)",
    source="jax/_src/nn/functions.py (_dot_product_attention_core)", model=_jax,
    expressions=JAX_EXPRESSIONS, window_setting=lambda reach: (reach, 0), window_parameter="local_window_size",
)
FLAX = Framework(
    key="flax", library="Flax 0.12.8", api="flax.linen.dot_product_attention(q, k, v, mask=attend)",
    path="linen attention", default=True,
    how_to_get="nn.MultiHeadDotProductAttention / nn.dot_product_attention (force_fp32_for_softmax=False)",
    convention=ATTEND_BOOL, applies="fill", constant=lambda dtype: (float(nx.finfo(dtype).min), dtype),
    softmax="jax.nn.softmax in the dtype, step by step",
    source="flax/linen/attention.py (dot_product_attention_weights)", model=_flax, expressions=FLAX_EXPRESSIONS,
)
ENTRIES = (JAX, FLAX)
